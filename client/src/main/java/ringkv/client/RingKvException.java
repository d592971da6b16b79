package ringkv.client;

/**
 * An operation failed for an operating reason the client could not resolve by retrying within
 * the operation's deadline: the server refused the request (400, 413, ...), kept answering
 * 500 "View change in progress" or 503 until the deadline, or no node could be reached.
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
    PROTOCOL
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
