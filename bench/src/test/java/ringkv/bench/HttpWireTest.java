package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/*
 * Goal: the comparison's HTTP/1.1 to RingKV is what wrk would send (a bodiless GET, a PUT of
 * {"value":...} with an exact Content-Length), and the reply check finds where each kept-alive
 * reply ends, accepts 200 (GET) or 200/201 (PUT), names other statuses, and refuses replies it
 * cannot delimit.
 *
 * Method: byte-exact requests; replies as RingKV sends them (lower-case content-length), cut
 * at every point, with other header spellings, statuses and framings.
 */
class HttpWireTest {
  private static final String GET_REPLY = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      + "content-length: 17\r\n\r\n{\"value\":\"abcd\"}\n";

  private static ByteBuffer buffer(String s) {
    ByteBuffer b = ByteBuffer.allocate(16 * 1024);
    b.put(s.getBytes(StandardCharsets.UTF_8)).flip();
    return b;
  }

  @Test
  void requestsAreTheShardDialectsWithoutMetadata() {
    assertEquals("GET /key-value-store/user3 HTTP/1.1\r\nHost: 127.0.0.1:8082\r\n\r\n",
        new String(HttpWire.get("127.0.0.1:8082", "user3"), StandardCharsets.US_ASCII));
    assertEquals("PUT /key-value-store/user3 HTTP/1.1\r\nHost: h:1\r\n"
        + "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"value\":\"abcd\"}",
        new String(HttpWire.put("h:1", "user3", "abcd"), StandardCharsets.US_ASCII));
  }

  @Test
  void aGetSucceedsOn200AndTheWholeReplyIsConsumed() {
    ByteBuffer b = buffer(GET_REPLY + "HTTP/1.1 ...next");
    HttpWire.ReplyParser p = new HttpWire.ReplyParser();
    assertEquals(LoadGenerator.ReplyParser.SUCCESS, p.parse(b, LoadGenerator.Operation.GET));
    assertEquals(GET_REPLY.length(), b.position());
  }

  @Test
  void aPutSucceedsOn200Or201() {
    for (String status : List.of("200 OK", "201 Created")) {
      ByteBuffer b = buffer("HTTP/1.1 " + status + "\r\nCONTENT-LENGTH:2\r\n\r\n{}");
      assertEquals(LoadGenerator.ReplyParser.SUCCESS,
          new HttpWire.ReplyParser().parse(b, LoadGenerator.Operation.PUT), status);
      assertEquals(b.limit(), b.position());
    }
  }

  @Test
  void otherStatusesAreNamedFailuresAndConsumed() {
    HttpWire.ReplyParser p = new HttpWire.ReplyParser();
    String notFound = "HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}";
    ByteBuffer b = buffer(notFound);
    assertEquals(LoadGenerator.ReplyParser.FAILURE, p.parse(b, LoadGenerator.Operation.GET));
    assertEquals("HTTP 404", p.failure());
    assertEquals(notFound.length(), b.position());
    ByteBuffer created = buffer("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
    assertEquals(LoadGenerator.ReplyParser.FAILURE,
        p.parse(created, LoadGenerator.Operation.GET));
    assertEquals("HTTP 201", p.failure());
    ByteBuffer busy = buffer("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
    assertEquals(LoadGenerator.ReplyParser.FAILURE, p.parse(busy, LoadGenerator.Operation.PUT));
    assertEquals("HTTP 503", p.failure());
  }

  @Test
  void aReplyCutAnywhereIsIncompleteAndNothingIsConsumed() {
    for (int cut = 0; cut < GET_REPLY.length(); cut++) {
      ByteBuffer b = buffer(GET_REPLY.substring(0, cut));
      assertEquals(LoadGenerator.ReplyParser.INCOMPLETE,
          new HttpWire.ReplyParser().parse(b, LoadGenerator.Operation.GET), "cut at " + cut);
      assertEquals(0, b.position());
    }
  }

  @Test
  void repliesThatCannotBeDelimitedAreProtocolErrors() {
    HttpWire.ReplyParser p = new HttpWire.ReplyParser();
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("HTTP/1.1 200 OK\r\n\r\n{}"), LoadGenerator.Operation.GET));
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR, p.parse(buffer(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
        LoadGenerator.Operation.GET));
    assertEquals("protocol: chunked replies are not supported", p.failure());
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("+OK\r\n\r\n"), LoadGenerator.Operation.GET));
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n"),
            LoadGenerator.Operation.GET));
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("HTTP/1.1 200 OK\r\nX: " + "a".repeat(HttpWire.HEAD_BYTES_MAX)),
            LoadGenerator.Operation.GET));
    ByteBuffer small = ByteBuffer.allocate(64);
    small.put("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{".getBytes(
        StandardCharsets.US_ASCII)).flip();
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(small, LoadGenerator.Operation.GET));
  }
}
