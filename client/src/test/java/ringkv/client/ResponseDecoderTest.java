package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/*
 * Goal: the client's HTTP/1.1 answer decoder reads every framing a node (or a proxy in front of
 * one) may use — Content-Length, chunked with extensions and trailers, delimited by the end of
 * the connection, informational answers before the final one, bodiless 204/304 — whatever the
 * pieces the bytes arrive in; tells keep-alive from close (HTTP/1.0, Connection: close); and
 * refuses what is malformed or beyond its bounds.
 *
 * Method: a table of answers fed whole, one byte at a time, and in random pieces (seeded loop,
 * seed printed on failure), the way a connection accumulates them: unread bytes stay in the
 * buffer and the next piece is appended.
 */
class ResponseDecoderTest {
  private record Got(int status, String retryAfter, boolean keepAlive, String body) {}

  private static List<Got> feed(List<byte[]> pieces) throws IOException {
    ResponseDecoder d = new ResponseDecoder();
    List<Got> out = new ArrayList<>();
    ResponseDecoder.Sink sink = (status, retryAfter, keepAlive, body) ->
        out.add(new Got(status, retryAfter, keepAlive, new String(body, StandardCharsets.UTF_8)));
    ByteBuf acc = Unpooled.buffer();
    try {
      for (byte[] p : pieces) {
        acc.writeBytes(p);
        d.decode(acc, sink);
        acc.discardReadBytes();
      }
      d.endOfInput(sink);
      return out;
    } finally {
      acc.release();
    }
  }

  private static List<Got> whole(String wire) throws IOException {
    return feed(List.of(wire.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<byte[]> split(byte[] all, SplittableRandom r, boolean bytewise) {
    List<byte[]> out = new ArrayList<>();
    int i = 0;
    while (i < all.length) {
      int n = bytewise ? 1 : 1 + r.nextInt(Math.min(40, all.length - i));
      n = Math.min(n, all.length - i);
      byte[] p = new byte[n];
      System.arraycopy(all, i, p, 0, n);
      out.add(p);
      i += n;
    }
    return out;
  }

  private static final String[] WIRES = {
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n"
          + "{\"a\":\"ü\"}",
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 2\r\n\r\n{}",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n"
          + "0\r\nx-trailer: t\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", // bare LF line ends
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\ncontent-length: 0\r\n\r\n",
      "HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n1",
      "HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 1\r\n\r\n1",
      "HTTP/1.1 200 OK\r\n\r\n{\"until\":\"close\"}",
  };

  private static final Got[] EXPECTED = {
      new Got(200, null, true, "{\"a\":\"ü\"}"),
      new Got(503, "2", true, "{}"),
      new Got(200, null, true, "{\"a\":1}"),
      new Got(201, null, true, "{}"),
      new Got(204, null, true, ""),
      new Got(200, null, true, "{}"),
      new Got(200, null, false, ""),
      new Got(200, null, false, "1"),
      new Got(200, null, true, "1"),
      new Got(200, null, false, "{\"until\":\"close\"}"),
  };

  @Test
  void readsEveryFramingInAnyPieces() throws IOException {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < WIRES.length; i++) {
      byte[] all = WIRES[i].getBytes(StandardCharsets.UTF_8);
      String what = "wire " + i + " seed " + seed;
      assertEquals(List.of(EXPECTED[i]), feed(List.of(all)), what);
      assertEquals(List.of(EXPECTED[i]), feed(split(all, random, true)), what + " bytewise");
      for (int k = 0; k < 20; k++) {
        assertEquals(List.of(EXPECTED[i]), feed(split(all, random, false)), what);
      }
    }
  }

  @Test
  void readsAnswersBackToBackAsPipelinedRequestsGetThem() throws IOException {
    StringBuilder wire = new StringBuilder();
    List<Got> expected = new ArrayList<>();
    for (int i = 0; i < 6; i++) { // every framing that does not end the connection
      if (i == 4) {
        continue; // 204 too, but keep the table's order simple
      }
      wire.append(WIRES[i]);
      expected.add(EXPECTED[i]);
    }
    assertEquals(expected, whole(wire.toString()));
    SplittableRandom random = new SplittableRandom(7);
    assertEquals(expected, feed(split(wire.toString().getBytes(StandardCharsets.UTF_8), random,
        false)));
  }

  @Test
  void refusesMalformedAnswers() {
    String[] bad = {
        "SMTP ready\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n12",
        "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    };
    for (String b : bad) {
      assertThrows(HttpTransport.ProtocolException.class, () -> whole(b), b);
    }
  }

  @Test
  void anAnswerCutShortByTheEndOfTheConnectionIsAnIoErrorNotAProtocolError() {
    IOException e = assertThrows(IOException.class,
        () -> whole("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{\"a\""));
    assertFalse(e instanceof HttpTransport.ProtocolException);
  }

  @Test
  void enforcesItsBounds() {
    String longStatus = "HTTP/1.1 200 " + "x".repeat(HttpTransport.STATUS_LINE_BYTES_MAX);
    assertThrows(HttpTransport.ProtocolException.class, () -> whole(longStatus),
        "a status line that never ends");
    StringBuilder headers = new StringBuilder("HTTP/1.1 200 OK\r\n");
    while (headers.length() <= HttpTransport.HEADER_BYTES_MAX) {
      headers.append("x-filler: ").append("y".repeat(100)).append("\r\n");
    }
    assertThrows(HttpTransport.ProtocolException.class,
        () -> whole(headers + "content-length: 0\r\n\r\n"), "headers too long together");
    assertThrows(HttpTransport.ProtocolException.class, () -> whole(
        "HTTP/1.1 200 OK\r\ncontent-length: " + (HttpTransport.RESPONSE_BYTES_MAX + 1L)
            + "\r\n\r\n"), "a body above the bound");
    assertThrows(HttpTransport.ProtocolException.class, () -> whole(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            + Integer.toHexString(HttpTransport.RESPONSE_BYTES_MAX + 1) + "\r\n"),
        "a chunk above the bound");
  }

  @Test
  void tellsWhetherAnAnswerIsPartlyRead() throws IOException {
    ResponseDecoder d = new ResponseDecoder();
    assertTrue(d.isBetweenAnswers());
    ByteBuf head = Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n{}",
        StandardCharsets.US_ASCII);
    List<Got> out = new ArrayList<>();
    d.decode(head, (s, r, k, b) -> out.add(new Got(s, r, k, new String(b,
        StandardCharsets.UTF_8))));
    head.release();
    assertFalse(d.isBetweenAnswers());
    assertTrue(out.isEmpty());
  }
}
