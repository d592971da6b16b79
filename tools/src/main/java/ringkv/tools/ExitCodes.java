package ringkv.tools;

/**
 * What {@code ./kvs} exits with: scripts branch on these, so they are part of the CLI's contract
 * (README "CLI") and never change meaning.
 */
public final class ExitCodes {
  /** The command did what it was asked. */
  public static final int OK = 0;
  /** A node answered and refused: a 4xx such as not found, bad request, not enough nodes. */
  public static final int REFUSED = 1;
  /** Bad arguments, or a local file the command needs (CA, session) is missing or unreadable. */
  public static final int USAGE = 2;
  /** No answer: connection refused, timed out, or the TLS handshake failed. */
  public static final int UNREACHABLE = 3;
  /** The node wants a token (401) or refused the one given (403). */
  public static final int UNAUTHORIZED = 4;
  /** A node answered with a 5xx: it could not serve now (view change, no replica, aborted). */
  public static final int UNAVAILABLE = 5;

  /** A bug in the CLI itself (sysexits' EX_SOFTWARE); the stack trace is printed. */
  public static final int INTERNAL = 70;

  private ExitCodes() {}

  /** The exit code for an HTTP error status a node answered with. */
  public static int forStatus(int status) {
    if (status == 401 || status == 403) {
      return UNAUTHORIZED;
    }
    return status >= 500 ? UNAVAILABLE : REFUSED;
  }
}
