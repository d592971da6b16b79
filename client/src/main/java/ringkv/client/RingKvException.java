package ringkv.client;

/**
 * An operation failed for an operating reason the client could not resolve by retrying within
 * the operation's deadline: the server refused the request (400, 413, ...; 401 is
 * {@link Kind#UNAUTHORIZED}), kept answering 500 "View change in progress" or 503 until the
 * deadline, no node could be reached, or TLS failed ({@link Kind#TLS}).
 * Programmer errors (a null key, a value that is not JSON) throw
 * {@link IllegalArgumentException} instead.
 *
 * <p>Immutable; thread-safe.
 */
public final class RingKvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed. */
  public enum Kind {
    /** The server answered with an error status; see {@link #status()} and {@link #error()}. */
    HTTP,
    /** An attempt timed out, and no later one succeeded before the deadline. */
    TIMEOUT,
    /** No node could be reached (connection refused or reset). */
    UNREACHABLE,
    /** The client already had its maximum of requests in flight. */
    OVERLOADED,
    /** The server's answer was not what the shard dialect specifies. */
    PROTOCOL,
    /**
     * The node answered 401: the client sent no bearer token, or not one the node accepts
     * ({@link RingKvClient.Builder#token}). Not retried.
     */
    UNAUTHORIZED,
    /**
     * TLS cannot work with the node as configured: its certificate is not signed by a CA the
     * client trusts or does not name its address, it wants a client certificate the client
     * does not have (or does not accept it), or one side does not speak TLS. Not retried; see
     * {@link #getCause()} for the {@link javax.net.ssl.SSLException}.
     */
    TLS
  }

  private final Kind kind;
  private final int status;
  private final String error;
  private final String node;

  RingKvException(Kind kind, int status, String error, String node, String message,
      Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.status = status;
    this.error = error;
    this.node = node;
  }

  public Kind kind() {
    return kind;
  }

  /** HTTP status of the last answer, or 0 if there was none. */
  public int status() {
    return status;
  }

  /** The server's {@code "error"} field, or the kind of failure when there was no answer. */
  public String error() {
    return error;
  }

  /** The node of the last attempt, or null if none was made. */
  public String node() {
    return node;
  }

  /** A short label for counting failures: the status, or the kind when there was no answer. */
  public String label() {
    return kind == Kind.HTTP ? Integer.toString(status) : kind.name().toLowerCase();
  }
}
