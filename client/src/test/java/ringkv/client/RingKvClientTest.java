package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import ringkv.ring.Rendezvous;
import ringkv.ring.Ring;

/*
 * Goal: the client's behaviour on the wire, without a cluster: it routes each key to a member
 * of its shard (always the same one, by rendezvous order, skipping members the ring lists as
 * down), carries and merges causal metadata, returns not-found as a result, retries 500
 * "View change in progress" after the Retry-After the server sent and re-reads the ring, goes
 * around an unreachable member, fails fast on 400, and enforces its bounds (in-flight slots,
 * request timeout, operation deadline).
 *
 * Method: FakeNode HTTP servers in this JVM play nodes with scripted answers and record what
 * they receive; a /ring body rendered from the server's Ring class names them as shard members.
 * Waiting is on futures and latches with timeouts, never on sleeps.
 */
class RingKvClientTest {
  @RegisterExtension final Opened<FakeNode> opened = new Opened<>();

  private FakeNode node() {
    return opened.node(new FakeNode());
  }

  /** Every fake node serves the same ring: shard s has members.get(s - 1). */
  private void serveRing(long epoch, Ring ring, List<List<String>> members) {
    String json = FakeNode.ringJson(epoch, ring, members);
    opened.nodes().forEach(n -> n.ringJson = json);
  }

  private static String written(String key, String node, long counter) {
    return "{\"message\":\"Added successfully\",\"causal-metadata\":{\"keys\":{\"" + key
        + "\":[" + counter + ",\"" + node + "\"]}},\"shard-id\":1}";
  }

  @Test
  void routesEachKeyToAMemberOfItsShard() {
    FakeNode a = node();
    FakeNode b = node();
    Ring ring = Ring.initial(2, 20);
    serveRing(1, ring, List.of(List.of(a.address()), List.of(b.address())));
    a.handler = r -> FakeNode.Reply.json(201, written("k", a.address(), 1)
        .replace("\"shard-id\":1", "\"shard-id\":1"));
    b.handler = r -> FakeNode.Reply.json(201, written("k", b.address(), 1)
        .replace("\"shard-id\":1", "\"shard-id\":2"));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    for (int i = 0; i < 200; i++) {
      PutResult r = client.putJsonBlocking(session, "key" + i, "1");
      assertEquals(ring.shardOf("key" + i), r.shardId(), "key" + i);
      assertEquals(r.shardId() == 1 ? a.address() : b.address(), r.node());
    }
    assertEquals(200, a.requests.size() + b.requests.size());
    a.requests.forEach(r -> assertEquals(1, ring.shardOf(r.path().substring(17)), r.path()));
    b.requests.forEach(r -> assertEquals(2, ring.shardOf(r.path().substring(17)), r.path()));
    assertEquals(0, client.stats().misrouted());
  }

  @Test
  void eachKeyGoesToItsRendezvousReplicaSoASessionWithoutMetadataReadsItsWrites() {
    // Issue 12: a client without metadata writes a key and reads it back; both requests must
    // reach the same replica, or the read may come before replication and miss the write.
    FakeNode a = node();
    FakeNode b = node();
    List<String> members = List.of(a.address(), b.address());
    serveRing(1, Ring.initial(1, 20), List.of(members));
    a.handler = answersWrittenThenRead(a);
    b.handler = answersWrittenThenRead(b);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    int onA = 0;
    for (int i = 0; i < 100; i++) {
      String key = "key" + i;
      String replica = Rendezvous.orderNames(key, members).get(0);
      PutResult put = client.putJsonBlocking(new Session(), key, "1");
      GetResult got = client.getBlocking(new Session(), key);
      assertEquals(replica, put.node(), key);
      assertEquals(replica, got.node(), key);
      assertEquals(replica, client.nodeFor(key), key);
      assertTrue(got.found(), key + ": read its own write without metadata");
      onA += replica.equals(a.address()) ? 1 : 0;
    }
    assertTrue(onA > 20 && onA < 80, "keys spread over both replicas: " + onA + " on a");
  }

  @Test
  void aReplicaTheRingListsAsDownIsSkippedForTheNextInRendezvousOrder() {
    FakeNode a = node();
    FakeNode b = node();
    List<String> members = List.of(a.address(), b.address());
    String json = FakeNode.ringJson(1, Ring.initial(1, 20), List.of(members),
        List.of(List.of(b.address())));
    opened.nodes().forEach(n -> n.ringJson = json);
    a.handler = answersWrittenThenRead(a);
    b.handler = answersWrittenThenRead(b);
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    for (int i = 0; i < 50; i++) {
      assertEquals(b.address(), client.putJsonBlocking(new Session(), "key" + i, "1").node());
    }
    assertTrue(a.requests.isEmpty(), "a is down in the ring: no key-value request for it");
  }

  /** A node's store in miniature: 201 for a new key, 200 after; 404 for a missing one. */
  private static java.util.function.Function<FakeNode.Request, FakeNode.Reply>
      answersWrittenThenRead(FakeNode n) {
    java.util.Set<String> stored = java.util.concurrent.ConcurrentHashMap.newKeySet();
    return r -> {
      String key = r.path().substring(RingKvClient.KV_PATH.length());
      if (r.method().equals("PUT")) {
        return FakeNode.Reply.json(stored.add(key) ? 201 : 200, written(key, n.address(), 1));
      }
      return stored.contains(key)
          ? FakeNode.Reply.json(200, "{\"message\":\"Retrieved successfully\","
              + "\"causal-metadata\":{\"keys\":{}},\"value\":1}")
          : FakeNode.Reply.json(404, "{\"doesExist\":false,\"error\":\"Key does not exist\","
              + "\"message\":\"Error in GET\",\"causal-metadata\":{\"keys\":{}}}");
    };
  }

  @Test
  void aStaleRingIsReadAgainWhenANodeAnswersForAnotherShard() {
    // The ring changed (a reshard added shard 2 on b) without this client seeing a 500: a still
    // takes the keys it no longer owns and forwards them, answering with the owner's shard-id.
    // The client must notice the misroute, read the ring again and go to b directly.
    FakeNode a = node();
    FakeNode b = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address())
        .ringRefreshIntervalMs(600_000)); // no periodic read: only the misroute explains one
    Session session = new Session();
    Ring resharded = Ring.initial(2, 20);
    String key = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "key" + i)
        .filter(k -> resharded.shardOf(k) == 2).findFirst().orElseThrow();
    a.handler = r -> FakeNode.Reply.json(201, written(key, b.address(), 1)
        .replace("\"shard-id\":1", "\"shard-id\":2")); // forwarded to b's shard
    b.handler = r -> FakeNode.Reply.json(201, written(key, b.address(), 2)
        .replace("\"shard-id\":1", "\"shard-id\":2"));
    assertEquals(a.address(), client.putJsonBlocking(session, key, "1").node(), "old ring");
    serveRing(2, resharded, List.of(List.of(a.address()), List.of(b.address())));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (b.requests.isEmpty() && System.nanoTime() < deadline) {
      client.putJsonBlocking(session, key, "1"); // each misroute may trigger the ring read
    }
    assertEquals(1, b.requests.size(), "went to the new owner once the ring was read again");
    assertTrue(client.stats().misrouted() >= 1, "misroutes were counted");
    int before = a.requests.size();
    assertEquals(b.address(), client.putJsonBlocking(session, key, "2").node());
    assertEquals(before, a.requests.size(), "no more requests to the old owner");
  }

  @Test
  void carriesMetadataReturnsValuesVerbatimAndNotFoundAsAResult() {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    Session session = new Session();
    a.handler = r -> FakeNode.Reply.json(201, written("x y/ü", "n:1", 10));
    PutResult put = client.putBlocking(session, "x y/ü", JsonNodeFactory.instance.textNode("v"));
    assertTrue(put.created());
    assertEquals(new Version(10, "n:1"), put.version());
    FakeNode.Request sent = a.requests.poll();
    assertEquals("PUT", sent.method());
    assertEquals("/key-value-store/x%20y%2F%C3%BC", sent.path());
    assertEquals("{\"value\":\"v\",\"causal-metadata\":{\"keys\":{}}}", sent.body());

    a.handler = r -> FakeNode.Reply.json(200, "{\"message\":\"Retrieved successfully\","
        + "\"causal-metadata\":{\"keys\":{\"x y/ü\":[10,\"n:1\"],\"dep\":[4,\"n:2\"]}},"
        + "\"value\":1.50}");
    GetResult got = client.getBlocking(session, "x y/ü");
    assertEquals("1.50", got.valueJson().orElseThrow());
    assertEquals("1.50", got.value().decimalValue().toPlainString());
    assertEquals("{\"causal-metadata\":{\"keys\":{\"x y/ü\":[10,\"n:1\"]}}}",
        a.requests.poll().body(), "the GET carried what the PUT taught");
    assertEquals(new Version(4, "n:2"), session.metadata().versionOf("dep"));

    a.handler = r -> FakeNode.Reply.json(404, "{\"doesExist\":false,\"error\":\"Key does not "
        + "exist\",\"message\":\"Error in " + r.method() + "\",\"causal-metadata\":{\"keys\":"
        + "{\"gone\":[12,\"n:1\"]}}}");
    assertFalse(client.getBlocking(session, "gone").found());
    assertTrue(client.getBlocking(session, "gone").value().isMissingNode());
    assertFalse(client.deleteBlocking(session, "gone").found());
    assertEquals(new Version(12, "n:1"), session.metadata().versionOf("gone"),
        "a 404 carries metadata too");
  }

  @Test
  void viewChangeIsRetriedAfterRetryAfterWithAFreshRing() {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    int ringReadsBefore = a.ringReads.get();
    AtomicInteger calls = new AtomicInteger();
    a.handler = r -> calls.incrementAndGet() == 1
        ? new FakeNode.Reply(500, "{\"error\":\"View change in progress\",\"message\":\"Error in "
            + "PUT\"}", Map.of("Retry-After", "1"))
        : FakeNode.Reply.json(200, written("k", "n:1", 3).replace("Added", "Updated"));
    long started = System.nanoTime();
    PutResult r = client.putJsonBlocking(new Session(), "k", "\"v\"");
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertFalse(r.created());
    assertEquals(2, r.attempts());
    assertTrue(tookMs >= 1000, "Retry-After: 1 honoured, took " + tookMs + " ms");
    assertTrue(a.ringReads.get() > ringReadsBefore, "the ring was read again");
    assertEquals(1, client.stats().viewChangeRetries());
  }

  @Test
  void goesAroundAnUnreachableMember() throws Exception {
    FakeNode a = node();
    String dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      dead = "127.0.0.1:" + s.getLocalPort(); // closed below: connections are refused
    }
    serveRing(1, Ring.initial(1, 20), List.of(List.of(dead, a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    a.handler = r -> FakeNode.Reply.json(201, written("k", a.address(), 1));
    Session session = new Session();
    for (int i = 0; i < 20; i++) {
      assertEquals(a.address(), client.putJsonBlocking(session, "k" + i, "1").node());
    }
    assertTrue(client.stats().unreachable() <= 2, "suspected after the first refusal: "
        + client.stats());
  }

  @Test
  void badRequestFailsAtOnceWithTheServersError() {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    a.handler = r -> FakeNode.Reply.json(400, "{\"error\":\"Key is too long\","
        + "\"message\":\"Error in PUT\"}");
    RingKvException e = assertThrows(RingKvException.class,
        () -> client.putJsonBlocking(new Session(), "k".repeat(51), "1"));
    assertEquals(RingKvException.Kind.HTTP, e.kind());
    assertEquals(400, e.status());
    assertEquals("Key is too long", e.error());
    assertEquals(1, a.requests.size(), "not retried");
    assertThrows(IllegalArgumentException.class,
        () -> client.putJson(new Session(), "k", "not json"));
    assertThrows(IllegalArgumentException.class, () -> client.putJson(new Session(), "k", "1 2"));
    assertThrows(IllegalArgumentException.class, () -> client.get(new Session(), ""));
  }

  @Test
  void persistent503FailsAtTheOperationDeadline() {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).operationTimeoutMs(1_000)
        .retryDelayMs(10, 50));
    a.handler = r -> FakeNode.Reply.json(503, "{\"error\":\"Unable to satisfy request\","
        + "\"message\":\"Error in GET\"}");
    long started = System.nanoTime();
    RingKvException e = assertThrows(RingKvException.class,
        () -> client.getBlocking(new Session(), "k"));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertEquals(503, e.status());
    assertTrue(a.requests.size() > 2, "retried: " + a.requests.size());
    assertTrue(tookMs < 3_000, "gave up at the deadline, took " + tookMs + " ms");
  }

  @Test
  void anAttemptCutShortByTheDeadlineReportsWhatTheNodesAnswered() {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).operationTimeoutMs(600)
        .requestTimeoutMs(10_000).retryDelayMs(10, 10));
    CountDownLatch release = new CountDownLatch(1);
    a.handler = r -> {
      if (a.requests.size() > 1) { // the retry hangs past the operation's deadline
        ScriptedNode.hold(release);
      }
      return FakeNode.Reply.json(503, "{\"error\":\"Unable to satisfy request\","
          + "\"message\":\"Error in GET\"}");
    };
    try {
      RingKvException e = assertThrows(RingKvException.class,
          () -> client.getBlocking(new Session(), "k"));
      assertEquals(RingKvException.Kind.HTTP, e.kind());
      assertEquals(503, e.status());
      assertEquals(1, e.getSuppressed().length, "the timed-out attempt is attached");
      assertEquals(RingKvException.Kind.TIMEOUT,
          ((RingKvException) e.getSuppressed()[0]).kind());
    } finally {
      release.countDown();
    }
  }

  @Test
  void inFlightSlotsAndRequestTimeoutsAreBounded() throws Exception {
    FakeNode a = node();
    serveRing(1, Ring.initial(1, 20), List.of(List.of(a.address())));
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).inFlightMax(2)
        .inFlightWaitMs(50).requestTimeoutMs(3_000).operationTimeoutMs(3_000));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch arrived = new CountDownLatch(2);
    a.handler = r -> {
      arrived.countDown();
      ScriptedNode.hold(release);
      return FakeNode.Reply.json(200, "{\"message\":\"Retrieved successfully\","
          + "\"causal-metadata\":{},\"value\":1}");
    };
    Session session = new Session();
    CompletableFuture<GetResult> first = client.get(session, "a");
    CompletableFuture<GetResult> second = client.get(session, "b");
    assertTrue(arrived.await(5, TimeUnit.SECONDS));
    ExecutionException third = assertThrows(ExecutionException.class,
        () -> client.get(session, "c").get(5, TimeUnit.SECONDS));
    assertEquals(RingKvException.Kind.OVERLOADED, ((RingKvException) third.getCause()).kind());
    release.countDown();
    assertTrue(first.get(5, TimeUnit.SECONDS).found());
    assertTrue(second.get(5, TimeUnit.SECONDS).found());
    assertTrue(client.getBlocking(session, "d").found(), "slots come back");

    RingKvClient impatient = opened.client(RingKvClient.builder(a.address()).requestTimeoutMs(200)
        .operationTimeoutMs(300).retryDelayMs(500, 500));
    CountDownLatch never = new CountDownLatch(1);
    a.handler = r -> {
      try {
        never.await(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return FakeNode.Reply.json(200, "{}");
    };
    RingKvException e = assertThrows(RingKvException.class,
        () -> impatient.getBlocking(session, "slow"));
    assertEquals(RingKvException.Kind.TIMEOUT, e.kind());
    never.countDown();
  }
}
