package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/*
 * Goal: the comparison speaks RESP2 correctly: commands encoded as Redis reads them, control
 * replies read whole, and the load generator's reply check accepting exactly the expected GET
 * and SET answers, naming every other answer, and never consuming half a reply.
 *
 * Method: byte-exact encodings; replies as bytes in streams and buffers, including every split
 * point of a reply (as TCP may deliver it).
 */
class RespTest {
  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Object read(String s) throws IOException {
    return Resp.read(new ByteArrayInputStream(ascii(s)));
  }

  @Test
  void commandsAreArraysOfBulkStrings() {
    assertArrayEquals(ascii("*2\r\n$3\r\nGET\r\n$5\r\nuser7\r\n"), Resp.command("GET", "user7"));
    assertArrayEquals(ascii("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\nw\r\n"),
        Resp.command("SET", "k", "v\r\nw"));
    assertArrayEquals(ascii("*1\r\n$0\r\n\r\n"), Resp.command(""));
    assertArrayEquals(ascii("*1\r\n$2\r\né\r\n"), Resp.command("é"));
  }

  @Test
  void readsEveryReplyType() throws IOException {
    assertEquals("PONG", read("+PONG\r\n"));
    assertEquals(new Resp.Error("ERR unknown command"), read("-ERR unknown command\r\n"));
    assertEquals(42L, read(":42\r\n"));
    assertEquals("a\r\nb", read("$4\r\na\r\nb\r\n"));
    assertNull(read("$-1\r\n"));
    assertNull(read("*-1\r\n"));
    assertEquals(List.of(), read("*0\r\n"));
    assertEquals(List.of(List.of(0L, 5460L, List.of("127.0.0.1", 7001L)), "x"),
        read("*2\r\n*3\r\n:0\r\n:5460\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n+x\r\n"));
  }

  @Test
  void truncatedOrForeignBytesAreErrors() {
    assertThrows(EOFException.class, () -> read(""));
    assertThrows(EOFException.class, () -> read("+PON"));
    assertThrows(IOException.class, () -> read("$5\r\nab\r\n"));
    assertThrows(IOException.class, () -> read("HTTP/1.1 200 OK\r\n"));
    assertThrows(IOException.class, () -> read(":x\r\n"));
  }

  private static ByteBuffer buffer(String s) {
    ByteBuffer b = ByteBuffer.allocate(4096);
    b.put(ascii(s)).flip();
    return b;
  }

  @Test
  void getSucceedsOnABulkStringOfTheValueSize() {
    Resp.ReplyParser p = new Resp.ReplyParser(3);
    ByteBuffer b = buffer("$3\r\nabc\r\n");
    assertEquals(LoadGenerator.ReplyParser.SUCCESS, p.parse(b, LoadGenerator.Operation.GET));
    assertEquals(b.limit(), b.position());
  }

  @Test
  void setSucceedsOnOk() {
    Resp.ReplyParser p = new Resp.ReplyParser(3);
    ByteBuffer b = buffer("+OK\r\n");
    assertEquals(LoadGenerator.ReplyParser.SUCCESS, p.parse(b, LoadGenerator.Operation.PUT));
    assertEquals(5, b.position());
  }

  @Test
  void otherAnswersAreNamedFailuresAndConsumed() {
    Resp.ReplyParser p = new Resp.ReplyParser(3);
    String[][] cases = {
        {"$-1\r\n", "GET", "nil"},
        {"$2\r\nab\r\n", "GET", "$2"},
        {"-MOVED 3999 127.0.0.1:7002\r\n", "GET", "-MOVED"},
        {"-CLUSTERDOWN The cluster is down\r\n", "PUT", "-CLUSTERDOWN"},
        {"+OK\r\n", "GET", "+OK"},
        {"+QUEUED\r\n", "PUT", "+QUEUED"},
        {":1\r\n", "PUT", ":integer"},
        {"$3\r\nabc\r\n", "PUT", "$3"},
    };
    for (String[] c : cases) {
      ByteBuffer b = buffer(c[0]);
      assertEquals(LoadGenerator.ReplyParser.FAILURE,
          p.parse(b, LoadGenerator.Operation.valueOf(c[1])), c[0]);
      assertEquals(c[2], p.failure(), c[0]);
      assertEquals(b.limit(), b.position(), c[0]);
    }
  }

  @Test
  void aReplyCutAnywhereIsIncompleteAndNothingIsConsumed() {
    for (String reply : List.of("$3\r\nabc\r\n", "+OK\r\n", "-MOVED 1 h:1\r\n")) {
      LoadGenerator.Operation op = reply.startsWith("$") ? LoadGenerator.Operation.GET
          : LoadGenerator.Operation.PUT;
      for (int cut = 0; cut < reply.length(); cut++) {
        ByteBuffer b = buffer(reply.substring(0, cut));
        assertEquals(LoadGenerator.ReplyParser.INCOMPLETE,
            new Resp.ReplyParser(3).parse(b, op), reply + " cut at " + cut);
        assertEquals(0, b.position());
      }
    }
  }

  @Test
  void undelimitableBytesAreProtocolErrors() {
    Resp.ReplyParser p = new Resp.ReplyParser(3);
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("HTTP/1.1 200 OK\r\n"), LoadGenerator.Operation.GET));
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("$x\r\n"), LoadGenerator.Operation.GET));
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(buffer("+" + "a".repeat(Resp.LINE_BYTES_MAX + 10)), LoadGenerator.Operation.PUT));
    ByteBuffer small = ByteBuffer.allocate(16);
    small.put(ascii("$100\r\nabc")).flip();
    assertEquals(LoadGenerator.ReplyParser.PROTOCOL_ERROR,
        p.parse(small, LoadGenerator.Operation.GET));
  }

  @Test
  void numbersParseInPlace() {
    ByteBuffer b = buffer("x-12y");
    assertEquals(-12, Resp.parseLong(b, 1, 4));
    assertEquals(Long.MIN_VALUE, Resp.parseLong(b, 0, 2));
    assertEquals(Long.MIN_VALUE, Resp.parseLong(b, 1, 2));
    assertEquals(Long.MIN_VALUE, Resp.parseLong(b, 2, 2));
  }
}
