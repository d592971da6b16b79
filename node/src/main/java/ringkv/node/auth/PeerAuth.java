package ringkv.node.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import ringkv.node.config.SecurityConfig;
import ringkv.ring.NodeAddress;

/**
 * Authentication between nodes with {@code CLUSTER_SECRET}: every request of the peer protocol
 * and every answer carries a header {@value #HEADER} with an HMAC-SHA256.
 *
 * <ul>
 *   <li>A request: {@code v1 key=<key id> ts=<ms> nonce=<16 random bytes> sig=<mac>}, the MAC
 *       over the method, the URI, the address of the node it is for, the timestamp, the nonce
 *       and the SHA-256 of the body. The receiver checks the header first — present, well
 *       formed, a key it knows, a timestamp within {@code SIGNATURE_WINDOW_MS} of its clock, a
 *       nonce it has not accepted ({@link ReplayGuard}) — before it reads the body, then the MAC
 *       once the bounded body is in.
 *   <li>An answer: {@code v1 key=<key id> sig=<mac>}, the MAC over the answering node's
 *       address, the status, the request's nonce and the SHA-256 of the body: a man in the middle
 *       or a server playing a peer cannot feed a node an answer (a configuration, entries) nor
 *       replay an old one.
 * </ul>
 *
 * <p>Keys: each secret gives a key id (public, printed) and a MAC key, both HMACs of the secret
 * with fixed labels. Requests are signed with {@code CLUSTER_SECRET}; requests signed with
 * {@code CLUSTER_SECRET_PREVIOUS} are accepted too, and answered with the key they came with.
 *
 * <p>Thread-safe (MACs and digests are per thread); the replay guard is not, and lives with the
 * server side on the node's event loop.
 */
public final class PeerAuth {
  /** The header of signed requests and answers. */
  public static final String HEADER = "RingKV-Signature";
  /** A longer header is refused unread. */
  public static final int HEADER_CHARS_MAX = 160;
  /** Error code of a refused signature in the internal error body. */
  public static final String STALE_CODE = "STALE_SIGNATURE";
  /** Field of a stale refusal holding the refusing node's clock. */
  public static final String SERVER_TIME_FIELD = "server-time-ms";

  private static final String ALGORITHM = "HmacSHA256";
  private static final int NONCE_BYTES = 16;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64_DECODE = Base64.getUrlDecoder();

  /** A key: its public id and its MAC key. */
  record Key(String id, byte[] mac) {}

  /** A request's header, parsed (its MAC not yet checked). */
  public record RequestSignature(String keyId, long timestampMs, String nonce, byte[] mac) {
    /** The nonce as the replay guard keeps it. */
    public long nonceBits() {
      byte[] n = B64_DECODE.decode(nonce);
      long bits = 0;
      for (int i = 0; i < Long.BYTES; i++) {
        bits = (bits << 8) | (n[i] & 0xff);
      }
      return bits;
    }
  }

  /** A signed request: the header to send and the nonce its answer must name. */
  public record Signed(String header, String nonce) {}

  private final List<Key> keys;

  private PeerAuth(List<Key> keys) {
    this.keys = List.copyOf(keys);
  }

  /** The peer authentication {@code security} configures (none in an open cluster). */
  public static PeerAuth of(SecurityConfig security) {
    List<Key> keys = new ArrayList<>();
    security.clusterSecret().ifPresent(s -> keys.add(key(s)));
    security.clusterSecretPrevious().ifPresent(s -> keys.add(key(s)));
    return new PeerAuth(keys);
  }

  /** No authentication: an open cluster. */
  public static final PeerAuth OPEN = new PeerAuth(List.of());

  private static Key key(byte[] secret) {
    String id = HexFormat.of().formatHex(hmac(secret, "ringkv key id v1")).substring(0, 16);
    return new Key(id, hmac(secret, "ringkv peer signing v1"));
  }

  /** Whether peers authenticate each other. */
  public boolean enabled() {
    return !keys.isEmpty();
  }

  /** The id of the key this node signs with (public: it names the secret, reveals nothing). */
  public String keyId() {
    return enabled() ? keys.get(0).id() : "-";
  }

  // ---------------------------------------------------------------- sending side

  /** Signs a request to {@code to}, stamped {@code timestampMs}. */
  public Signed signRequest(String method, String uri, NodeAddress to, byte[] body,
      long timestampMs) {
    Key key = keys.get(0);
    byte[] nonceBytes = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonceBytes);
    String nonce = B64.encodeToString(nonceBytes);
    byte[] mac = hmac(key.mac(), requestText(method, uri, to, timestampMs, nonce, body));
    return new Signed("v1 key=" + key.id() + " ts=" + timestampMs + " nonce=" + nonce + " sig="
        + B64.encodeToString(mac), nonce);
  }

  /** Whether {@code header} authenticates {@code from}'s answer to the request {@code nonce}. */
  public boolean verifyAnswer(String header, NodeAddress from, int status, String nonce,
      byte[] body) {
    if (header == null || header.length() > HEADER_CHARS_MAX) {
      return false;
    }
    String[] parts = header.split(" ");
    if (parts.length != 3 || !parts[0].equals("v1") || !parts[1].startsWith("key=")
        || !parts[2].startsWith("sig=")) {
      return false;
    }
    Optional<Key> key = byId(parts[1].substring(4));
    byte[] mac = decode(parts[2].substring(4));
    return key.isPresent() && mac != null && MessageDigest.isEqual(mac,
        hmac(key.get().mac(), answerText(from, status, nonce, body)));
  }

  // ---------------------------------------------------------------- receiving side

  /**
   * Parses a request's header: empty when missing, malformed or signed with a key this node
   * does not know (the caller answers 401 without reading the body).
   */
  public Optional<RequestSignature> parse(String header) {
    if (header == null || header.length() > HEADER_CHARS_MAX) {
      return Optional.empty();
    }
    String[] parts = header.split(" ");
    if (parts.length != 5 || !parts[0].equals("v1") || !parts[1].startsWith("key=")
        || !parts[2].startsWith("ts=") || !parts[3].startsWith("nonce=")
        || !parts[4].startsWith("sig=")) {
      return Optional.empty();
    }
    String keyId = parts[1].substring(4);
    String ts = parts[2].substring(3);
    String nonce = parts[3].substring(6);
    byte[] nonceBytes = decode(nonce);
    byte[] mac = decode(parts[4].substring(4));
    if (byId(keyId).isEmpty() || !ts.matches("[0-9]{1,18}") || nonceBytes == null
        || nonceBytes.length != NONCE_BYTES || mac == null || mac.length != 32) {
      return Optional.empty();
    }
    return Optional.of(new RequestSignature(keyId, Long.parseLong(ts), nonce, mac));
  }

  /** Whether the MAC of {@code s} covers exactly this request to {@code self}. */
  public boolean verifyRequest(RequestSignature s, String method, String uri, NodeAddress self,
      byte[] body) {
    Optional<Key> key = byId(s.keyId());
    return key.isPresent() && MessageDigest.isEqual(s.mac(), hmac(key.get().mac(),
        requestText(method, uri, self, s.timestampMs(), s.nonce(), body)));
  }

  /** The header of {@code self}'s answer to the request {@code s}, with the request's key. */
  public String signAnswer(RequestSignature s, NodeAddress self, int status, byte[] body) {
    Key key = byId(s.keyId()).orElseThrow();
    return "v1 key=" + key.id() + " sig="
        + B64.encodeToString(hmac(key.mac(), answerText(self, status, s.nonce(), body)));
  }

  // ---------------------------------------------------------------- both

  private Optional<Key> byId(String id) {
    for (Key k : keys) {
      if (k.id().equals(id)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  private static byte[] requestText(String method, String uri, NodeAddress to, long ts,
      String nonce, byte[] body) {
    return ("ringkv-request-v1\n" + method + "\n" + uri + "\n" + to + "\n" + ts + "\n" + nonce
        + "\n" + sha256(body)).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] answerText(NodeAddress from, int status, String nonce, byte[] body) {
    return ("ringkv-answer-v1\n" + from + "\n" + status + "\n" + nonce + "\n" + sha256(body))
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] decode(String text) {
    try {
      return B64_DECODE.decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  });

  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance(ALGORITHM);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no " + ALGORITHM + " in this JVM", e);
    }
  });

  static String sha256(byte[] body) {
    return HexFormat.of().formatHex(SHA256.get().digest(body == null ? new byte[0] : body));
  }

  static byte[] hmac(byte[] key, String label) {
    return hmac(key, label.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] hmac(byte[] key, byte[] text) {
    Mac mac = MAC.get();
    try {
      mac.init(new SecretKeySpec(key, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot key " + ALGORITHM, e);
    }
    return mac.doFinal(text);
  }
}
