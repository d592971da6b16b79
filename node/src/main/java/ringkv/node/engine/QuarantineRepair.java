package ringkv.node.engine;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import ringkv.gossip.Backoff;
import ringkv.gossip.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Store;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Issue 15: fetches again from the shard's other replicas every key whose stored record the
 * store found damaged and quarantined ({@link Store#quarantinedKeys}): at start (damage found
 * when the store opened) and as soon as a read or the background scrub finds more. The keys are
 * asked of every live peer of this node's shard over {@link PeerProtocol#ENTRIES} (the pull
 * route) and merged like replicated writes; a quarantined key takes a replica's copy even at
 * or below the stable time ({@code Replica.applyReplicated}), and the store's put clears its
 * quarantine. Anti-entropy repairs these keys too (they read as absent), but only on its next
 * round with a peer that holds them; this does it at once.
 *
 * <p>Bounds: one pass at a time; a pass reads {@link #KEYS_PER_PASS_MAX} quarantined keys, in
 * requests of {@link #KEYS_PER_REQUEST_MAX}. Keys no peer could give back (peers down, or none
 * holds the key) stay quarantined and are asked for again after a delay that doubles from
 * 1 s to 60 s ({@link #RETRY}); new damage is asked for at once.
 * Skipped while a view change is pending or the node is catching up. Keys of shards this node
 * does not serve are left alone (their owners have them).
 *
 * <p>A key that every other replica of its shard answered with no copy (or in a shard of one
 * replica, at once) is <em>lost</em> ({@link LostKeys}): logged once at WARN
 * ({@code event=record-lost}), counted, and its reads here answer an error; it is still asked
 * for after the longest delay, in case a replica gains a copy.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class QuarantineRepair {
  private static final Logger LOG = LoggerFactory.getLogger(QuarantineRepair.class);
  /** How often the store's quarantine is looked at (a count, read from memory). */
  static final long CHECK_INTERVAL_MS = 1_000;
  /** Quarantined keys one pass asks for. */
  static final int KEYS_PER_PASS_MAX = 8_192;
  /** Keys per request to a peer. */
  static final int KEYS_PER_REQUEST_MAX = 512;
  /** The wait before quarantined keys no peer gave back are asked for again. */
  static final Backoff RETRY = new Backoff(1_000, 60_000);

  private final NodeServices node;
  private final KvService kv;
  private final Store store;
  private final LostKeys lost;
  private long timer = -1;
  private boolean running;
  /** Keys still quarantined after the last pass; more means new damage. */
  private long leftAfterPass;
  /** Passes in a row that left keys quarantined. */
  private int failedPasses;
  private long nextAttemptMs;

  public QuarantineRepair(NodeServices node, KvService kv) {
    this.node = node;
    this.kv = kv;
    this.store = kv.core().replica().store();
    this.lost = kv.lostKeys();
  }

  public void start() {
    timer = node.vertx().setPeriodic(CHECK_INTERVAL_MS, id -> check());
    node.vertx().runOnContext(v -> check());
  }

  public void stop() {
    if (timer >= 0) {
      node.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  /** Starts a pass if keys are quarantined and either new damage appeared or a retry is due. */
  void check() {
    if (running || node.state().pending().isPresent() || node.state().catchingUp()) {
      return;
    }
    lost.prune();
    long quarantined = store.quarantinedCount();
    if (quarantined == 0) {
      leftAfterPass = 0;
      failedPasses = 0;
      return;
    }
    if (quarantined <= leftAfterPass && node.clock().millis() < nextAttemptMs) {
      return;
    }
    List<NodeAddress> replicas = node.state().shardPeers();
    List<NodeAddress> from = node.liveness().live(replicas);
    if (from.isEmpty()) {
      from = replicas;
    }
    List<String> keys = ownedQuarantinedKeys();
    if (from.isEmpty()) {
      // A shard of one: no replica to repair from; the keys stay quarantined, and are lost.
      reportLost(lost.judge(keys, Map.of(), 0), 0);
      leftAfterPass = quarantined;
      nextAttemptMs = node.clock().millis() + RETRY.maxMs();
      return;
    }
    running = true;
    List<NodeAddress> sources = from;
    Map<String, Integer> denials = new HashMap<>();
    long start = node.clock().millis();
    ask(sources, keys, 0, 0, denials).onComplete(ar -> {
      running = false;
      reportLost(lost.judge(keys, denials, replicas.size()), replicas.size());
      long left = store.quarantinedCount();
      leftAfterPass = left;
      int repaired = ar.succeeded() ? ar.result() : 0;
      if (left > 0) {
        failedPasses++;
        nextAttemptMs = node.clock().millis() + RETRY.delayMs(failedPasses);
      } else {
        failedPasses = 0;
      }
      LOG.info("event=quarantine-repair node={} asked={} peers={} repaired={} left={} ms={}",
          node.state().self(), keys.size(), sources, repaired, left, node.clock().millis() - start);
    });
  }

  private void reportLost(List<String> keys, int replicas) {
    for (String key : keys) {
      LOG.warn("event=record-lost node={} key={} replicas-asked={}: its stored record is "
          + "damaged and no replica holds a copy; reads of it here answer an error until it is "
          + "written again", node.state().self(), key, replicas);
    }
  }

  /** Up to {@link #KEYS_PER_PASS_MAX} quarantined keys of shards this node serves. */
  private List<String> ownedQuarantinedKeys() {
    ClusterConfig c = node.state().current();
    List<String> out = new ArrayList<>();
    String after = null;
    while (out.size() < KEYS_PER_PASS_MAX) {
      List<String> page = store.quarantinedKeys(after, KEYS_PER_REQUEST_MAX);
      for (String k : page) {
        if (node.state().owns(c, k)) {
          out.add(k);
        }
      }
      if (page.size() < KEYS_PER_REQUEST_MAX) {
        break;
      }
      after = page.get(page.size() - 1);
    }
    return out;
  }

  /**
   * Asks every one of {@code sources} for {@code keys} from {@code index} on, one request's
   * worth at a time, merging what they send; completes with how many entries were newer here.
   * A peer that fails or serves part of a request only costs that peer's answer.
   */
  private Future<Integer> ask(List<NodeAddress> sources, List<String> keys, int index,
      int repaired, Map<String, Integer> denials) {
    if (index >= keys.size()) {
      return Future.succeededFuture(repaired);
    }
    int end = Math.min(keys.size(), index + KEYS_PER_REQUEST_MAX);
    EntriesRequest request = new EntriesRequest(node.state().self(), keys.subList(index, end));
    List<Future<Integer>> answers = new ArrayList<>();
    for (NodeAddress peer : sources) {
      answers.add(node.ask(peer, PeerProtocol.ENTRIES, request)
          .map(reply -> {
            tally(request.keys(), reply.served(), reply.entries(), denials);
            return kv.applyFromPeers(reply.entries(), true);
          })
          .otherwise(err -> {
            LOG.debug("event=quarantine-repair-failed node={} peer={} cause={}",
                node.state().self(), peer, err.toString());
            return 0;
          }));
    }
    return Future.join(answers).transform(ar -> {
      int sum = repaired;
      for (Future<Integer> f : answers) {
        sum += f.succeeded() ? f.result() : 0;
      }
      return ask(sources, keys, end, sum, denials);
    });
  }

  /** Counts a denial for every key of the first {@code served} asked that came back without. */
  private static void tally(List<String> asked, int served, List<Entry> entries,
      Map<String, Integer> denials) {
    Set<String> given = new HashSet<>();
    entries.forEach(e -> given.add(e.key()));
    for (String key : asked.subList(0, Math.max(0, Math.min(served, asked.size())))) {
      if (!given.contains(key)) {
        denials.merge(key, 1, Integer::sum);
      }
    }
  }
}
