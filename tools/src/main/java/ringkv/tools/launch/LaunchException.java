package ringkv.tools.launch;

/** A node did not start, did not become ready, or did not stop; the message says which. */
public final class LaunchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LaunchException(String message, Throwable cause) {
    super(message, cause);
  }
}
