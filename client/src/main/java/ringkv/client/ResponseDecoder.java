package ringkv.client;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads HTTP/1.1 answers from a connection's bytes, as they arrive in pieces: the status line,
 * the four headers the client needs ({@code Content-Length}, {@code Transfer-Encoding},
 * {@code Connection}, {@code Retry-After}; the others are skipped without being decoded) and
 * the body, delimited by its length, by chunked coding, or by the end of the connection
 * (RFC 9112 §6.3). Informational answers (1xx) are skipped; 204 and 304 have no body.
 *
 * <p>Why not Netty's {@code HttpResponseDecoder}: it builds a header map with every name
 * hashed and every value a string, and emits a message object per part; at tens of thousands
 * of answers a second that was a tenth of the client's CPU, for four headers read.
 *
 * <p>Bounds: the status line ({@link HttpTransport#STATUS_LINE_BYTES_MAX}), each header line
 * and all of them together ({@link HttpTransport#HEADER_BYTES_MAX}), the body
 * ({@link HttpTransport#RESPONSE_BYTES_MAX}). Anything malformed or beyond a bound throws
 * {@link HttpTransport.ProtocolException}, after which the decoder is unusable (the
 * connection must be closed).
 *
 * <p>Not thread-safe; one per connection, confined to its event loop.
 */
final class ResponseDecoder {
  /** Receives each complete answer. */
  interface Sink {
    void onAnswer(int status, String retryAfter, boolean keepAlive, byte[] body);
  }

  private enum State {
    STATUS_LINE, HEADERS, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE,
    FAILED
  }

  private static final byte[] EMPTY = new byte[0];
  private static final byte[] CONTENT_LENGTH = lower("content-length");
  private static final byte[] TRANSFER_ENCODING = lower("transfer-encoding");
  private static final byte[] CONNECTION = lower("connection");
  private static final byte[] RETRY_AFTER = lower("retry-after");

  private State state = State.STATUS_LINE;
  /** The line being parsed, copied out of the buffer (array access needs no checks). */
  private byte[] line = new byte[256];
  // The answer being read.
  private int status;
  private boolean http11;
  private String retryAfter;
  private long contentLength;
  private boolean chunked;
  private boolean otherCoding;
  private boolean connectionClose;
  private boolean connectionKeepAlive;
  private int headerBytes;
  // Its body so far.
  private byte[] body = EMPTY;
  private int bodyLength;
  private long chunkLeft;

  /**
   * Reads what it can from {@code in}, calling {@code sink} for each complete answer; leaves
   * the bytes of an incomplete line in {@code in}.
   *
   * @throws HttpTransport.ProtocolException if the bytes are not HTTP/1.1 answers
   */
  void decode(ByteBuf in, Sink sink) throws HttpTransport.ProtocolException {
    while (in.isReadable()) {
      switch (state) {
        case STATUS_LINE, HEADERS, CHUNK_SIZE, CHUNK_END, TRAILERS -> {
          int lf = in.forEachByte(ByteProcessor.FIND_LF);
          if (lf < 0) {
            checkLineLength(in.readableBytes());
            return;
          }
          int length = lf - in.readerIndex();
          checkLineLength(length);
          if (length > line.length) {
            line = new byte[Math.max(length, line.length * 2)];
          }
          in.readBytes(line, 0, length);
          in.skipBytes(1);
          onLine(length > 0 && line[length - 1] == '\r' ? length - 1 : length, sink);
        }
        case FIXED_BODY, CHUNK_DATA -> {
          long left = state == State.FIXED_BODY ? contentLength - bodyLength : chunkLeft;
          int n = (int) Math.min(left, in.readableBytes());
          append(in, n);
          if (state == State.CHUNK_DATA) {
            chunkLeft -= n;
            if (chunkLeft == 0) {
              state = State.CHUNK_END;
            }
          } else if (bodyLength == contentLength) {
            complete(sink);
          }
        }
        case UNTIL_CLOSE -> append(in, in.readableBytes());
        default -> throw new HttpTransport.ProtocolException("decoder used after a failure",
            null);
      }
    }
  }

  /**
   * The connection ended: completes an answer delimited by the end of the connection.
   *
   * @throws IOException if it ended in the middle of an answer (a node that died while
   *     answering: an operating error, which the client may retry)
   */
  void endOfInput(Sink sink) throws IOException {
    if (state == State.UNTIL_CLOSE) {
      complete(sink);
    } else if (state != State.STATUS_LINE && state != State.FAILED) {
      State was = state;
      state = State.FAILED;
      throw new IOException("the connection ended in the middle of an answer (" + was + ")");
    }
  }

  /** Whether no answer is partly read. */
  boolean isBetweenAnswers() {
    return state == State.STATUS_LINE;
  }

  private void checkLineLength(int length) throws HttpTransport.ProtocolException {
    int max = state == State.STATUS_LINE ? HttpTransport.STATUS_LINE_BYTES_MAX
        : HttpTransport.HEADER_BYTES_MAX;
    if (length > max) {
      throw fail("a line longer than " + max + " bytes in state " + state);
    }
  }

  /** {@code line[0, end)} is a complete line, without its CRLF. */
  private void onLine(int end, Sink sink) throws HttpTransport.ProtocolException {
    int start = 0;
    switch (state) {
      case STATUS_LINE -> {
        if (end == start) {
          return; // RFC 9112 §2.2: an empty line before the status line may be ignored
        }
        statusLine(end);
      }
      case HEADERS -> {
        countHeaderBytes(end - start, "headers");
        if (end == start) {
          headersDone(sink);
        } else {
          header(end);
        }
      }
      case CHUNK_SIZE -> chunkSize(end);
      case CHUNK_END -> {
        if (end != start) {
          throw fail("no CRLF after a chunk");
        }
        state = State.CHUNK_SIZE;
      }
      case TRAILERS -> {
        countHeaderBytes(end - start, "trailers");
        if (end == start) {
          complete(sink);
        }
      }
      default -> throw new IllegalStateException("no line expected in " + state);
    }
  }

  /** Counts a header or trailer line of {@code length} bytes (and its CRLF) against the bound. */
  private void countHeaderBytes(int length, String what) throws HttpTransport.ProtocolException {
    headerBytes += length + 2;
    if (headerBytes > HttpTransport.HEADER_BYTES_MAX) {
      throw fail(what + " longer than " + HttpTransport.HEADER_BYTES_MAX + " bytes");
    }
  }

  private void statusLine(int end) throws HttpTransport.ProtocolException {
    // HTTP/1.x SP 3DIGIT [SP reason]
    if (end < 12 || !startsWith("HTTP/1.") || line[8] != ' ') {
      throw fail("not an HTTP/1.x status line: " + text(0, end));
    }
    byte minor = line[7];
    if (minor != '0' && minor != '1') {
      throw fail("not HTTP/1.0 or 1.1: " + text(0, end));
    }
    int code = 0;
    for (int i = 9; i < 12; i++) {
      byte c = line[i];
      if (c < '0' || c > '9') {
        throw fail("bad status code: " + text(0, end));
      }
      code = code * 10 + (c - '0');
    }
    if (end > 12 && line[12] != ' ') {
      throw fail("bad status line: " + text(0, end));
    }
    if (code < 100) {
      throw fail("bad status code: " + code);
    }
    status = code;
    http11 = minor == '1';
    retryAfter = null;
    contentLength = -1;
    chunked = false;
    otherCoding = false;
    connectionClose = false;
    connectionKeepAlive = false;
    headerBytes = 0;
    state = State.HEADERS;
  }

  private void header(int end) throws HttpTransport.ProtocolException {
    if (line[0] == ' ' || line[0] == '\t') {
      throw fail("obsolete header line folding");
    }
    int colon = 0;
    while (colon < end && line[colon] != ':') {
      colon++;
    }
    if (colon == 0 || colon == end) {
      throw fail("a header line without a name: " + text(0, end));
    }
    if (nameIs(colon, CONTENT_LENGTH)) {
      long length = contentLength(colon + 1, end);
      if (contentLength >= 0 && contentLength != length) {
        throw fail("two different Content-Length headers");
      }
      contentLength = length;
    } else if (nameIs(colon, TRANSFER_ENCODING)) {
      String codings = trimmed(colon + 1, end).toLowerCase(Locale.ROOT);
      // Chunked must be the last coding (RFC 9112 §6.3); any other coding we cannot read.
      chunked = codings.endsWith("chunked");
      otherCoding = !codings.equals("chunked");
    } else if (nameIs(colon, CONNECTION)) {
      for (String token : trimmed(colon + 1, end).split(",")) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        connectionClose |= t.equals("close");
        connectionKeepAlive |= t.equals("keep-alive");
      }
    } else if (nameIs(colon, RETRY_AFTER)) {
      retryAfter = trimmed(colon + 1, end);
    }
  }

  private void headersDone(Sink sink) throws HttpTransport.ProtocolException {
    if (status == 101) {
      throw fail("101 Switching Protocols to a request that asked for no upgrade");
    }
    if (status < 200) {
      state = State.STATUS_LINE; // informational: the final answer follows
      return;
    }
    bodyLength = 0;
    body = EMPTY;
    if (status == 204 || status == 304) {
      complete(sink);
    } else if (chunked && !otherCoding) {
      state = State.CHUNK_SIZE;
    } else if (chunked || otherCoding) {
      throw fail("a transfer coding other than chunked");
    } else if (contentLength >= 0) {
      if (contentLength > HttpTransport.RESPONSE_BYTES_MAX) {
        throw fail("a body of " + contentLength + " bytes, above "
            + HttpTransport.RESPONSE_BYTES_MAX);
      }
      body = new byte[(int) contentLength];
      state = State.FIXED_BODY;
      if (contentLength == 0) {
        complete(sink);
      }
    } else {
      state = State.UNTIL_CLOSE;
    }
  }

  private void chunkSize(int end) throws HttpTransport.ProtocolException {
    long size = 0;
    int digits = 0;
    for (int i = 0; i < end; i++) {
      int c = line[i];
      int d = Character.digit(c, 16);
      if (d < 0) {
        if (c == ';' || c == ' ' || c == '\t') {
          break; // chunk extensions are ignored
        }
        throw fail("bad chunk size: " + text(0, end));
      }
      size = size * 16 + d;
      digits++;
      if (size > HttpTransport.RESPONSE_BYTES_MAX) {
        throw fail("a chunk above " + HttpTransport.RESPONSE_BYTES_MAX + " bytes");
      }
    }
    if (digits == 0) {
      throw fail("bad chunk size: " + text(0, end));
    }
    if (size == 0) {
      headerBytes = 0;
      state = State.TRAILERS;
      return;
    }
    chunkLeft = size;
    state = State.CHUNK_DATA;
  }

  private void append(ByteBuf in, int n) throws HttpTransport.ProtocolException {
    if (bodyLength + (long) n > HttpTransport.RESPONSE_BYTES_MAX) {
      throw fail("a body above " + HttpTransport.RESPONSE_BYTES_MAX + " bytes");
    }
    if (bodyLength + n > body.length) {
      body = Arrays.copyOf(body, Math.max(bodyLength + n, Math.max(256, body.length * 2)));
    }
    in.readBytes(body, bodyLength, n);
    bodyLength += n;
  }

  private void complete(Sink sink) {
    byte[] bytes = bodyLength == body.length ? body : Arrays.copyOf(body, bodyLength);
    boolean keepAlive = state != State.UNTIL_CLOSE && !connectionClose
        && (http11 || connectionKeepAlive);
    body = EMPTY;
    bodyLength = 0;
    state = State.STATUS_LINE;
    sink.onAnswer(status, retryAfter, keepAlive, bytes);
  }

  private HttpTransport.ProtocolException fail(String message) {
    state = State.FAILED;
    return new HttpTransport.ProtocolException(message, null);
  }

  /** A Content-Length value: digits, with optional blanks around them. */
  private long contentLength(int start, int end) throws HttpTransport.ProtocolException {
    int s = skipBlanks(start, end);
    int e = dropBlanks(s, end);
    if (e == s || e - s > 12) {
      throw fail("bad Content-Length: " + text(start, end));
    }
    long n = 0;
    for (int i = s; i < e; i++) {
      byte c = line[i];
      if (c < '0' || c > '9') {
        throw fail("bad Content-Length: " + text(start, end));
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean isBlank(byte c) {
    return c == ' ' || c == '\t';
  }

  /** Whether {@code line[0, length)} is {@code lowerName}, ignoring ASCII case. */
  private boolean nameIs(int length, byte[] lowerName) {
    if (length != lowerName.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      int c = line[i];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lowerName[i]) {
        return false;
      }
    }
    return true;
  }

  private boolean startsWith(String ascii) {
    for (int i = 0; i < ascii.length(); i++) {
      if (line[i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The first index in {@code line[start, end)} that is not a blank, or {@code end}. */
  private int skipBlanks(int start, int end) {
    int s = start;
    while (s < end && isBlank(line[s])) {
      s++;
    }
    return s;
  }

  /** {@code end} moved back over the blanks that end {@code line[start, end)}. */
  private int dropBlanks(int start, int end) {
    int e = end;
    while (e > start && isBlank(line[e - 1])) {
      e--;
    }
    return e;
  }

  private String trimmed(int start, int end) {
    int s = skipBlanks(start, end);
    int e = dropBlanks(s, end);
    return new String(line, s, e - s, StandardCharsets.ISO_8859_1);
  }

  private String text(int start, int end) {
    return new String(line, start, Math.min(end - start, 200), StandardCharsets.ISO_8859_1);
  }

  private static byte[] lower(String name) {
    return name.getBytes(StandardCharsets.US_ASCII);
  }
}
