package ringkv.tests.support;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs node-to-node requests the way the README's "Security" section specifies them, written
 * from that description rather than from the node's code (the tests stay a black box): a key id
 * and a MAC key derived from the secret with HMAC-SHA256, and the header
 * {@code RingKV-Signature: v1 key=<id> ts=<ms> nonce=<nonce> sig=<mac>} over
 * {@code ringkv-request-v1\n<method>\n<uri>\n<node>\n<ts>\n<nonce>\n<sha-256 of the body, hex>}.
 */
public final class PeerSigner {
  public static final String HEADER = "RingKV-Signature";
  private final String keyId;
  private final byte[] macKey;

  public PeerSigner(String secret) {
    byte[] s = secret.getBytes(StandardCharsets.UTF_8);
    this.keyId = HexFormat.of().formatHex(hmac(s, "ringkv key id v1".getBytes(
        StandardCharsets.UTF_8))).substring(0, 16);
    this.macKey = hmac(s, "ringkv peer signing v1".getBytes(StandardCharsets.UTF_8));
  }

  public String keyId() {
    return keyId;
  }

  /** A fresh nonce: 16 random bytes, base64url without padding. */
  public static String nonce(Random random) {
    byte[] n = new byte[16];
    random.nextBytes(n);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(n);
  }

  /** The header's value for {@code method uri} to {@code node} with {@code body}. */
  public String header(String method, String uri, String node, byte[] body, long timestampMs,
      String nonce) {
    String text = "ringkv-request-v1\n" + method + "\n" + uri + "\n" + node + "\n" + timestampMs
        + "\n" + nonce + "\n" + sha256(body == null ? new byte[0] : body);
    byte[] mac = hmac(macKey, text.getBytes(StandardCharsets.UTF_8));
    return "v1 key=" + keyId + " ts=" + timestampMs + " nonce=" + nonce + " sig="
        + Base64.getUrlEncoder().withoutPadding().encodeToString(mac);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(byte[] key, byte[] text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(text);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
