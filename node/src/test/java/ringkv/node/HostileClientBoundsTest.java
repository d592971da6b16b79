package ringkv.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/*
 * Goal: every bound of issue 14 item 6 holds when exceeded: a request whose body trickles in is
 * cut off at REQUEST_READ_TIMEOUT_MS and its slot freed (slowloris), so is a connection that
 * never completes a request; an idle connection closes at IDLE_TIMEOUT_MS; connections beyond
 * CONNECTIONS_MAX are closed at once; clients and peers have separate in-flight budgets (a
 * client flood leaves peers served, and the other way round); internal bodies are bounded by
 * their route; the routes that serve entries for keys answer a bounded prefix (in keys and in
 * bytes) and refuse a request over their key bound; JSON beyond Jackson's explicit read
 * constraints is a 400. Method: one node in
 * this JVM per case, with small bounds, driven over raw sockets.
 */
class HostileClientBoundsTest {
  private static final String SLOW_PUT = "PUT /key-value-store/slow HTTP/1.1\r\nHost: x\r\n"
      + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"value\":";

  /** Opens a connection and sends {@code head}; the caller closes it. */
  private static Socket start(OneNode n, String head) throws IOException {
    Socket s = n.connect();
    OutputStream out = s.getOutputStream();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return s;
  }

  /** Whether the node closed {@code s} (the read ends) within its read timeout. */
  private static boolean closedByNode(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    try {
      while (in.read() >= 0) {
        // whatever the node answered before closing
      }
      return true;
    } catch (SocketException e) {
      return true; // reset: closed too
    }
  }

  @Test
  void aTricklingRequestIsCutOffAndItsSlotFreed() throws IOException {
    try (OneNode n = new OneNode(Map.of("REQUEST_READ_TIMEOUT_MS", "500"));
        Socket slow = start(n, SLOW_PUT);
        Socket silent = start(n, "GET /ri")) {
      long start = System.nanoTime();
      assertTrue(closedByNode(slow));
      assertTrue(closedByNode(silent), "a request line that never ends");
      assertTrue(System.nanoTime() - start < 8_000_000_000L, "cut off at the deadline");
      await().atMost(Duration.ofSeconds(5)).until(() -> n.requestsInFlight() == 0);
      assertEquals(200, OneNode.status(n.exchange(OneNode.request("GET", "/ring", null))));
    }
  }

  @Test
  void anIdleConnectionIsClosed() throws IOException {
    try (OneNode n = new OneNode(Map.of("IDLE_TIMEOUT_MS", "1000"));
        Socket s = start(n, "GET /ring HTTP/1.1\r\nHost: x\r\n\r\n")) {
      long start = System.nanoTime();
      String answer = OneNode.readAll(s.getInputStream()); // the answer, then the close
      assertEquals(200, OneNode.status(answer), answer);
      assertTrue(System.nanoTime() - start < 8_000_000_000L);
    }
  }

  @Test
  void connectionsBeyondTheCapAreClosedAtOnce() throws IOException {
    List<Socket> open = new ArrayList<>();
    try (OneNode n = new OneNode(Map.of("CONNECTIONS_MAX", "16"))) {
      // The harness's readiness check closed its connection, but on a loaded machine the node
      // may count it still: then the 16th socket below was refused and, once that close was
      // seen, 15 stayed open (a clean-clone CI failure). Start from none.
      await().atMost(Duration.ofSeconds(15)).until(() -> n.connectionsOpen() == 0);
      for (int i = 0; i < 16; i++) {
        open.add(start(n, "GET /ring HTTP/1.1\r\nHost: x\r\n\r\n"));
      }
      // A bound, not a wait: on a loaded machine (a simulation batch beside the build) the 16
      // accepts once took longer than 5 s.
      await().atMost(Duration.ofSeconds(15)).until(() -> n.connectionsOpen() == 16);
      try (Socket extra = start(n, "GET /ring HTTP/1.1\r\nHost: x\r\n\r\n")) {
        String answer = OneNode.readAll(extra.getInputStream());
        assertTrue(answer.isEmpty(), "closed without an answer: " + answer);
      } catch (SocketException e) {
        // reset: refused too
      }
      open.remove(0).close();
      await().atMost(Duration.ofSeconds(5)).until(() -> n.connectionsOpen() == 15);
      assertEquals(200, OneNode.status(n.exchange(OneNode.request("GET", "/ring", null))));
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
  }

  @Test
  void clientsAndPeersHaveBudgetsOfTheirOwn() throws IOException {
    try (OneNode n = new OneNode(Map.of("CLIENT_REQUESTS_IN_FLIGHT_MAX", "2",
        "PEER_REQUESTS_IN_FLIGHT_MAX", "1"));
        Socket a = start(n, SLOW_PUT); Socket b = start(n, SLOW_PUT)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> n.requestsInFlight() == 2);
      String client = n.exchange(OneNode.request("GET", "/key-value-store/k", null));
      assertEquals(503, OneNode.status(client), client);
      assertTrue(client.contains("Too many requests in flight"), client);
      String peer = n.exchange(OneNode.request("GET", "/internal/ping", null));
      assertEquals(200, OneNode.status(peer), "client load does not starve peers: " + peer);
      try (Socket slowPeer = start(n, "POST /internal/ping HTTP/1.1\r\nHost: x\r\n"
          + "Content-Length: 100\r\n\r\n{")) {
        await().atMost(Duration.ofSeconds(5)).until(() -> n.requestsInFlight() == 3);
        String second = n.exchange(OneNode.request("GET", "/internal/ping", null));
        assertEquals(503, OneNode.status(second), second);
      }
    }
  }

  @Test
  void internalBodiesAreBoundedByTheirRoute() throws IOException {
    try (OneNode n = new OneNode(Map.of())) {
      for (String path : new String[] {"/internal/ping", "/internal/replicate"}) {
        long over = path.endsWith("ping") ? (4L << 20) + 1 : (16L << 20) + 1;
        try (Socket s = start(n, "POST " + path + " HTTP/1.1\r\nHost: x\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + over + "\r\n\r\n{")) {
          String head = readHead(s.getInputStream());
          assertTrue(head.startsWith("HTTP/1.1 413"), path + ": " + head);
        }
      }
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && !head.toString().endsWith("\r\n\r\n")) {
      head.append((char) c);
    }
    return head.toString();
  }

  @Test
  void jsonBeyondTheExplicitReadConstraintsIs400() throws IOException {
    try (OneNode n = new OneNode(Map.of())) {
      String deep = "[".repeat(501) + "]".repeat(501);
      String tooDeep = n.exchange(OneNode.request("PUT", "/key-value-store/deep",
          "{\"value\":" + deep + "}"));
      assertEquals(400, OneNode.status(tooDeep), tooDeep);
      String fine = n.exchange(OneNode.request("PUT", "/key-value-store/deep",
          "{\"value\":" + "[".repeat(400) + "]".repeat(400) + "}"));
      assertEquals(201, OneNode.status(fine), fine);
      String longNumber = n.exchange(OneNode.request("PUT", "/kvs/keys/n",
          "{\"value\":" + "9".repeat(1_001) + "}"));
      assertEquals(400, OneNode.status(longNumber), longNumber);
    }
  }

  @Test
  void entriesForKeysAreBoundedInKeysAndBytes() throws IOException {
    try (OneNode n = new OneNode(Map.of())) {
      String big = "x".repeat(1_000_000);
      StringBuilder keys = new StringBuilder();
      for (int i = 0; i < 6; i++) {
        String put = n.exchange(OneNode.request("PUT", "/key-value-store/big" + i,
            "{\"value\":\"" + big + "\"}"));
        assertEquals(201, OneNode.status(put), put.substring(0, Math.min(200, put.length())));
        keys.append(i == 0 ? "" : ",").append("\"big").append(i).append('"');
      }
      String entries = n.exchange(OneNode.request("POST", "/internal/entries",
          "{\"from\":\"127.0.0.1:1\",\"keys\":[" + keys + "]}"));
      assertEquals(200, OneNode.status(entries));
      int served = Integer.parseInt(entries.replaceAll("(?s).*\"served\":(\\d+).*", "$1"));
      assertTrue(served >= 1 && served < 6, "4 MiB of entries at most, then ask again: "
          + served);
      String scan = n.exchange(OneNode.request("POST", "/internal/scan",
          "{\"shard\":1,\"limit\":4096}"));
      assertEquals(200, OneNode.status(scan));
      assertTrue(!scan.contains("\"last\":null"), "a bounded page names where to go on");
      StringBuilder many = new StringBuilder();
      for (int i = 0; i <= 4096; i++) {
        many.append(i == 0 ? "" : ",").append("\"k").append(i).append('"');
      }
      String tooMany = n.exchange(OneNode.request("POST", "/internal/entries",
          "{\"from\":\"127.0.0.1:1\",\"keys\":[" + many + "]}"));
      assertEquals(400, OneNode.status(tooMany), tooMany);
      String pageTooLong = n.exchange(OneNode.request("POST", "/internal/scan",
          "{\"shard\":1,\"limit\":4097}"));
      assertEquals(400, OneNode.status(pageTooLong), pageTooLong);
    }
  }
}
