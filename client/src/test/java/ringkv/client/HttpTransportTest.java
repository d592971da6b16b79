package ringkv.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import ringkv.ring.Rendezvous;
import ringkv.ring.Ring;

/*
 * Goal: the client's HTTP transport on the wire: keep-alive connections are reused and bounded
 * per node; a node that closes connections (after an answer, with or without saying so, or in
 * the middle of one) costs no failed operation; connect and request timeouts fire and leave no
 * half-used connection behind; 503 and 500 "View change in progress" are retried after their
 * Retry-After, other 500s are not; GETs are pipelined only when asked and PUTs never.
 *
 * Method: ScriptedNode, a node on plain blocking sockets, counts the connections it accepts
 * and answers each request with the bytes a test scripts; a listening socket whose backlog is
 * full plays a node that never completes a connect. The reuse and timeout tests run on both
 * the JDK's NIO and Netty's epoll (its native library is a test dependency; on a machine where
 * it does not load, the epoll run is NIO again). Waiting is on futures, latches and
 * Awaitility conditions with timeouts, never on sleeps.
 */
class HttpTransportTest {
  private static final String GOT = "{\"message\":\"Retrieved successfully\","
      + "\"causal-metadata\":{\"keys\":{}},\"value\":\"v\"}";

  @RegisterExtension final Opened<ScriptedNode> opened = new Opened<>();

  /** A node serving a one-shard ring of itself. */
  private ScriptedNode node() {
    ScriptedNode n = opened.node(new ScriptedNode());
    n.ringJson = FakeNode.oneShardRingJson(n.address());
    return n;
  }

  @Test
  void keepAliveConnectionsAreReused() {
    for (boolean nativeTransport : new boolean[] {false, true}) {
      ScriptedNode a = node();
      a.script = r -> ScriptedNode.Script.json(200, GOT);
      RingKvClient client = opened.client(RingKvClient.builder(a.address())
          .nativeTransport(nativeTransport));
      Session session = new Session();
      for (int i = 0; i < 50; i++) {
        assertEquals("\"v\"", client.getBlocking(session, "k" + i).valueJson().orElseThrow());
      }
      assertEquals(nativeTransport && NativeTransport.available() ? "epoll" : "nio",
          client.transport());
      // One connection served the ring read and the 50 GETs, one after the other.
      assertEquals(1, a.connections.get(), client.transport());
      assertEquals(1, client.connectsStarted(a.address()), client.transport());
      assertEquals(50, a.requests.stream().filter(r -> r.connection() == 1).count());
    }
  }

  @Test
  void connectionsPerNodeAreBounded() throws Exception {
    ScriptedNode a = node();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch fourArrived = new CountDownLatch(4);
    a.script = r -> {
      fourArrived.countDown();
      ScriptedNode.hold(release);
      return ScriptedNode.Script.json(200, GOT);
    };
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).connectionsPerNodeMax(4));
    Session session = new Session();
    List<CompletableFuture<GetResult>> gets = new ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        gets.add(client.get(session, "k" + i));
      }
      assertTrue(fourArrived.await(5, TimeUnit.SECONDS), "four requests on four connections");
      assertEquals(4, a.requests.size(), "the other eight wait for a free connection");
    } finally {
      release.countDown();
    }
    for (CompletableFuture<GetResult> g : gets) {
      assertTrue(g.get(10, TimeUnit.SECONDS).found());
    }
    assertTrue(a.connections.get() <= 4 + 1, "at most 4, plus the ring read's: "
        + a.connections.get());
    assertEquals(12, a.requests.size());
  }

  @Test
  void aNodeThatClosesAfterEachAnswerWithoutSayingSoCostsNoFailure() {
    ScriptedNode a = node();
    // The node closes the connection after each answer without "Connection: close": the
    // client finds out when it sends the next request on it, and sends that one again on a
    // new connection, without counting an attempt.
    a.script = r -> new ScriptedNode.Script(ScriptedNode.answer(200, GOT, ""),
        ScriptedNode.Script.After.CLOSE);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    for (int i = 0; i < 20; i++) {
      GetResult r = client.getBlocking(session, "k" + i);
      assertTrue(r.found());
      assertEquals(1, r.attempts(), "no retry for a stale pooled connection");
    }
    assertEquals(0, client.stats().retries(), client.stats().toString());
    assertEquals(20, a.requests.size(), "each request reached the node once");
  }

  @Test
  void connectionCloseAndHttp10AnswersAreNotReused() {
    ScriptedNode a = node();
    AtomicInteger n = new AtomicInteger();
    a.script = r -> n.incrementAndGet() % 2 == 0
        ? new ScriptedNode.Script(ScriptedNode.answer(200, GOT, "connection: close\r\n"),
            ScriptedNode.Script.After.CLOSE)
        : ScriptedNode.Script.bytes("HTTP/1.0 200 OK\r\ncontent-length: " + GOT.length()
            + "\r\n\r\n" + GOT, ScriptedNode.Script.After.CLOSE);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    for (int i = 0; i < 10; i++) {
      assertEquals(1, client.getBlocking(session, "k" + i).attempts());
    }
    assertEquals(10, a.requests.size());
    assertEquals(10, a.requests.stream().mapToInt(ScriptedNode.Request::connection).distinct()
        .count(), "one connection per request");
  }

  @Test
  void chunkedAndCloseDelimitedAnswersAreRead() {
    ScriptedNode a = node();
    String half = GOT.substring(0, 20);
    String rest = GOT.substring(20);
    AtomicInteger n = new AtomicInteger();
    a.script = r -> n.incrementAndGet() % 2 == 1
        ? ScriptedNode.Script.bytes("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            + Integer.toHexString(half.length()) + ";x=y\r\n" + half + "\r\n"
            + Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\nt: 1\r\n\r\n",
            ScriptedNode.Script.After.KEEP_OPEN)
        : ScriptedNode.Script.bytes("HTTP/1.1 200 OK\r\n\r\n" + GOT,
            ScriptedNode.Script.After.CLOSE);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    for (int i = 0; i < 6; i++) {
      assertEquals("\"v\"", client.getBlocking(session, "k" + i).valueJson().orElseThrow());
    }
  }

  @Test
  void aNodeThatDiesInTheMiddleOfAnAnswerIsRetried() {
    ScriptedNode a = node();
    AtomicInteger n = new AtomicInteger();
    a.script = r -> n.incrementAndGet() == 1
        ? ScriptedNode.Script.bytes("HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"mess",
            ScriptedNode.Script.After.CLOSE)
        : ScriptedNode.Script.json(200, GOT);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).retryDelayMs(5, 10));
    GetResult r = client.getBlocking(new Session(), "k");
    assertTrue(r.found());
    assertEquals(2, r.attempts(), "the truncated answer failed the first attempt");
    assertEquals(1, client.stats().unreachable());
  }

  @Test
  void garbageIsAProtocolErrorAndNotRetried() {
    ScriptedNode a = node();
    a.script = r -> ScriptedNode.Script.bytes("SMTP ready\r\n\r\n",
        ScriptedNode.Script.After.KEEP_OPEN);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    RingKvException e = assertThrows(RingKvException.class,
        () -> client.getBlocking(new Session(), "k"));
    assertEquals(RingKvException.Kind.PROTOCOL, e.kind());
    assertEquals(1, a.requests.size());
  }

  @Test
  void aRequestTimeoutClosesTheConnectionAndTheNextRequestUsesANewOne() throws Exception {
    for (boolean nativeTransport : new boolean[] {false, true}) {
      ScriptedNode a = node();
      AtomicInteger n = new AtomicInteger();
      a.script = r -> n.incrementAndGet() == 1 ? ScriptedNode.Script.silence()
          : ScriptedNode.Script.json(200, GOT);
      RingKvClient client = opened.client(RingKvClient.builder(a.address())
          .nativeTransport(nativeTransport).requestTimeoutMs(300).operationTimeoutMs(350)
          .retryDelayMs(500, 500));
      long started = System.nanoTime();
      RingKvException e = assertThrows(RingKvException.class,
          () -> client.getBlocking(new Session(), "k"));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertEquals(RingKvException.Kind.TIMEOUT, e.kind(), client.transport());
      assertTrue(tookMs >= 300 && tookMs < 2_000, "timed out after " + tookMs + " ms");
      assertEquals(1, client.stats().timeouts());
      // The connection that carried it is closed: its answer could come late and be read as
      // the next request's.
      await().atMost(5, TimeUnit.SECONDS).until(() -> a.closedByClient.get() == 1);
      assertTrue(client.getBlocking(new Session(), "k").found());
      assertEquals(2, a.requests.stream().mapToInt(ScriptedNode.Request::connection)
          .distinct().count(), "the next request went on a new connection");
    }
  }

  @Test
  void aConnectThatNeverCompletesTimesOut() throws Exception {
    ScriptedNode a = node();
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      // Nobody accepts, and once its backlog is full Linux drops further SYNs: a connect to it
      // hangs like one to a dead host.
      List<SocketChannel> fillers = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          SocketChannel c = SocketChannel.open();
          c.configureBlocking(false);
          c.connect(new InetSocketAddress("127.0.0.1", full.getLocalPort()));
          fillers.add(c);
        }
        String dead = "127.0.0.1:" + full.getLocalPort();
        List<String> members = List.of(dead, a.address());
        a.ringJson = FakeNode.ringJson(1, Ring.initial(1, 20), List.of(members));
        a.script = r -> ScriptedNode.Script.json(200, GOT);
        String key = IntStream.range(0, 100).mapToObj(i -> "k" + i)
            .filter(k -> Rendezvous.orderNames(k, members).get(0).equals(dead))
            .findFirst().orElseThrow();
        RingKvClient client = opened.client(RingKvClient.builder(a.address()).connectTimeoutMs(200)
            .requestTimeoutMs(5_000).operationTimeoutMs(5_000).retryDelayMs(50, 100));
        long started = System.nanoTime();
        GetResult r = client.getBlocking(new Session(), key);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        // The key's first replica never completes the connect: after the connect timeout it is
        // suspect, and the retry goes to the next replica in the key's rendezvous order.
        assertTrue(r.found());
        assertEquals(a.address(), r.node());
        assertEquals(1, client.stats().unreachable(), client.stats().toString());
        assertEquals(2, r.attempts());
        assertTrue(tookMs >= 200 && tookMs < 3_000, "took " + tookMs + " ms");
      } finally {
        for (SocketChannel c : fillers) {
          c.close();
        }
      }
    }
  }

  @Test
  void unavailableAndViewChangeAreRetriedAfterRetryAfterOtherServerErrorsAreNot() {
    ScriptedNode a = node();
    AtomicInteger n = new AtomicInteger();
    a.script = r -> switch (n.incrementAndGet()) {
      case 1 -> new ScriptedNode.Script(ScriptedNode.answer(503, "{\"error\":\"Unable to "
          + "satisfy request\",\"message\":\"Error in GET\"}", "Retry-After: 1\r\n"),
          ScriptedNode.Script.After.KEEP_OPEN);
      case 2 -> new ScriptedNode.Script(ScriptedNode.answer(500, "{\"error\":\"View change "
          + "in progress\",\"message\":\"Error in GET\"}", "retry-after: 1\r\n"),
          ScriptedNode.Script.After.KEEP_OPEN);
      case 3 -> ScriptedNode.Script.json(200, GOT);
      default -> ScriptedNode.Script.json(500, "{\"error\":\"boom\",\"message\":\"Error\"}");
    };
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).retryDelayMs(10, 20));
    long started = System.nanoTime();
    GetResult r = client.getBlocking(new Session(), "k");
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertTrue(r.found());
    assertEquals(3, r.attempts());
    assertTrue(tookMs >= 2_000, "two Retry-After: 1 honoured, took " + tookMs + " ms");
    assertEquals(2, client.stats().retries());
    assertEquals(1, client.stats().viewChangeRetries());

    RingKvException e = assertThrows(RingKvException.class,
        () -> client.getBlocking(new Session(), "k"));
    assertEquals(500, e.status());
    assertEquals("boom", e.error());
    assertEquals(4, a.requests.size(), "a plain 500 is not retried");
  }

  @Test
  void getsArePipelinedOnlyWhenAskedAndPutsNever() throws Exception {
    ScriptedNode a = node();
    CountDownLatch release = new CountDownLatch(1);
    a.script = ScriptedNode.holding("/key-value-store/slow", release, r ->
        r.method().equals("PUT")
            ? ScriptedNode.Script.json(201, "{\"message\":\"Added successfully\","
                + "\"causal-metadata\":{\"keys\":{}},\"shard-id\":1}")
            : ScriptedNode.Script.json(200, GOT));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).connectionsPerNodeMax(1)
        .pipelineDepthMax(4));
    Session session = new Session();
    client.getBlocking(session, "warm"); // the one connection is open and idle
    try {
      CompletableFuture<GetResult> slow = client.get(session, "slow");
      CompletableFuture<GetResult> behind = client.get(session, "behind");
      CompletableFuture<PutResult> put = client.putJson(session, "p", "1");
      // The node reads requests in order on the one connection: it has the pipelined GET
      // behind the slow one, but the PUT waits for the connection to be free.
      await().atMost(5, TimeUnit.SECONDS).until(() -> a.requests.size() >= 2);
      assertEquals(List.of("/key-value-store/warm", "/key-value-store/slow"),
          a.requests.stream().map(ScriptedNode.Request::path).toList().subList(0, 2));
      assertFalse(put.isDone());
      release.countDown();
      assertTrue(slow.get(5, TimeUnit.SECONDS).found());
      assertTrue(behind.get(5, TimeUnit.SECONDS).found());
      assertTrue(put.get(5, TimeUnit.SECONDS).created());
    } finally {
      release.countDown();
    }
    assertEquals(1, a.requests.stream().mapToInt(ScriptedNode.Request::connection).distinct()
        .count(), "one connection carried everything");
  }

  @Test
  void closeFailsOperationsInFlightAndStopsTheEventLoops() {
    ScriptedNode a = node();
    a.script = r -> ScriptedNode.Script.silence();
    Set<Thread> before = clientThreads();
    RingKvClient client = RingKvClient.builder(a.address()).build();
    CompletableFuture<GetResult> pending = client.get(new Session(), "k");
    await().atMost(5, TimeUnit.SECONDS).until(() -> !a.requests.isEmpty());
    assertTrue(clientThreads().size() > before.size(), "the client has its event loop");
    client.close();
    assertTrue(pending.isCompletedExceptionally(), "failed by close");
    // close waits for the event loops' termination; each thread exits just after it.
    await().atMost(5, TimeUnit.SECONDS).untilAsserted(() ->
        assertEquals(before, clientThreads(), "close stopped the client's threads"));
    assertThrows(IllegalStateException.class, () -> client.get(new Session(), "k"));
  }

  private static Set<Thread> clientThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive()
        && t.getName().startsWith(RingKvClient.IO_THREAD_NAME_PREFIX))
        .collect(Collectors.toSet());
  }

  @Test
  void blockingCallsFromTheClientsOwnCallbacksAreRefused() throws Exception {
    ScriptedNode a = node();
    // The answer waits until the callback is attached, so the callback runs on the client's
    // event loop when the answer comes (attached to a completed future, it would run here).
    CountDownLatch attached = new CountDownLatch(1);
    a.script = ScriptedNode.holding("/key-value-store/k", attached,
        r -> ScriptedNode.Script.json(200, GOT));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    CompletableFuture<Throwable> inCallback = client.get(session, "k").handle((r, e) -> {
      try {
        client.getBlocking(session, "k2");
        return null;
      } catch (RuntimeException ex) {
        return ex;
      }
    });
    attached.countDown();
    assertTrue(inCallback.get(5, TimeUnit.SECONDS) instanceof IllegalStateException);
  }
}
