package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.ReplicationQueue;
import ringkv.node.config.NodeConfig;
import ringkv.node.error.ErrorCode;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.api.Wire;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Membership and view changes: how a starting node finds the cluster's configuration (and joins
 * it or catches up), and how a configuration change is installed on every node.
 *
 * <p>A view change is a two-phase commit run by the node that received the operator's request,
 * over HTTP, with every live node of the old and new views as participants: <b>prepare</b> (stop
 * serving keys with 500 "View change in progress", drain the replication queue to live shard
 * peers), <b>transfer</b> (for every key whose new shard has members that did not hold it, the
 * first participating member of its old shard streams it to them in acknowledged batches — only
 * moved keys travel), then <b>commit</b> (install the new epoch, drop keys no longer owned). Any
 * failure before commit aborts everywhere and the old configuration stays; a participant whose
 * coordinator vanished aborts on its own after {@code VIEW_CHANGE_TIMEOUT_MS}; a node that missed
 * the commit learns the new epoch from heartbeats (highest epoch wins) and catches up.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class Membership {
  private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
  /** Entries per page when copying a shard's data for a catching-up replica. */
  static final int PAGE_ENTRIES_MAX = 512;
  /** Entries scanned per round of a view change's transfer (each target batch bounded by bytes). */
  static final int TRANSFER_PAGE_ENTRIES = 4096;
  /** How long prepare waits for the replication queue to drain. */
  static final long DRAIN_WAIT_MS = 3_000;
  /** How often a node started without SHARD_COUNT asks its VIEW for a configuration. */
  static final int BOOTSTRAP_ATTEMPTS = 5;
  static final long BOOTSTRAP_RETRY_MS = 400;

  /** Figures of the last view change this node took part in, for GET /ring and the README. */
  public record ChangeStats(long epoch, long windowMs, long keysMoved, long bytesStreamed) {}

  private final Vertx vertx;
  private final Engine engine;
  private final NodeConfig config;
  private final NodeAddress self;
  private long abortTimer = -1;
  private long transferKeys;
  private long transferBytes;
  private ChangeStats lastChange;

  public Membership(Vertx vertx, Engine engine) {
    this.vertx = vertx;
    this.engine = engine;
    this.config = engine.nodeConfig();
    this.self = engine.self();
    engine.setMembership(this);
  }

  public ChangeStats lastChange() {
    return lastChange;
  }

  // ---------------------------------------------------------------- start

  /**
   * Finds the running cluster's configuration (the highest epoch any node of VIEW reports wins
   * over this node's environment or what {@code restored} from DATA_DIR), joins the view if it is
   * not in it, and copies its shard's data from a live peer before serving reads.
   */
  public Future<Void> bootstrap(boolean restored) {
    if (config.startsIdle() && !restored) {
      // View-change dialect, not in its VIEW: contacts nobody until a view change names it.
      LOG.info("event=idle node={} reason=not-in-VIEW", self);
      engine.bootstrapped();
      return Future.succeededFuture();
    }
    engine.setCatchingUp(true);
    // A layout from the environment or from DATA_DIR is a starting point; without one, wait a
    // little for the cluster to answer before falling back to one shard of the whole VIEW.
    boolean haveLayout = config.layoutGiven() || restored;
    int attempts = haveLayout ? 1 : BOOTSTRAP_ATTEMPTS;
    return discover(attempts).compose(found -> {
      if (found != null && (found.isNewerThan(engine.cluster()) || !haveLayout)) {
        engine.adopt(found);
      }
      if (!engine.cluster().view().contains(self) && config.inView()
          && config.dialect() == NodeConfig.Dialect.SHARD) {
        return join();
      }
      return Future.succeededFuture();
    }).compose(v -> catchUp()).onComplete(ar -> {
      engine.setCatchingUp(false);
      engine.bootstrapped(); // after catch-up decided whether to hold the stable time
      if (ar.failed()) {
        LOG.warn("event=bootstrap-incomplete node={} cause={}", self, ar.cause().toString());
      }
    }).recover(err -> Future.succeededFuture());
  }

  private Future<ClusterConfig> discover(int attemptsLeft) {
    List<Future<ClusterConfig>> asks = new ArrayList<>();
    for (NodeAddress peer : config.view()) {
      if (!peer.equals(self)) {
        asks.add(engine.peers().get(peer, "/internal/config", 1_000)
            .map(r -> r.status() == 200 ? Wire.decodeConfig(r.body()) : null));
      }
    }
    return Future.join(asks).transform(done -> {
      ClusterConfig best = null;
      for (Future<ClusterConfig> f : asks) {
        if (f.succeeded() && f.result() != null
            && (best == null || f.result().isNewerThan(best))) {
          best = f.result();
        }
      }
      if (best != null || attemptsLeft <= 1) {
        return Future.succeededFuture(best);
      }
      Promise<ClusterConfig> later = Promise.promise();
      vertx.setTimer(BOOTSTRAP_RETRY_MS, id -> discover(attemptsLeft - 1).onComplete(later));
      return later.future();
    });
  }

  /** Announces this node to the cluster, which adds it to the view (in no shard). */
  private Future<Void> join() {
    ObjectNode body = Json.object();
    body.put("node", self.toString());
    List<NodeAddress> targets = engine.cluster().view();
    return tryJoin(body, targets, 0);
  }

  private Future<Void> tryJoin(ObjectNode body, List<NodeAddress> targets, int index) {
    if (index >= targets.size()) {
      return Future.failedFuture(new IllegalStateException("no node accepted the join"));
    }
    return engine.peers().post(targets.get(index), "/internal/join", body,
            config.viewChangeTimeoutMs())
        .compose(r -> r.status() == 200 ? Future.<Void>succeededFuture()
            : Future.failedFuture(new IllegalStateException("join answered " + r.status())))
        .recover(err -> tryJoin(body, targets, index + 1));
  }

  /** Copies this node's shard from a live peer, page by page; kv requests are forwarded meanwhile. */
  public Future<Void> catchUp() {
    OptionalInt shard = engine.cluster().shardOfNode(self);
    if (shard.isEmpty()) {
      return Future.succeededFuture();
    }
    List<NodeAddress> sources = engine.cluster().membersOf(shard.getAsInt()).stream()
        .filter(m -> !m.equals(self)).toList();
    engine.setCatchingUp(true);
    long start = System.currentTimeMillis();
    return copyFromAny(shard.getAsInt(), sources, 0).onComplete(ar -> {
      engine.setCatchingUp(false);
      if (ar.succeeded()) {
        LOG.info("event=caught-up node={} shard={} entries={} ms={}", self, shard.getAsInt(),
            ar.result(), System.currentTimeMillis() - start);
        if (ar.result() > 0) {
          engine.holdStableUntilRepaired(); // our lost outbox may have left peers behind
        }
      }
    }).mapEmpty();
  }

  private Future<Long> copyFromAny(int shard, List<NodeAddress> sources, int index) {
    if (index >= sources.size()) {
      LOG.info("event=catch-up-skipped node={} shard={} reason=no-live-peer", self, shard);
      return Future.succeededFuture(0L);
    }
    return copyPage(sources.get(index), shard, null, 0)
        .recover(err -> copyFromAny(shard, sources, index + 1));
  }

  private Future<Long> copyPage(NodeAddress source, int shard, String after, long copied) {
    ObjectNode body = Json.object();
    body.put("shard", shard);
    if (after != null) {
      body.put("after", after);
    }
    body.put("limit", PAGE_ENTRIES_MAX);
    return engine.peers().post(source, "/internal/scan", body, config.forwardTimeoutMs())
        .compose(r -> {
          if (r.status() != 200) {
            return Future.failedFuture(new IllegalStateException("scan answered " + r.status()));
          }
          List<Entry> entries = Wire.decodeEntries(r.body().get("entries"));
          engine.applyAll(entries, false);
          JsonNode last = r.body().get("last");
          long total = copied + entries.size();
          return last == null || last.isNull() ? Future.succeededFuture(total)
              : copyPage(source, shard, last.asText(), total);
        });
  }

  /** Serves a page of this node's entries of {@code shard} for a peer's catch-up. */
  public ObjectNode scan(int shard, String after, int limit) {
    ClusterConfig c = engine.cluster();
    List<Entry> page = engine.replica().store().scan(after, Math.max(1, Math.min(limit, 4096)));
    List<Entry> mine = new ArrayList<>();
    String last = null;
    long bytes = 0;
    for (Entry e : page) {
      if (bytes >= ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
        break; // bounded response: the caller asks again after `last`
      }
      last = e.key();
      if (c.shardOf(e.key()) == shard) {
        mine.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    ObjectNode out = Json.object();
    out.set("entries", Wire.entries(mine));
    if (last == null) {
      out.putNull("last");
    } else {
      out.put("last", last);
    }
    return out;
  }

  // ---------------------------------------------------------------- coordinator

  /**
   * Installs {@code next} on every live node of the old and new views (plus {@code extra},
   * e.g. a joining node no detector tracks yet). Fails with {@link ErrorCode#VIEW_CHANGE_FAILED}
   * after aborting everywhere if any participant cannot prepare or transfer.
   */
  public Future<ChangeStats> change(ClusterConfig next, Set<NodeAddress> extra) {
    if (engine.pending() != null) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT));
    }
    ClusterConfig current = engine.cluster();
    Set<NodeAddress> participants = new TreeSet<>(extra);
    for (NodeAddress n : current.view()) {
      if (engine.isLive(n)) {
        participants.add(n);
      }
    }
    for (NodeAddress n : next.view()) {
      if (engine.isLive(n) || !current.view().contains(n)) {
        participants.add(n);
      }
    }
    ObjectNode prepare = Json.object();
    prepare.set("config", Wire.config(next));
    ArrayNode list = prepare.putArray("participants");
    participants.forEach(p -> list.add(p.toString()));
    prepare.put("coordinator", self.toString());
    ObjectNode epochOnly = Json.object();
    epochOnly.put("epoch", next.epoch());
    LOG.info("event=view-change-start node={} epoch={} participants={}", self, next.epoch(),
        participants);
    long start = System.currentTimeMillis();
    return all(participants, "/internal/view/prepare", prepare)
        .compose(v -> all(participants, "/internal/view/transfer", epochOnly))
        .compose(replies -> all(participants, "/internal/view/commit", epochOnly)
            .transform(ar -> {
              if (ar.failed()) {
                LOG.warn("event=commit-partial node={} epoch={} cause={} (stragglers learn "
                    + "the epoch from heartbeats)", self, next.epoch(), ar.cause().toString());
              }
              return Future.succeededFuture(stats(next.epoch(), start, replies));
            }))
        .recover(err -> {
          LOG.warn("event=view-change-aborted node={} epoch={} cause={}", self, next.epoch(),
              err.getMessage());
          all(participants, "/internal/view/abort", epochOnly);
          return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
              err.getMessage() + "; nothing was changed"));
        })
        .onSuccess(s -> LOG.info("event=view-change-done node={} epoch={} ms={} keys-moved={} "
            + "bytes={}", self, s.epoch(), s.windowMs(), s.keysMoved(), s.bytesStreamed()));
  }

  private ChangeStats stats(long epoch, long start, Map<NodeAddress, JsonNode> transfers) {
    long keys = 0;
    long bytes = 0;
    for (JsonNode t : transfers.values()) {
      keys += t.path("keys").asLong();
      bytes += t.path("bytes").asLong();
    }
    return new ChangeStats(epoch, System.currentTimeMillis() - start, keys, bytes);
  }

  /** Posts {@code body} to every participant; fails naming the first that did not answer 200. */
  private Future<Map<NodeAddress, JsonNode>> all(Set<NodeAddress> targets, String path,
      ObjectNode body) {
    Map<NodeAddress, Future<Peers.PeerReply>> calls = new HashMap<>();
    for (NodeAddress t : targets) {
      calls.put(t, engine.peers().post(t, path, body, config.viewChangeTimeoutMs()));
    }
    return Future.join(new ArrayList<>(calls.values())).transform(done -> {
      Map<NodeAddress, JsonNode> replies = new HashMap<>();
      for (Map.Entry<NodeAddress, Future<Peers.PeerReply>> e : calls.entrySet()) {
        Future<Peers.PeerReply> f = e.getValue();
        if (f.failed()) {
          return Future.failedFuture(new IllegalStateException(
              e.getKey() + " did not answer " + path + ": " + f.cause().getMessage()));
        }
        if (f.result().status() != 200) {
          return Future.failedFuture(new IllegalStateException(e.getKey() + " refused " + path
              + ": " + f.result().body().path("detail").asText(f.result().body().toString())));
        }
        replies.put(e.getKey(), f.result().body());
      }
      return Future.succeededFuture(replies);
    });
  }

  // ---------------------------------------------------------------- participant

  /** Phase 1: stop serving keys and drain the replication queue to live shard peers. */
  public Future<Void> prepare(ClusterConfig next, Set<NodeAddress> participants) {
    ClusterConfig pending = engine.pending();
    if (pending != null && pending.epoch() != next.epoch()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "already installing epoch " + pending.epoch()));
    }
    if (!next.isNewerThan(engine.cluster())) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "epoch " + next.epoch() + " is not newer than " + engine.cluster().epoch()));
    }
    engine.setPending(next);
    this.participants = participants;
    transferKeys = 0;
    transferBytes = 0;
    cancelAbortTimer();
    abortTimer = vertx.setTimer(config.viewChangeTimeoutMs(), id -> {
      abortTimer = -1;
      if (engine.pending() != null && engine.pending().epoch() == next.epoch()) {
        LOG.warn("event=view-change-timeout node={} epoch={} action=abort", self, next.epoch());
        engine.setPending(null);
      }
    });
    engine.flushReplication();
    return engine.drainReplication(System.currentTimeMillis() + DRAIN_WAIT_MS)
        .recover(err -> Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
            self + " could not drain its replication queue")));
  }

  private Set<NodeAddress> participants = Set.of();

  /**
   * Phase 2: stream every key whose new shard has members that did not hold it, if this node is
   * the first participating member of the key's old shard. Memory stays bounded: one page at a
   * time, the next only after every target acknowledged the previous.
   */
  public Future<ObjectNode> transfer(long epoch) {
    ClusterConfig next = engine.pending();
    if (next == null || next.epoch() != epoch) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_CONFLICT,
          "no prepared change for epoch " + epoch));
    }
    return transferFrom(engine.cluster(), next, null).map(v -> {
      ObjectNode out = Json.object();
      out.put("keys", transferKeys);
      out.put("bytes", transferBytes);
      return out;
    });
  }

  private Future<Void> transferFrom(ClusterConfig current, ClusterConfig next, String after) {
    List<Entry> page = engine.replica().store().scan(after, TRANSFER_PAGE_ENTRIES);
    if (page.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<NodeAddress, List<Entry>> batches = new HashMap<>();
    Map<NodeAddress, Long> batchBytes = new HashMap<>();
    List<Future<Peers.PeerReply>> sends = new ArrayList<>();
    for (Entry e : page) {
      int oldShard = current.shardOf(e.key());
      if (!isSender(current.membersOf(oldShard))) {
        continue;
      }
      List<NodeAddress> targets = new ArrayList<>(next.membersOf(next.shardOf(e.key())));
      targets.removeAll(current.membersOf(oldShard));
      targets.retainAll(participants);
      if (!targets.isEmpty()) {
        transferKeys++;
      }
      for (NodeAddress t : targets) {
        batches.computeIfAbsent(t, k -> new ArrayList<>()).add(e);
        long bytes = batchBytes.merge(t, e.sizeEstimateBytes(), Long::sum);
        if (bytes >= ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
          sends.add(sendTransfer(t, batches.remove(t)));
          batchBytes.remove(t);
        }
      }
    }
    batches.forEach((t, entries) -> sends.add(sendTransfer(t, entries)));
    String last = page.get(page.size() - 1).key();
    return Future.all(sends).compose(v -> transferFrom(current, next, last));
  }

  private Future<Peers.PeerReply> sendTransfer(NodeAddress target, List<Entry> entries) {
    ObjectNode body = Json.object();
    body.put("from", self.toString());
    body.put("transfer", true);
    body.set("entries", Wire.entries(entries));
    byte[] bytes = Json.bytes(body);
    transferBytes += bytes.length;
    return engine.peers().postRaw(target, "/internal/replicate", bytes, config.forwardTimeoutMs())
        .compose(r -> r.status() == 200 ? Future.succeededFuture(r)
            : Future.failedFuture(new IllegalStateException(target + " refused keys: "
                + r.status())));
  }

  /** Whether this node streams the keys of an old shard with these members. */
  private boolean isSender(List<NodeAddress> oldMembers) {
    for (NodeAddress m : oldMembers) {
      if (participants.contains(m)) {
        return m.equals(self);
      }
    }
    return false;
  }

  /** Phase 3: install the prepared configuration. */
  public Future<Void> commit(long epoch) {
    ClusterConfig next = engine.pending();
    if (next == null || next.epoch() != epoch) {
      return Future.succeededFuture(); // aborted by timeout, or already learned from a heartbeat
    }
    cancelAbortTimer();
    long window = System.currentTimeMillis() - engine.pendingSinceMs();
    lastChange = new ChangeStats(epoch, window, transferKeys, transferBytes);
    LOG.info("event=view-change-committed node={} epoch={} window-ms={}", self, epoch, window);
    // Answered once the keys this node no longer owns are gone, so key counts read right after
    // the change (the view-change dialect reports them) are exact.
    return engine.adopt(next).mapEmpty();
  }

  /** Abandons the prepared configuration: the old one stays. */
  public void abort(long epoch) {
    ClusterConfig next = engine.pending();
    if (next != null && next.epoch() == epoch) {
      cancelAbortTimer();
      engine.setPending(null);
      LOG.info("event=view-change-abort node={} epoch={}", self, epoch);
    }
  }

  private void cancelAbortTimer() {
    if (abortTimer >= 0) {
      vertx.cancelTimer(abortTimer);
      abortTimer = -1;
    }
  }
}
