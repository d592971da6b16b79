package ringkv.tools;

/**
 * What {@code ./kvs} exits with: scripts branch on these, so they are part of the CLI's contract
 * (README "CLI") and never change meaning.
 */
public enum ExitCode {
  /** The command did what it was asked. */
  OK(0),
  /** A node answered and refused: a 4xx such as not found, bad request, not enough nodes. */
  REFUSED(1),
  /** Bad arguments, or a local file the command needs (CA, session) is missing or unreadable. */
  USAGE(2),
  /** No answer: connection refused, timed out, or the TLS handshake failed. */
  UNREACHABLE(3),
  /** The node wants a token (401) or refused the one given (403). */
  UNAUTHORIZED(4),
  /** A node answered with a 5xx: it could not serve now (view change, no replica, aborted). */
  UNAVAILABLE(5),
  /** A bug in the CLI itself (sysexits' EX_SOFTWARE); the stack trace is printed. */
  INTERNAL(70);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  /** The process's exit status. */
  public int code() {
    return code;
  }

  /** The exit code for an HTTP error status a node answered with. */
  public static ExitCode forStatus(int status) {
    if (status == 401 || status == 403) {
      return UNAUTHORIZED;
    }
    return status >= 500 ? UNAVAILABLE : REFUSED;
  }
}
