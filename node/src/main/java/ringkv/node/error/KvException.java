package ringkv.node.error;

import java.util.Objects;

/**
 * An expected failure of a request (bad input, missing peer, timeout), carried to the one place
 * that renders errors as JSON. {@code detail} is for logs and generic errors; the client-visible
 * {@code "error"} string is the code's, unless the code is generic.
 */
public class KvException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public KvException(ErrorCode code, String detail) {
    super(detail, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  public KvException(ErrorCode code) {
    this(code, code.error());
  }

  public ErrorCode code() {
    return code;
  }

  /** The {@code "error"} string a client sees. */
  public String clientError() {
    boolean generic = code == ErrorCode.BAD_JSON || code == ErrorCode.BAD_REQUEST
        || code == ErrorCode.BAD_METADATA || code == ErrorCode.VIEW_CHANGE_FAILED
        || code == ErrorCode.TOO_FEW_ACKS;
    return generic && !getMessage().equals(code.error())
        ? code.error() + ": " + getMessage() : code.error();
  }
}
