package ringkv.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import ringkv.ring.KeyHash;
import ringkv.ring.Rendezvous;

/**
 * A RingKV client for the shard dialect that routes each key straight to a live member of its
 * owning shard.
 *
 * <p><b>Routing.</b> The client reads {@code GET /ring} from one node and hashes keys exactly as
 * the servers do (murmur3_128 of the UTF-8 key, the owner of the first token &gt;= the key's
 * token, wrapping; the server's own {@link ringkv.ring.Ring}), then sends each request to one
 * member of the owning shard, so no node has to forward it: the members in
 * {@link Rendezvous#orderNames} order for the key (the rule a forwarding node uses too), the
 * first that the ring lists as live and that has not just been unreachable, else the first
 * that has not been unreachable. So a key always goes to the same replica while it is live,
 * and a client reads its own writes through it even without metadata. It reads the ring again
 * when it may be stale: when a node answers 500 "View change in progress", when a node cannot
 * be reached, when a write reports another shard than the one it was routed to, and otherwise
 * every {@link Builder#ringRefreshIntervalMs}. A stale ring costs a forward, never a wrong
 * answer: every node forwards requests for keys it does not own. {@link Routing#RANDOM_NODE}
 * sends each request to a random live node instead (what a ring-unaware client does).
 *
 * <p><b>Causality.</b> Every operation takes a {@link Session}; the client sends the session's
 * causal metadata and merges the metadata of the answer into it, 404s included.
 *
 * <p><b>Retries.</b> 500 "View change in progress", 503 and transport failures are retried,
 * with capped exponential backoff that honours {@code Retry-After}, on another live member when
 * a node was unreachable, until the operation's deadline ({@link Builder#operationTimeoutMs})
 * or {@link #ATTEMPTS_MAX} attempts. Other errors (400, 413, ...) fail at once. A retried PUT
 * may be applied twice, which stores the same value; a retried DELETE may report "not found".
 * Failures complete the future with a {@link RingKvException}.
 *
 * <p><b>Transport.</b> HTTP/1.1 on Netty ({@link HttpTransport}): {@link Builder#ioThreads}
 * event loops, each with a pool of keep-alive connections per node (at most
 * {@link Builder#connectionsPerNodeMax} per node in all), TCP_NODELAY, requests and answers
 * encoded and decoded on the event loop without copies of the JSON into strings. GETs may be
 * pipelined ({@link Builder#pipelineDepthMax}, off by default: a GET that waits for a causal
 * dependency would hold up the ones behind it); PUTs and DELETEs never are.
 *
 * <p><b>Bounds.</b> At most {@link Builder#inFlightMax} operations are in flight (retries
 * included); an operation started beyond that waits up to {@link Builder#inFlightWaitMs} on
 * the calling thread (not at all on the client's own event loop, which must not block), then
 * fails with {@link RingKvException.Kind#OVERLOADED}. Every connect has a timeout
 * ({@link Builder#connectTimeoutMs}), every attempt a request timeout and every operation a
 * deadline.
 *
 * <p>Thread-safe: one client serves any number of threads and sessions. Futures complete on
 * the client's event loop threads (or the caller's, for a failure found before sending), so
 * callbacks must not block: a callback that blocks stalls every operation on its loop, and a
 * blocking call ({@code getBlocking} ...) made from a callback throws
 * {@link IllegalStateException} instead of deadlocking. An operation started from a callback
 * stays on that callback's event loop. {@link #close()} fails operations still in flight.
 */
public final class RingKvClient implements AutoCloseable {
  /** Attempts per operation, whatever the deadline. */
  public static final int ATTEMPTS_MAX = 100;
  /** A node that could not be reached is avoided for this long (unless nothing else is left). */
  public static final long SUSPECT_MS = 2_000;
  /** Minimum gap between two ring refreshes (triggers closer than this are merged). */
  public static final long RING_REFRESH_GAP_MS_MIN = 100;
  /**
   * Default event loop threads: one. One loop drives tens of thousands of requests per
   * second; a client on a small machine shares it with the nodes.
   */
  public static final int IO_THREADS_DEFAULT = 1;
  /** Names of the client's event loop threads start with this (for profiles and CPU counts). */
  public static final String IO_THREAD_NAME_PREFIX = "ringkv-client-";

  static final String KV_PATH = "/key-value-store/";
  private static final HttpTransport.BodyPart VALUE_OPEN =
      HttpTransport.BodyPart.of(HttpTransport.ascii("{\"value\":"));
  private static final HttpTransport.BodyPart VALUE_THEN_METADATA =
      HttpTransport.BodyPart.of(HttpTransport.ascii(",\"causal-metadata\":"));
  private static final HttpTransport.BodyPart METADATA_OPEN =
      HttpTransport.BodyPart.of(HttpTransport.ascii("{\"causal-metadata\":"));
  private static final HttpTransport.BodyPart CLOSE =
      HttpTransport.BodyPart.of(HttpTransport.ascii("}"));
  private static final String VIEW_CHANGE = "View change in progress";

  /** How requests are routed. */
  public enum Routing {
    /** To a live member of the key's shard (no forwarding). */
    SMART,
    /** To a random live node, which forwards when it does not own the key. */
    RANDOM_NODE
  }

  /** Counters since the client was created; a consistent-enough snapshot for reporting. */
  public record Stats(long attempts, long retries, long viewChangeRetries, long unreachable,
      long timeouts, long ringRefreshes, long epochChanges, long misrouted) {}

  private enum Method { GET, PUT, DELETE }

  private final String seed;
  private final Routing routing;
  private final long requestTimeoutMs;
  private final long operationTimeoutMs;
  private final long inFlightWaitMs;
  private final long retryDelayMsMin;
  private final long retryDelayMsMax;
  private final long ringRefreshIntervalMs;
  private final HttpTransport transport;
  private final Semaphore inFlight;
  /** Operations waiting out a backoff (the rest are failed by the transport when it closes). */
  private final Set<Call<?>> backingOff = ConcurrentHashMap.newKeySet();
  private final AtomicReference<RingSnapshot> ring = new AtomicReference<>();
  private final AtomicReference<CompletableFuture<RingSnapshot>> refreshing =
      new AtomicReference<>();
  private final AtomicLong lastRefreshNanos = new AtomicLong(System.nanoTime() - 1_000_000_000L);
  private final Map<String, Long> suspectUntilNanos = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private final LongAdder attempts = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder viewChangeRetries = new LongAdder();
  private final LongAdder unreachable = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder ringRefreshes = new LongAdder();
  private final LongAdder epochChanges = new LongAdder();
  private final LongAdder misrouted = new LongAdder();

  /** Options of a client; every duration is in milliseconds. Not thread-safe. */
  public static final class Builder {
    private final String seed;
    private Routing routing = Routing.SMART;
    private int inFlightMax = 256;
    private long inFlightWaitMs = 10_000;
    private long connectTimeoutMs = 1_000;
    private long requestTimeoutMs = 10_000;
    private long operationTimeoutMs = 30_000;
    private long retryDelayMsMin = 20;
    private long retryDelayMsMax = 1_000;
    private long ringRefreshIntervalMs = 5_000;
    private int ioThreads = IO_THREADS_DEFAULT;
    private int connectionsPerNodeMax = 64;
    private int pipelineDepthMax = 1;
    private boolean nativeTransport = true;

    private Builder(String seed) {
      this.seed = requireAddress(seed);
    }

    public Builder routing(Routing value) {
      this.routing = Objects.requireNonNull(value, "routing");
      return this;
    }

    /** Operations in flight at most (default 256). */
    public Builder inFlightMax(int value) {
      this.inFlightMax = positive(value, "inFlightMax");
      return this;
    }

    /** How long starting an operation may wait for a free in-flight slot (default 10 s). */
    public Builder inFlightWaitMs(long value) {
      this.inFlightWaitMs = positive(value, "inFlightWaitMs");
      return this;
    }

    /**
     * Event loop threads of the client (default {@link #IO_THREADS_DEFAULT}); each carries
     * its share of the connections.
     */
    public Builder ioThreads(int value) {
      this.ioThreads = positive(value, "ioThreads");
      return this;
    }

    /**
     * Keep-alive connections to one node, at most (default 64; divided among the event loops,
     * rounded up); requests beyond wait for a free one.
     */
    public Builder connectionsPerNodeMax(int value) {
      this.connectionsPerNodeMax = positive(value, "connectionsPerNodeMax");
      return this;
    }

    /**
     * GETs in flight on one connection when every connection to the node is busy and at the
     * bound (default 1: no pipelining). PUTs and DELETEs are never pipelined.
     */
    public Builder pipelineDepthMax(int value) {
      this.pipelineDepthMax = positive(value, "pipelineDepthMax");
      return this;
    }

    /**
     * Whether to use Netty's native epoll transport when the application has
     * {@code io.netty:netty-transport-native-epoll} on its class path (default true); the
     * JDK's NIO otherwise.
     */
    public Builder nativeTransport(boolean value) {
      this.nativeTransport = value;
      return this;
    }

    /** TCP connect timeout (default 1 s). */
    public Builder connectTimeoutMs(long value) {
      this.connectTimeoutMs = positive(value, "connectTimeoutMs");
      return this;
    }

    /**
     * Timeout of one attempt (default 10 s: a node may wait 3 s for a causal dependency and
     * 4.5 s for a forward).
     */
    public Builder requestTimeoutMs(long value) {
      this.requestTimeoutMs = positive(value, "requestTimeoutMs");
      return this;
    }

    /** Deadline of an operation, retries included (default 30 s). */
    public Builder operationTimeoutMs(long value) {
      this.operationTimeoutMs = positive(value, "operationTimeoutMs");
      return this;
    }

    /** First retry delay and cap of the exponential backoff (defaults 20 ms and 1 s). */
    public Builder retryDelayMs(long min, long max) {
      this.retryDelayMsMin = positive(min, "retryDelayMsMin");
      if (max < min) {
        throw new IllegalArgumentException("retryDelayMsMax < retryDelayMsMin");
      }
      this.retryDelayMsMax = max;
      return this;
    }

    /** The ring is read again when older than this (default 5 s). */
    public Builder ringRefreshIntervalMs(long value) {
      this.ringRefreshIntervalMs = positive(value, "ringRefreshIntervalMs");
      return this;
    }

    /**
     * Creates the client and reads the ring from the seed node, waiting up to the request
     * timeout.
     *
     * @throws RingKvException if the seed does not answer {@code GET /ring}
     */
    public RingKvClient build() {
      RingKvClient client = new RingKvClient(this);
      try {
        join(client.refreshRing(), requestTimeoutMs + connectTimeoutMs);
        return client;
      } catch (RuntimeException e) {
        client.close();
        throw e;
      }
    }

    private static int positive(int value, String name) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
      return value;
    }

    private static long positive(long value, String name) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
      return value;
    }
  }

  /** Options for a client whose first ring comes from {@code seed} ({@code host:port}). */
  public static Builder builder(String seed) {
    return new Builder(seed);
  }

  /** A client with default options; see {@link Builder#build()}. */
  public static RingKvClient connect(String seed) {
    return builder(seed).build();
  }

  private RingKvClient(Builder b) {
    this.seed = b.seed;
    this.routing = b.routing;
    this.requestTimeoutMs = b.requestTimeoutMs;
    this.operationTimeoutMs = b.operationTimeoutMs;
    this.inFlightWaitMs = b.inFlightWaitMs;
    this.retryDelayMsMin = b.retryDelayMsMin;
    this.retryDelayMsMax = b.retryDelayMsMax;
    this.ringRefreshIntervalMs = b.ringRefreshIntervalMs;
    this.inFlight = new Semaphore(b.inFlightMax);
    this.transport = new HttpTransport(new HttpTransport.Options(b.ioThreads,
        b.connectionsPerNodeMax, b.pipelineDepthMax, b.connectTimeoutMs, b.nativeTransport));
  }

  // --- Operations ------------------------------------------------------------------------------

  /** Reads {@code key}; a missing key completes with {@code found() == false}. */
  public CompletableFuture<GetResult> get(Session session, String key) {
    return start(Method.GET, session, key, null, a -> new GetResult(key,
        a.status == 200 ? a.body.rawValue() : null, a.node, a.attempts));
  }

  /** Writes {@code value} (any JSON value) under {@code key}. */
  public CompletableFuture<PutResult> put(Session session, String key, JsonNode value) {
    Objects.requireNonNull(value, "value");
    return putJson(session, key, value.toString());
  }

  /**
   * Writes the JSON text {@code valueJson} (for example {@code "\"text\""} or {@code 1.50})
   * under {@code key}; it is stored and returned verbatim.
   *
   * @throws IllegalArgumentException if {@code valueJson} is not one JSON value
   */
  public CompletableFuture<PutResult> putJson(Session session, String key, String valueJson) {
    requireJsonValue(valueJson);
    return start(Method.PUT, session, key, valueJson, a -> new PutResult(key,
        a.status == 201, a.body.shardId(), a.node, a.received.versionOf(key), a.attempts));
  }

  /** Deletes {@code key}; a missing key completes with {@code found() == false}. */
  public CompletableFuture<DeleteResult> delete(Session session, String key) {
    return start(Method.DELETE, session, key, null, a -> new DeleteResult(key,
        a.status == 200, a.body.shardId(), a.node, a.attempts));
  }

  /** Blocking {@link #get}; throws {@link RingKvException} when the operation fails. */
  public GetResult getBlocking(Session session, String key) {
    requireMayBlock();
    return join(get(session, key), operationTimeoutMs + requestTimeoutMs);
  }

  /** Blocking {@link #put}; throws {@link RingKvException} when the operation fails. */
  public PutResult putBlocking(Session session, String key, JsonNode value) {
    requireMayBlock();
    return join(put(session, key, value), operationTimeoutMs + requestTimeoutMs);
  }

  /** Blocking {@link #putJson}; throws {@link RingKvException} when the operation fails. */
  public PutResult putJsonBlocking(Session session, String key, String valueJson) {
    requireMayBlock();
    return join(putJson(session, key, valueJson), operationTimeoutMs + requestTimeoutMs);
  }

  /** Blocking {@link #delete}; throws {@link RingKvException} when the operation fails. */
  public DeleteResult deleteBlocking(Session session, String key) {
    requireMayBlock();
    return join(delete(session, key), operationTimeoutMs + requestTimeoutMs);
  }

  /** A blocking call on the client's own event loop would wait for itself. */
  private void requireMayBlock() {
    if (transport.inIoThread()) {
      throw new IllegalStateException("blocking call on the client's event loop (from a "
          + "callback of another operation): use the asynchronous methods there");
    }
  }

  // --- Ring ------------------------------------------------------------------------------------

  /** The ring the client routes with now. */
  public RingSnapshot ring() {
    RingSnapshot r = ring.get();
    if (r == null) {
      throw new IllegalStateException("no ring yet");
    }
    return r;
  }

  /**
   * Reads {@code GET /ring} again (from a live node of the current ring, or the seed) and
   * routes with it if its epoch is not older than the current one. Concurrent calls share one
   * request.
   */
  public CompletableFuture<RingSnapshot> refreshRing() {
    while (true) {
      CompletableFuture<RingSnapshot> running = refreshing.get();
      if (running != null) {
        return running;
      }
      CompletableFuture<RingSnapshot> mine = new CompletableFuture<>();
      if (refreshing.compareAndSet(null, mine)) {
        lastRefreshNanos.set(System.nanoTime());
        ringRefreshes.increment();
        fetchRing(refreshOrder(), 0, mine);
        mine.whenComplete((r, e) -> refreshing.compareAndSet(mine, null));
        return mine;
      }
    }
  }

  /** The node the client would send a request for {@code key} to now (for inspection). */
  public String nodeFor(String key) {
    RingSnapshot r = ring.get();
    return choose(r, key, r == null ? 0 : r.shardOfToken(KeyHash.tokenOf(key)));
  }

  public Stats stats() {
    return new Stats(attempts.sum(), retries.sum(), viewChangeRetries.sum(), unreachable.sum(),
        timeouts.sum(), ringRefreshes.sum(), epochChanges.sum(), misrouted.sum());
  }

  /**
   * Fails every operation still in flight with {@link CancellationException}, closes every
   * connection and stops the event loops; operations started afterwards throw
   * {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (Call<?> c : List.copyOf(backingOff)) {
      c.finish(null, new CancellationException("client closed"));
    }
    transport.close(); // fails the exchanges in flight, so the operations that wait on them
    for (Call<?> c : List.copyOf(backingOff)) {
      c.finish(null, new CancellationException("client closed")); // those that raced close
    }
  }

  /**
   * The transport the client runs on: {@code "epoll"} (Netty's native transport) or
   * {@code "nio"}.
   */
  public String transport() {
    return transport.transportName();
  }

  /** Connections opened to {@code node} so far (for tests: connection reuse). */
  long connectsStarted(String node) {
    return transport.connectsStarted(node);
  }

  private void maybeRefresh() {
    long now = System.nanoTime();
    long last = lastRefreshNanos.get();
    if (now - last >= TimeUnit.MILLISECONDS.toNanos(RING_REFRESH_GAP_MS_MIN)
        && lastRefreshNanos.compareAndSet(last, now)) {
      refreshRing().exceptionally(e -> null); // failure is reported by the operations themselves
    }
  }

  private List<String> refreshOrder() {
    Set<String> order = new LinkedHashSet<>();
    RingSnapshot r = ring.get();
    if (r != null) {
      List<String> live = new ArrayList<>(r.liveNodes());
      Collections.shuffle(live, ThreadLocalRandom.current());
      live.stream().filter(n -> !isSuspect(n)).forEach(order::add);
    }
    order.add(seed);
    if (r != null) {
      order.addAll(r.nodes());
    }
    return List.copyOf(order);
  }

  private void fetchRing(List<String> order, int index, CompletableFuture<RingSnapshot> done) {
    if (closed) {
      done.completeExceptionally(new CancellationException("client closed"));
      return;
    }
    if (index >= order.size()) {
      done.completeExceptionally(new RingKvException(RingKvException.Kind.UNREACHABLE, 0,
          "unreachable", null, "no node answered GET /ring: " + order, null));
      return;
    }
    String node = order.get(index);
    transport.send(new Exchange(node, HttpTransport.encode("GET", node, "/ring"), true,
        requestTimeoutMs) {
      @Override
      void onAnswer(Answer answer) {
        if (answer.status() == 200) {
          try {
            RingSnapshot fresh = RingSnapshot.fromJson(GetResult.EXACT.readTree(answer.body()),
                System.nanoTime());
            done.complete(install(fresh));
            return;
          } catch (IOException | RuntimeException e) {
            // A body that is not a ring: ask the next node.
          }
        }
        fetchRing(order, index + 1, done);
      }

      @Override
      void onFailure(Throwable cause) {
        if (cause instanceof CancellationException) {
          done.completeExceptionally(cause);
          return;
        }
        suspect(node);
        fetchRing(order, index + 1, done);
      }
    });
  }

  /** Routes with {@code fresh} unless a ring with a newer epoch is already installed. */
  private RingSnapshot install(RingSnapshot fresh) {
    RingSnapshot before = ring.getAndAccumulate(fresh,
        (old, neu) -> old == null || neu.epoch() >= old.epoch() ? neu : old);
    if (before != null && fresh.epoch() > before.epoch()) {
      epochChanges.increment();
    }
    return ring.get();
  }

  private boolean isSuspect(String node) {
    Long until = suspectUntilNanos.get(node);
    if (until == null) {
      return false;
    }
    if (System.nanoTime() - until >= 0) {
      suspectUntilNanos.remove(node, until);
      return false;
    }
    return true;
  }

  private void suspect(String node) {
    suspectUntilNanos.put(node, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SUSPECT_MS));
  }

  /** The node a request for {@code key} (in {@code shard} of {@code r}) goes to now. */
  private String choose(RingSnapshot r, String key, int shard) {
    if (r == null) {
      return seed;
    }
    if (System.nanoTime() - r.fetchedAtNanos()
        > TimeUnit.MILLISECONDS.toNanos(ringRefreshIntervalMs)) {
      maybeRefresh();
    }
    if (routing == Routing.SMART) {
      String member = rendezvousMember(key, r.membersOf(shard), r.liveMembersOf(shard));
      if (member != null) {
        return member;
      }
    }
    // Naive routing, or every member of the shard was just unreachable: any node forwards.
    for (List<String> tier : List.of(r.liveNodes(), r.nodes())) {
      List<String> usable = tier.stream().filter(n -> !isSuspect(n)).toList();
      if (!usable.isEmpty()) {
        return usable.get(ThreadLocalRandom.current().nextInt(usable.size()));
      }
    }
    List<String> members = r.membersOf(shard);
    if (!members.isEmpty()) { // everything is suspect: try the key's own replica anyway
      return Rendezvous.orderNames(key, members).get(0);
    }
    return r.nodes().isEmpty() ? seed : r.nodes().get(0);
  }

  /**
   * The member a request for {@code key} goes to: in rendezvous order, the first that is live
   * and not suspect, else the first not suspect (the answering node's liveness may lag);
   * null when every member is suspect.
   */
  private String rendezvousMember(String key, List<String> members, List<String> live) {
    if (members.isEmpty()) {
      return null;
    }
    List<String> order = members.size() == 1 ? members : Rendezvous.orderNames(key, members);
    String fallback = null;
    for (String m : order) {
      if (!isSuspect(m)) {
        if (live.contains(m)) {
          return m;
        }
        if (fallback == null) {
          fallback = m;
        }
      }
    }
    return fallback;
  }

  // --- One operation ---------------------------------------------------------------------------

  /** A successful final answer: status 200, 201 or 404 "Key does not exist". */
  private record Answer(int status, ResponseBody body, CausalMetadata received, String node,
      int attempts) {}

  private <T> CompletableFuture<T> start(Method method, Session session, String key,
      String valueJson, Function<Answer, T> result) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("key must not be empty");
    }
    if (closed) {
      throw new IllegalStateException("client closed");
    }
    CompletableFuture<T> future = new CompletableFuture<>();
    try {
      boolean acquired = transport.inIoThread() ? inFlight.tryAcquire()
          : inFlight.tryAcquire(inFlightWaitMs, TimeUnit.MILLISECONDS);
      if (!acquired) {
        future.completeExceptionally(new RingKvException(RingKvException.Kind.OVERLOADED, 0,
            "overloaded", null, inFlight + ": no free in-flight slot within "
            + (transport.inIoThread() ? 0 : inFlightWaitMs) + " ms", null));
        return future;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.completeExceptionally(new CancellationException("interrupted"));
      return future;
    }
    new Call<>(method, session, key, valueJson, result, future).attempt();
    return future;
  }

  /**
   * One operation through its attempts. Its fields are touched by one attempt at a time
   * (attempts are sequential: the next starts from the previous one's completion), so
   * {@code attempt} needs no lock; {@link #finish} is idempotent.
   */
  private final class Call<T> {
    private final Method method;
    private final Session session;
    private final String key;
    /** The key's ring token: hashed once per operation, whatever the ring or the attempts. */
    private final long token;
    /** The request path, percent-encoded once. */
    private final String path;
    private final String valueJson;
    private final Function<Answer, T> result;
    private final CompletableFuture<T> future;
    private final long deadlineNanos;
    private boolean finished;
    /** Whether it is (or may still be) in {@link #backingOff}. */
    private volatile boolean inBackoff;
    private int attemptCount;
    private int lastShard;
    /** When not 0: retry with a ring read after this instant (a view change or a lost node). */
    private long needRingAfterNanos;
    /** The last error a node answered with (503, view change), or null. */
    private RingKvException lastAnswered;
    /** Whether the current attempt's timeout was cut short to end at the deadline. */
    private boolean clippedByDeadline;

    Call(Method method, Session session, String key, String valueJson,
        Function<Answer, T> result, CompletableFuture<T> future) {
      this.method = method;
      this.session = session;
      this.key = key;
      this.token = KeyHash.tokenOf(key);
      this.path = KV_PATH + encodeKey(key);
      this.valueJson = valueJson;
      this.result = result;
      this.future = future;
      this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(operationTimeoutMs);
    }

    void attempt() {
      try {
        send();
      } catch (RuntimeException e) {
        finish(null, e); // a bug must still complete the future
      }
    }

    private void send() {
      if (closed) {
        finish(null, new CancellationException("client closed"));
        return;
      }
      attemptCount++;
      attempts.increment();
      RingSnapshot r = ring.get();
      lastShard = r == null ? 0 : r.shardOfToken(token);
      String node = choose(r, key, lastShard);
      CausalMetadata sent = session.metadata();
      long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      clippedByDeadline = leftMs < requestTimeoutMs;
      long timeoutMs = Math.max(1, Math.min(requestTimeoutMs, leftMs));
      transport.send(new Exchange(node, encode(node, sent), method == Method.GET, timeoutMs) {
        @Override
        void onAnswer(Answer answer) {
          try {
            onResponse(node, sent, answer);
          } catch (RuntimeException e) {
            finish(null, e); // a bug here must still complete the future
          }
        }

        @Override
        void onFailure(Throwable cause) {
          try {
            Call.this.onFailure(node, cause);
          } catch (RuntimeException e) {
            finish(null, e);
          }
        }
      });
    }

    /** The next attempt, after reading the ring again if the last one found it stale. */
    private void retry() {
      inBackoff = false;
      backingOff.remove(this);
      RingSnapshot r = ring.get();
      if (needRingAfterNanos != 0 && (r == null || r.fetchedAtNanos() - needRingAfterNanos < 0)) {
        needRingAfterNanos = 0;
        refreshRing().whenComplete((fresh, err) -> attempt()); // err: route with the old ring
      } else {
        needRingAfterNanos = 0;
        attempt();
      }
    }

    /** The request: the key's path, and the metadata (and value) as the JSON body. */
    private io.netty.buffer.ByteBuf encode(String node, CausalMetadata sent) {
      if (method == Method.PUT) {
        return HttpTransport.encode("PUT", node, path, VALUE_OPEN,
            HttpTransport.BodyPart.of(valueJson), VALUE_THEN_METADATA,
            HttpTransport.BodyPart.of(sent.jsonBytes()), CLOSE);
      }
      if (sent.isEmpty()) {
        return HttpTransport.encode(method.name(), node, path);
      }
      return HttpTransport.encode(method.name(), node, path, METADATA_OPEN,
          HttpTransport.BodyPart.of(sent.jsonBytes()), CLOSE);
    }

    private void onFailure(String node, Throwable err) {
      RingKvException failure;
      if (err instanceof HttpTransport.RequestTimeoutException) {
        timeouts.increment();
        failure = exception(RingKvException.Kind.TIMEOUT, 0, "timeout", node, err);
        if (clippedByDeadline && lastAnswered != null) {
          // The attempt only had what was left of the deadline: what the nodes kept
          // answering before it is the reason the operation failed.
          lastAnswered.addSuppressed(failure);
          finish(null, lastAnswered);
          return;
        }
      } else if (err instanceof HttpTransport.ProtocolException) {
        finish(null, exception(RingKvException.Kind.PROTOCOL, 0, "protocol", node, err));
        return;
      } else if (err instanceof IOException) {
        unreachable.increment();
        if (err instanceof ConnectException) { // refused, or the connect timed out
          suspect(node);
        }
        failure = exception(RingKvException.Kind.UNREACHABLE, 0, "unreachable", node, err);
      } else {
        finish(null, err);
        return;
      }
      needRingAfterNanos = System.nanoTime();
      retryOrFail(failure, 0);
    }

    private void onResponse(String node, CausalMetadata sent, Exchange.Answer resp) {
      int status = resp.status();
      ResponseBody body;
      try {
        body = ResponseBody.parse(resp.body());
      } catch (IOException e) {
        finish(null, exception(RingKvException.Kind.PROTOCOL, status, "not JSON", node, e));
        return;
      }
      String error = body.error();
      boolean notFound = status == 404 && "Key does not exist".equals(error);
      if (status == 200 || status == 201 || notFound) {
        CausalMetadata received;
        try {
          received = body.metadata(sent);
        } catch (IllegalArgumentException e) {
          finish(null, exception(RingKvException.Kind.PROTOCOL, status, e.getMessage(), node,
              e));
          return;
        }
        session.onResponse(sent, received);
        int shard = body.shardId();
        if (routing == Routing.SMART && shard != 0 && lastShard != 0 && shard != lastShard) {
          misrouted.increment(); // the ring moved under us: the node forwarded
          maybeRefresh();
        }
        finish(new Answer(status, body, received, node, attemptCount), null);
        return;
      }
      RingKvException failure = exception(RingKvException.Kind.HTTP, status, error, node, null);
      if (status == 500 && VIEW_CHANGE.equals(error) || status == 503) {
        lastAnswered = failure;
      }
      long retryAfterMs = Backoff.parseRetryAfterMs(resp.retryAfter());
      if (status == 500 && VIEW_CHANGE.equals(error)) {
        viewChangeRetries.increment();
        needRingAfterNanos = System.nanoTime();
        retryOrFail(failure, retryAfterMs);
      } else if (status == 503) {
        retryOrFail(failure, retryAfterMs);
      } else {
        finish(null, failure);
      }
    }

    private RingKvException exception(RingKvException.Kind kind, int status, String error,
        String node, Throwable cause) {
      String what = method + " " + key + " on " + node + " (attempt " + attemptCount + "): "
          + (kind == RingKvException.Kind.HTTP ? status + " " + error : kind + " " + cause);
      return new RingKvException(kind, status, error, node, what, cause);
    }

    private void retryOrFail(RingKvException failure, long retryAfterMs) {
      long delayMs = Backoff.delayMs(attemptCount, retryDelayMsMin, retryDelayMsMax,
          retryAfterMs, ThreadLocalRandom.current().nextDouble());
      long retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
      if (attemptCount >= ATTEMPTS_MAX || retryAt - deadlineNanos >= 0 || closed) {
        finish(null, failure);
        return;
      }
      retries.increment();
      inBackoff = true;
      backingOff.add(this);
      try {
        transport.schedule(this::retry, delayMs);
      } catch (RejectedExecutionException e) {
        finish(null, new CancellationException("client closed"));
      }
    }

    /**
     * Completes the operation once: releases its in-flight slot first, then the future. Called
     * by its attempt's completion, or by {@link #close} for an operation in backoff (hence
     * synchronized: the two may race; otherwise uncontended).
     */
    void finish(Answer answer, Throwable failure) {
      synchronized (this) {
        if (finished) {
          return;
        }
        finished = true;
      }
      if (inBackoff) {
        backingOff.remove(this);
      }
      inFlight.release();
      if (failure != null) {
        future.completeExceptionally(failure);
        return;
      }
      T value;
      try {
        value = result.apply(answer);
      } catch (RuntimeException e) {
        future.completeExceptionally(e); // a bug must still complete the future
        return;
      }
      future.complete(value);
    }
  }

  // --- Helpers ---------------------------------------------------------------------------------

  private static Throwable unwrap(Throwable t) {
    Throwable out = t;
    while ((out instanceof CompletionException || out instanceof ExecutionException)
        && out.getCause() != null) {
      out = out.getCause();
    }
    return out;
  }

  /** Waits for {@code future}; rethrows its {@link RingKvException} as is. */
  private static <T> T join(CompletableFuture<T> future, long timeoutMs) {
    try {
      return future.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted");
    } catch (java.util.concurrent.TimeoutException e) {
      throw new RingKvException(RingKvException.Kind.TIMEOUT, 0, "timeout", null,
          "no answer within " + timeoutMs + " ms", e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    }
  }

  /** Percent-encodes a key for the path: UTF-8, every byte but unreserved characters. */
  static String encodeKey(String key) {
    if (isUnreserved(key)) {
      return key; // the usual key needs no encoding
    }
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length + 8);
    for (byte b : bytes) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static boolean isUnreserved(String key) {
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~')) {
        return false;
      }
    }
    return true;
  }

  private static void requireJsonValue(String valueJson) {
    Objects.requireNonNull(valueJson, "valueJson");
    try (var p = GetResult.EXACT.getFactory().createParser(valueJson)) {
      if (p.nextToken() == null) {
        throw new IllegalArgumentException("value is empty");
      }
      p.skipChildren();
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("value is more than one JSON value: " + valueJson);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("value is not JSON: " + e.getMessage(), e);
    }
  }

  private static String requireAddress(String address) {
    Objects.requireNonNull(address, "address");
    int colon = address.lastIndexOf(':');
    if (colon < 1 || colon == address.length() - 1) {
      throw new IllegalArgumentException("address must be host:port, got " + address);
    }
    try {
      int port = Integer.parseInt(address.substring(colon + 1));
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("port out of range in " + address);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("address must be host:port, got " + address, e);
    }
    return address;
  }
}
