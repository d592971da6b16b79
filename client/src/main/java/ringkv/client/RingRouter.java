package ringkv.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import ringkv.ring.KeyHash;
import ringkv.ring.Rendezvous;

/**
 * Which node a request goes to: the ring the client routes with ({@code GET /ring}, read again
 * when stale, concurrent refreshes sharing one request, a ring with an older epoch never
 * replacing a newer one), the nodes that were just unreachable (suspects, avoided for
 * {@link RingKvClient#SUSPECT_MS}), and the choice of a member of the key's shard in
 * {@link Rendezvous#orderNames} order (see {@link RingKvClient} for the rule).
 *
 * <p>Thread-safe: the ring and the suspects are atomics and concurrent maps.
 */
final class RingRouter {
  private final ClientOptions options;
  private final HttpTransport transport;
  private final RequestEncoder encoder;
  private final ClientCounters counters;
  private final BooleanSupplier closed;
  private final AtomicReference<RingSnapshot> ring = new AtomicReference<>();
  private final AtomicReference<CompletableFuture<RingSnapshot>> refreshing =
      new AtomicReference<>();
  private final AtomicLong lastRefreshNanos = new AtomicLong(System.nanoTime() - 1_000_000_000L);
  private final Map<String, Long> suspectUntilNanos = new ConcurrentHashMap<>();

  /**
   * The router of {@code dispatcher}'s operations, with its options, transport, encoder and
   * counters; a ring read still going on when the dispatcher closes fails (cancelled).
   */
  RingRouter(Dispatcher dispatcher) {
    this.options = dispatcher.options;
    this.transport = dispatcher.transport;
    this.encoder = dispatcher.encoder;
    this.counters = dispatcher.counters;
    this.closed = dispatcher::isClosed;
  }

  /** The ring routed with now, or null before the first was read. */
  RingSnapshot current() {
    return ring.get();
  }

  /** See {@link RingKvClient#refreshRing()}. */
  CompletableFuture<RingSnapshot> refresh() {
    while (true) {
      CompletableFuture<RingSnapshot> running = refreshing.get();
      if (running != null) {
        return running;
      }
      CompletableFuture<RingSnapshot> mine = new CompletableFuture<>();
      if (refreshing.compareAndSet(null, mine)) {
        lastRefreshNanos.set(System.nanoTime());
        counters.ringRefreshes.increment();
        fetch(refreshOrder(), 0, mine);
        mine.whenComplete((r, e) -> refreshing.compareAndSet(mine, null));
        return mine;
      }
    }
  }

  /** Refreshes unless a refresh started less than {@link RingKvClient#RING_REFRESH_GAP_MS_MIN}
   *  ago. */
  void maybeRefresh() {
    long now = System.nanoTime();
    long last = lastRefreshNanos.get();
    if (now - last >= TimeUnit.MILLISECONDS.toNanos(RingKvClient.RING_REFRESH_GAP_MS_MIN)
        && lastRefreshNanos.compareAndSet(last, now)) {
      refresh().exceptionally(e -> null); // failure is reported by the operations themselves
    }
  }

  /** The node a request for {@code key} goes to now. */
  String nodeFor(String key) {
    RingSnapshot r = ring.get();
    return choose(r, key, r == null ? 0 : r.shardOfToken(KeyHash.tokenOf(key)));
  }

  private List<String> refreshOrder() {
    Set<String> order = new LinkedHashSet<>();
    RingSnapshot r = ring.get();
    if (r != null) {
      List<String> live = new ArrayList<>(r.liveNodes());
      Collections.shuffle(live, ThreadLocalRandom.current());
      live.stream().filter(n -> !isSuspect(n)).forEach(order::add);
    }
    order.add(options.seed());
    if (r != null) {
      order.addAll(r.nodes());
    }
    return List.copyOf(order);
  }

  private void fetch(List<String> order, int index, CompletableFuture<RingSnapshot> done) {
    if (closed.getAsBoolean()) {
      done.completeExceptionally(new CancellationException("client closed"));
      return;
    }
    if (index >= order.size()) {
      done.completeExceptionally(new RingKvException(RingKvException.Kind.UNREACHABLE, 0,
          "unreachable", null, "no node answered GET /ring: " + order, null));
      return;
    }
    String node = order.get(index);
    transport.send(new Exchange(node, encoder.encode("GET", node, "/ring"), true,
        options.requestTimeoutMs()) {
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
        } else if (answer.status() == 401) { // every node would say the same
          done.completeExceptionally(new RingKvException(RingKvException.Kind.UNAUTHORIZED,
              401, "Unauthorized", node, "GET /ring on " + node + ": 401, the node wants a "
              + "bearer token the client did not send or that it does not accept", null));
          return;
        }
        fetch(order, index + 1, done);
      }

      @Override
      void onFailure(Throwable cause) {
        if (cause instanceof CancellationException) {
          done.completeExceptionally(cause);
          return;
        }
        if (ClientTls.isConfigurationFailure(cause)) { // a setting, not a node, is wrong
          done.completeExceptionally(new RingKvException(RingKvException.Kind.TLS, 0, "tls",
              node, "GET /ring on " + node + ": TLS failed: " + cause, cause));
          return;
        }
        suspect(node);
        fetch(order, index + 1, done);
      }
    });
  }

  /** Routes with {@code fresh} unless a ring with a newer epoch is already installed. */
  private RingSnapshot install(RingSnapshot fresh) {
    RingSnapshot before = ring.getAndAccumulate(fresh,
        (old, neu) -> old == null || neu.epoch() >= old.epoch() ? neu : old);
    if (before != null && fresh.epoch() > before.epoch()) {
      counters.epochChanges.increment();
    }
    return ring.get();
  }

  boolean isSuspect(String node) {
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

  /** {@code node} could not be reached: avoid it for {@link RingKvClient#SUSPECT_MS}. */
  void suspect(String node) {
    suspectUntilNanos.put(node,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RingKvClient.SUSPECT_MS));
  }

  /** The node a request for {@code key} (in {@code shard} of {@code r}) goes to now. */
  String choose(RingSnapshot r, String key, int shard) {
    if (r == null) {
      return options.seed();
    }
    if (System.nanoTime() - r.fetchedAtNanos()
        > TimeUnit.MILLISECONDS.toNanos(options.ringRefreshIntervalMs())) {
      maybeRefresh();
    }
    if (options.routing() == RingKvClient.Routing.SMART) {
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
    return r.nodes().isEmpty() ? options.seed() : r.nodes().get(0);
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
}
