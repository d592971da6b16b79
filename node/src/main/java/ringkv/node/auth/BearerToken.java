package ringkv.node.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * A token an HTTP request must present as {@code Authorization: Bearer <token>}
 * ({@code ADMIN_TOKEN}, {@code CLIENT_TOKEN}). Only the token's SHA-256 is kept, and a presented
 * token is compared by its SHA-256 with {@link MessageDigest#isEqual} (constant time, and equal
 * lengths whatever was presented), so the answer's timing tells nothing about the token.
 *
 * <p>Immutable; thread-safe.
 */
public final class BearerToken {
  /** Longer Authorization headers are refused without hashing them. */
  static final int HEADER_CHARS_MAX = 4_096;
  private static final String SCHEME = "bearer ";

  private final byte[] digest;

  private BearerToken(byte[] token) {
    this.digest = sha256(token);
  }

  /** The token {@code token} configures, if set. */
  public static Optional<BearerToken> of(Optional<byte[]> token) {
    return token.map(BearerToken::new);
  }

  /** Whether {@code authorization} (an Authorization header, or null) presents this token. */
  public boolean matches(String authorization) {
    if (authorization == null || authorization.length() > HEADER_CHARS_MAX
        || authorization.length() < SCHEME.length()
        || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    byte[] presented = authorization.substring(SCHEME.length()).strip()
        .getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(digest, sha256(presented));
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "BearerToken(set)";
  }
}
