package ringkv.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 the comparison's load generator speaks to RingKV nodes: requests of the shard
 * dialect built once per key ({@code GET /key-value-store/<key>} without a body, {@code PUT}
 * with {@code {"value":"<text>"}} and no causal metadata — what wrk sends), kept-alive, and a
 * reply check that reads the status line and {@code Content-Length} in place and skips the body
 * without allocating.
 *
 * <p>Stateless; thread-safe (each {@link ReplyParser} is confined to one connection).
 */
final class HttpWire {
  /** Headers of a reply longer than this are refused (RingKV's are ~60 bytes). */
  static final int HEAD_BYTES_MAX = 8192;
  private static final byte[] CONTENT_LENGTH =
      "content-length:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRANSFER_ENCODING =
      "transfer-encoding:".getBytes(StandardCharsets.US_ASCII);

  private HttpWire() {}

  /** {@code GET /key-value-store/<key>}. Keys are the bench's, plain ASCII. */
  static byte[] get(String hostPort, String key) {
    return ("GET /key-value-store/" + key + " HTTP/1.1\r\nHost: " + hostPort + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** {@code PUT /key-value-store/<key>} with {@code {"value":"<value>"}}. */
  static byte[] put(String hostPort, String key, String value) {
    byte[] body = ("{\"value\":\"" + value + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] head = ("PUT /key-value-store/" + key + " HTTP/1.1\r\nHost: " + hostPort
        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + body.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    return out;
  }

  /**
   * Checks one reply: a GET succeeds on 200, a PUT on 200 or 201 (the body is skipped). Another
   * status is a failure named {@code "HTTP <status>"}; a reply without {@code Content-Length}
   * (or chunked) is a protocol error, as the generator cannot find where it ends.
   */
  static final class ReplyParser implements LoadGenerator.ReplyParser {
    private String failure = "";

    @Override
    public int parse(ByteBuffer in, LoadGenerator.Operation op) {
      int start = in.position();
      int limit = in.limit();
      int headEnd = headEnd(in, start, limit);
      if (headEnd < 0) {
        return limit - start > HEAD_BYTES_MAX ? protocolError("headers too long") : INCOMPLETE;
      }
      // "HTTP/1.1 200 OK"
      if (headEnd - start < 12 || in.get(start) != 'H' || in.get(start + 4) != '/'
          || in.get(start + 8) != ' ') {
        return protocolError("not an HTTP/1.x status line");
      }
      long status = Resp.parseLong(in, start + 9, start + 12);
      if (status < 100 || status > 599) {
        return protocolError("bad status");
      }
      long length = -1;
      int line = Resp.crlf(in, start, headEnd + 2) + 2;
      while (line < headEnd) {
        int end = Resp.crlf(in, line, headEnd + 2);
        if (startsWithIgnoreCase(in, line, end, CONTENT_LENGTH)) {
          length = parseTrimmed(in, line + CONTENT_LENGTH.length, end);
        } else if (startsWithIgnoreCase(in, line, end, TRANSFER_ENCODING)) {
          return protocolError("chunked replies are not supported");
        }
        line = end + 2;
      }
      if (length < 0) {
        return protocolError("reply without Content-Length");
      }
      long end = headEnd + 4 + length;
      if (end > limit) {
        return end - start > in.capacity() ? protocolError("reply larger than the buffer")
            : INCOMPLETE;
      }
      in.position((int) end);
      boolean ok = op == LoadGenerator.Operation.GET ? status == 200
          : status == 200 || status == 201;
      if (ok) {
        return SUCCESS;
      }
      failure = "HTTP " + status;
      return FAILURE;
    }

    @Override
    public String failure() {
      return failure;
    }

    private int protocolError(String what) {
      failure = "protocol: " + what;
      return PROTOCOL_ERROR;
    }
  }

  /** Index of the CR of the first CRLFCRLF in {@code [from, limit)}, or -1. */
  static int headEnd(ByteBuffer b, int from, int limit) {
    for (int i = from; i + 3 < limit; i++) {
      if (b.get(i) == '\r' && b.get(i + 1) == '\n' && b.get(i + 2) == '\r'
          && b.get(i + 3) == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static boolean startsWithIgnoreCase(ByteBuffer b, int from, int to, byte[] lower) {
    if (to - from < lower.length) {
      return false;
    }
    for (int i = 0; i < lower.length; i++) {
      int c = b.get(from + i);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower[i]) {
        return false;
      }
    }
    return true;
  }

  private static long parseTrimmed(ByteBuffer b, int from, int to) {
    while (from < to && b.get(from) == ' ') {
      from++;
    }
    while (to > from && b.get(to - 1) == ' ') {
      to--;
    }
    long n = Resp.parseLong(b, from, to);
    return n == Long.MIN_VALUE ? -1 : n;
  }
}
