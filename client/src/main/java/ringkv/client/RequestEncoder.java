package ringkv.client;

import io.netty.buffer.ByteBuf;

/**
 * Encodes the client's requests: {@code GET /ring}, and the key-value requests with the
 * session's causal metadata (and the value) as the JSON body. Header lines every request
 * carries (the bearer token; {@code RingKV-Context-Entries: 1}, so that a reply's metadata
 * keeps only one entry besides those some replica may still lack, and a session carries little
 * more than what is not yet stable) are encoded once, when the client is built, so that a request
 * costs the same with or without them but for their bytes.
 *
 * <p>Immutable; thread-safe.
 */
final class RequestEncoder {
  static final String KV_PATH = "/key-value-store/";
  private static final HttpTransport.BodyPart VALUE_OPEN =
      HttpTransport.BodyPart.of(HttpTransport.ascii("{\"value\":"));
  private static final HttpTransport.BodyPart VALUE_THEN_METADATA =
      HttpTransport.BodyPart.of(HttpTransport.ascii(",\"causal-metadata\":"));
  private static final HttpTransport.BodyPart METADATA_OPEN =
      HttpTransport.BodyPart.of(HttpTransport.ascii("{\"causal-metadata\":"));
  private static final HttpTransport.BodyPart CLOSE =
      HttpTransport.BodyPart.of(HttpTransport.ascii("}"));

  /** Extra header lines, each starting with CRLF; empty when none. */
  private final byte[] headers;

  private RequestEncoder(byte[] headers) {
    this.headers = headers;
  }

  /**
   * The node's header that bounds a reply's causal metadata (KvService.CONTEXT_ENTRIES_HEADER):
   * the node keeps every entry that is not stable, and this many entries at least, so that a
   * session that saw something never sends an empty context (which means "saw nothing").
   */
  static final String CONTEXT_ENTRIES = "\r\nringkv-context-entries: 1";

  /** Requests with {@code Authorization: Bearer <token>}; a null token: none. */
  static RequestEncoder withToken(String token) {
    if (token == null) {
      return new RequestEncoder(HttpTransport.ascii(CONTEXT_ENTRIES));
    }
    return new RequestEncoder(HttpTransport.ascii(CONTEXT_ENTRIES + "\r\nauthorization: Bearer "
        + requireToken(token)));
  }

  /**
   * @throws IllegalArgumentException unless {@code token} is a non-empty run of visible ASCII
   *     (what a header value can carry; a CR or LF would end the header)
   */
  static String requireToken(String token) {
    if (token.isEmpty()) {
      throw new IllegalArgumentException("token must not be empty");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c > '~') {
        // The token itself is never put in a message.
        throw new IllegalArgumentException("token must be visible ASCII, without spaces; "
            + "character " + i + " is not");
      }
    }
    return token;
  }

  /** A request without a body. */
  ByteBuf encode(String method, String node, String path) {
    return HttpTransport.encode(method, node, path, headers);
  }

  /** A key-value request: {@code valueJson} (PUT only, else null) and {@code sent}. */
  ByteBuf encodeKeyValue(String method, String node, String path, String valueJson,
      CausalMetadata sent) {
    if (valueJson != null) {
      return HttpTransport.encode(method, node, path, headers, VALUE_OPEN,
          HttpTransport.BodyPart.of(valueJson), VALUE_THEN_METADATA,
          HttpTransport.BodyPart.of(sent.jsonBytes()), CLOSE);
    }
    if (sent.isEmpty()) {
      return HttpTransport.encode(method, node, path, headers);
    }
    return HttpTransport.encode(method, node, path, headers, METADATA_OPEN,
        HttpTransport.BodyPart.of(sent.jsonBytes()), CLOSE);
  }
}
