package ringkv.node.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyVersion;
import ringkv.gossip.RangeDigest;
import ringkv.gossip.RepairScope;
import ringkv.gossip.ReplicationQueue;
import ringkv.gossip.SettleHorizon;
import ringkv.gossip.Version;
import ringkv.gossip.VersionMerge;
import ringkv.node.error.ErrorCode;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.api.Wire;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Anti-entropy: every {@code ANTI_ENTROPY_INTERVAL_MS} this node reconciles its shard's data with
 * one live peer of its shard (round robin), so replicas that diverged for any reason (a replica
 * restarted from an old or wiped DATA_DIR, an author's replication queue lost with its process)
 * converge without a client or an operator doing anything.
 *
 * <p>A round, run by the initiator against one peer:
 * <ol>
 *   <li>Both sides digest their entries of the shard at or below a horizon — the highest Lamport
 *       counter either side knew of {@link #SETTLE_MS} ago ({@link SettleHorizon}): younger
 *       writes are the replication queues' business — into a {@link RangeDigest} of 4096
 *       token-prefix leaves: {@code POST /internal/ae/digest}, the peer's first.
 *   <li>If leaves differ, both sides stream their (key, version) pairs of those leaves in key
 *       order — the peer's page by page through {@code POST /internal/ae/versions} — into a
 *       {@link VersionMerge}, which names the keys each side must send.
 *   <li>Pulled entries come from {@code POST /internal/ae/entries} and are applied like queued
 *       writes ({@link Engine#applyAll} with {@code fromQueue}: higher version wins, and an entry
 *       at or below the shard's stable time whose key this node no longer holds is a write a
 *       collected tombstone superseded, never resurrected). Pushed entries go to the peer's
 *       {@code POST /internal/replicate}, which applies them the same way.
 * </ol>
 *
 * <p>Bounds: one round at a time per initiator; the store is read {@link #SCAN_PAGE_ENTRIES}
 * entries per event-loop turn (a digest of 100,000 keys never holds the loop for more than a
 * page); memory is two pages of versions plus two batches of {@link #REPAIR_BATCH_KEYS_MAX} keys,
 * and each transfer is bounded by {@link ReplicationQueue.Limits#BATCH_BYTES_MAX_DEFAULT}; a peer
 * computes at most {@link #DIGESTS_IN_FLIGHT_MAX} digests at once. Rounds are skipped, and
 * requests refused, while a view change is pending, while catching up, or when the two nodes'
 * epochs differ (they would disagree on which keys the shard holds). Only the shard's own keys
 * count: foreign keys a node briefly holds around a view change are skipped.
 *
 * <p>Logs at INFO only a round that repaired something (entries actually applied on either side).
 *
 * <p>Not thread-safe; every method runs on the node's event loop.
 */
public final class AntiEntropyDriver {
  private static final Logger LOG = LoggerFactory.getLogger(AntiEntropyDriver.class);
  /** Entries read from the store per event-loop turn (digests and version streams). */
  static final int SCAN_PAGE_ENTRIES = 1024;
  /** Entries a peer scans for one page of versions. */
  static final int VERSION_PAGE_ENTRIES_MAX = 4096;
  /** Keys per pull or push batch (each batch is also bounded by bytes). */
  static final int REPAIR_BATCH_KEYS_MAX = 2048;
  /** Writes known for less than this are left to the replication queues. */
  static final long SETTLE_MS = 5_000;
  /** Digests this node computes for peers at once; more are refused (503). */
  static final int DIGESTS_IN_FLIGHT_MAX = 4;

  private final Vertx vertx;
  private final Context context;
  private final Engine engine;
  private final long intervalMs;
  private final long timeoutMs;
  private long timer = -1;
  /** The round this node is running as initiator, or null. */
  private Round current;
  private int peerCursor;
  private int digestsInFlight;
  /** When each peer last asked this node for a round: it is reconciling with us already. */
  private final Map<String, Long> lastAskedMs = new HashMap<>();
  private final SettleHorizon settled = new SettleHorizon(SETTLE_MS);

  /** Does not touch {@code engine} until {@link #start()}. */
  AntiEntropyDriver(Vertx vertx, Context context, Engine engine, long intervalMs,
      long timeoutMs) {
    this.vertx = vertx;
    this.context = context;
    this.engine = engine;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
  }

  void start() {
    timer = vertx.setPeriodic(intervalMs, id -> {
      settled.sample(System.currentTimeMillis(), engine.replica().clock().current());
      round();
    });
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** The state of one round; confined to the event loop like the driver. */
  private final class Round {
    final NodeAddress peer;
    final int shard;
    final long epoch;
    final long startMs = System.currentTimeMillis();
    final Promise<Void> done = Promise.promise();
    final VersionMerge merge = new VersionMerge(REPAIR_BATCH_KEYS_MAX);
    RepairScope scope;
    String mineAfter;
    String theirsAfter;
    int leaves;
    long sent;
    long received;

    Round(NodeAddress peer, int shard, long epoch, RepairScope scope) {
      this.peer = peer;
      this.shard = shard;
      this.epoch = epoch;
      this.scope = scope;
    }
  }

  // ---------------------------------------------------------------- initiator

  private boolean quiet() {
    return engine.pending() == null && !engine.catchingUp();
  }

  private void round() {
    ClusterConfig c = engine.cluster();
    OptionalInt shard = c.shardOfNode(engine.self());
    if (current != null || !quiet() || shard.isEmpty()) {
      return;
    }
    NodeAddress peer = nextPeer(c.membersOf(shard.getAsInt()));
    if (peer == null) {
      return;
    }
    long horizon = settled.horizon(System.currentTimeMillis());
    Round r = new Round(peer, shard.getAsInt(), c.epoch(), RepairScope.upTo(horizon));
    current = r;
    r.done.future().onComplete(ar -> {
      current = null;
      long ms = System.currentTimeMillis() - r.startMs;
      if (ar.failed()) {
        Throwable t = ar.cause();
        if (t instanceof IllegalStateException || t instanceof IllegalArgumentException) {
          LOG.error("event=anti-entropy-failed node={} peer={} ms={}", engine.self(), peer, ms, t);
        } else {
          LOG.debug("event=anti-entropy-failed node={} peer={} ms={} cause={}", engine.self(),
              peer, ms, t.toString());
        }
      } else {
        completedRounds.merge(peer.toString(), 1, Integer::sum);
        if (r.sent + r.received > 0) {
          LOG.info("event=anti-entropy-repaired node={} peer={} sent={} received={} leaves={} "
              + "ms={}", engine.self(), peer, r.sent, r.received, r.leaves, ms);
        } else {
          LOG.debug("event=anti-entropy-round node={} peer={} leaves={} ms={}", engine.self(),
              peer, r.leaves, ms);
        }
      }
    });
    try {
      compareDigests(r);
    } catch (RuntimeException e) {
      r.done.tryFail(e);
    }
  }

  /** Rounds this node completed as initiator, per peer, since it started. */
  private final java.util.Map<String, Integer> completedRounds = new java.util.HashMap<>();

  /** The fewest rounds this node completed with any of {@code peers} (0 if none yet). */
  int completedRoundsWithEach(List<NodeAddress> peers) {
    int min = Integer.MAX_VALUE;
    for (NodeAddress p : peers) {
      min = Math.min(min, completedRounds.getOrDefault(p.toString(), 0));
    }
    return peers.isEmpty() ? 0 : min;
  }

  /** The next live peer in round-robin order that is not itself reconciling with this node. */
  private NodeAddress nextPeer(List<NodeAddress> members) {
    long now = System.currentTimeMillis();
    for (int i = 0; i < members.size(); i++) {
      NodeAddress m = members.get(Math.floorMod(peerCursor++, members.size()));
      Long asked = lastAskedMs.get(m.toString());
      if (!m.equals(engine.self()) && engine.isLive(m)
          && (asked == null || now - asked >= intervalMs)) {
        return m;
      }
    }
    return null;
  }

  /**
   * Asks the peer for its digest (it raises the horizon to its own if that is higher: a counter
   * either side knew of long enough ago is settled), then digests this side at that horizon.
   */
  private void compareDigests(Round r) {
    ObjectNode body = request(r);
    body.put("leaf-bits", RangeDigest.LEAF_BITS);
    Future<RangeDigest> theirs = engine.peers().post(r.peer, "/internal/ae/digest", body,
        timeoutMs).map(reply -> {
          JsonNode b = expectOk(reply, "digest");
          r.scope = RepairScope.upTo(Math.max(r.scope.horizon(), horizonOf(b)));
          return decodeDigest(b);
        });
    Future<RangeDigest> mine = theirs.compose(d -> digest(r.shard, r.epoch, r.scope));
    mine.onComplete(ar -> {
      if (ar.failed()) {
        r.done.tryFail(ar.cause());
        return;
      }
      BitSet differing = mine.result().differingLeaves(theirs.result());
      r.leaves = differing.cardinality();
      if (differing.isEmpty()) {
        r.done.tryComplete();
        return;
      }
      r.scope = r.scope.within(differing);
      step(r);
    });
  }

  private ObjectNode request(Round r) {
    ObjectNode body = Json.object();
    body.put("from", engine.self().toString());
    body.put("shard", r.shard);
    body.put("epoch", r.epoch);
    body.put("horizon", r.scope.horizon());
    return body;
  }

  /**
   * Drives the merge one need at a time. Each step continues from an I/O completion or a fresh
   * event-loop turn, so neither the stack nor the loop's turn grows with the number of keys.
   */
  private void step(Round r) {
    try {
      if (!quiet() || engine.cluster().epoch() != r.epoch) {
        r.done.tryFail(new KvException(ErrorCode.UNAVAILABLE, "view changed during the round"));
        return;
      }
      switch (r.merge.advance()) {
        case MINE -> {
          List<Entry> page = engine.replica().store().scan(r.mineAfter, SCAN_PAGE_ENTRIES);
          r.merge.addMine(versionsOf(page, r.shard, r.scope), page.size() < SCAN_PAGE_ENTRIES);
          r.mineAfter = page.isEmpty() ? r.mineAfter : page.get(page.size() - 1).key();
          context.runOnContext(v -> step(r));
        }
        case THEIRS -> continueWith(r, fetchVersions(r));
        case DRAIN -> {
          List<String> push = r.merge.takePush();
          continueWith(r, pull(r, r.merge.takePull(), 0).compose(v -> push(r, push, 0)));
        }
        case DONE -> r.done.tryComplete();
        default -> throw new IllegalStateException("unknown need");
      }
    } catch (RuntimeException e) {
      r.done.tryFail(e);
    }
  }

  private void continueWith(Round r, Future<?> io) {
    io.onComplete(ar -> {
      if (ar.failed()) {
        r.done.tryFail(ar.cause());
      } else {
        step(r);
      }
    });
  }

  private Future<Void> fetchVersions(Round r) {
    ObjectNode body = request(r);
    body.put("leaves", Base64.getEncoder().encodeToString(r.scope.leaves().toByteArray()));
    if (r.theirsAfter != null) {
      body.put("after", r.theirsAfter);
    }
    body.put("limit", VERSION_PAGE_ENTRIES_MAX);
    return engine.peers().post(r.peer, "/internal/ae/versions", body, timeoutMs).map(reply -> {
      JsonNode b = expectOk(reply, "versions");
      List<KeyVersion> page = new ArrayList<>();
      for (JsonNode v : b.path("versions")) {
        page.add(new KeyVersion(v.path(0).asText(),
            Version.decoded(v.path(1).asLong(), v.path(2).asText())));
      }
      JsonNode last = b.get("last");
      boolean exhausted = last == null || last.isNull();
      r.merge.addTheirs(page, exhausted);
      if (!exhausted) {
        r.theirsAfter = last.asText();
      }
      return null;
    });
  }

  /** Fetches the entries of {@code keys} from {@code index} on, as many batches as it takes. */
  private Future<Void> pull(Round r, List<String> keys, int index) {
    if (index >= keys.size()) {
      return Future.succeededFuture();
    }
    ObjectNode body = Json.object();
    body.put("from", engine.self().toString());
    ArrayNode wanted = body.putArray("keys");
    keys.subList(index, keys.size()).forEach(wanted::add);
    return engine.peers().post(r.peer, "/internal/ae/entries", body, timeoutMs).compose(reply -> {
      JsonNode b = expectOk(reply, "entries");
      int served = b.path("served").asInt(0);
      if (served < 1) {
        return Future.failedFuture(new KvException(ErrorCode.UNAVAILABLE,
            r.peer + " served no key of " + (keys.size() - index)));
      }
      r.received += engine.applyAll(Wire.decodeEntries(b.get("entries")), true);
      return pull(r, keys, index + served);
    });
  }

  /** Sends the current entries of {@code keys} from {@code index} on, a bounded batch at a time. */
  private Future<Void> push(Round r, List<String> keys, int index) {
    List<Entry> batch = new ArrayList<>();
    long bytes = 0;
    int next = index;
    while (next < keys.size() && bytes < ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
      Entry e = engine.replica().store().get(keys.get(next++));
      if (e != null && engine.cluster().shardOf(e.key()) == r.shard) {
        batch.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    ObjectNode body = Json.object();
    body.put("from", engine.self().toString());
    body.set("entries", Wire.entries(batch));
    int resume = next;
    return engine.peers().post(r.peer, "/internal/replicate", body, timeoutMs).compose(reply -> {
      r.sent += expectOk(reply, "replicate").path("applied").asLong(0);
      return push(r, keys, resume);
    });
  }

  private static JsonNode expectOk(Peers.PeerReply reply, String what) {
    if (reply.status() != 200) {
      throw new KvException(ErrorCode.UNAVAILABLE, what + " answered " + reply.status() + ": "
          + reply.body().path("detail").asText(""));
    }
    return reply.body();
  }

  // ---------------------------------------------------------------- both sides

  /** This node's pairs of {@code shard} in {@code scope}, from one page of its store. */
  private List<KeyVersion> versionsOf(List<Entry> page, int shard, RepairScope scope) {
    ClusterConfig c = engine.cluster();
    List<KeyVersion> out = new ArrayList<>();
    for (Entry e : page) {
      if (scope.includes(e) && c.shardOf(e.key()) == shard) {
        out.add(KeyVersion.of(e));
      }
    }
    return out;
  }

  /** Digests this node's entries of {@code shard} in {@code scope}, one page per loop turn. */
  private Future<RangeDigest> digest(int shard, long epoch, RepairScope scope) {
    Promise<RangeDigest> done = Promise.promise();
    digestPage(shard, epoch, scope, null, new RangeDigest(), done);
    return done.future();
  }

  private void digestPage(int shard, long epoch, RepairScope scope, String after,
      RangeDigest digest, Promise<RangeDigest> done) {
    try {
      if (engine.cluster().epoch() != epoch || !quiet()) {
        done.tryFail(new KvException(ErrorCode.UNAVAILABLE, "view changed during a digest"));
        return;
      }
      List<Entry> page = engine.replica().store().scan(after, SCAN_PAGE_ENTRIES);
      versionsOf(page, shard, scope).forEach(kv -> digest.add(kv.key(), kv.version()));
      if (page.size() < SCAN_PAGE_ENTRIES) {
        done.tryComplete(digest);
        return;
      }
      String last = page.get(page.size() - 1).key();
      context.runOnContext(v -> digestPage(shard, epoch, scope, last, digest, done));
    } catch (RuntimeException e) {
      done.tryFail(e);
    }
  }

  // ---------------------------------------------------------------- responder

  /** {@code POST /internal/ae/digest}: this node's digest for a peer's round. */
  public Future<ObjectNode> serveDigest(JsonNode body) {
    String from = body.path("from").asText();
    if (current != null && current.peer.toString().equals(from)
        && engine.self().toString().compareTo(from) < 0) {
      // Both started a round with each other: one round repairs both ways, the lower one's.
      throw new KvException(ErrorCode.UNAVAILABLE, "already reconciling with " + from);
    }
    int shard = checkServing(body);
    if (body.path("leaf-bits").asInt() != RangeDigest.LEAF_BITS) {
      throw new KvException(ErrorCode.BAD_REQUEST, "leaf-bits " + body.path("leaf-bits")
          + " is not " + RangeDigest.LEAF_BITS);
    }
    if (digestsInFlight >= DIGESTS_IN_FLIGHT_MAX) {
      throw new KvException(ErrorCode.OVERLOADED, "already computing " + digestsInFlight
          + " digests");
    }
    digestsInFlight++;
    long horizon = Math.max(horizonOf(body), settled.horizon(System.currentTimeMillis()));
    return digest(shard, body.path("epoch").asLong(), RepairScope.upTo(horizon))
        .map(d -> encodeDigest(d).put("horizon", horizon))
        .andThen(ar -> digestsInFlight--);
  }

  /** {@code POST /internal/ae/versions}: one page of this node's pairs in a peer's scope. */
  public ObjectNode serveVersions(JsonNode body) {
    int shard = checkServing(body);
    BitSet leaves;
    try {
      leaves = BitSet.valueOf(Base64.getDecoder().decode(body.path("leaves").asText()));
    } catch (IllegalArgumentException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, "leaves: " + e.getMessage());
    }
    if (leaves.length() > RangeDigest.LEAVES) {
      throw new KvException(ErrorCode.BAD_REQUEST, "leaf " + (leaves.length() - 1)
          + " out of range");
    }
    RepairScope scope = new RepairScope(horizonOf(body), leaves);
    JsonNode after = body.get("after");
    int limit = Math.max(1, Math.min(body.path("limit").asInt(VERSION_PAGE_ENTRIES_MAX),
        VERSION_PAGE_ENTRIES_MAX));
    List<Entry> page = engine.replica().store().scan(
        after == null || after.isNull() ? null : after.asText(), limit);
    ArrayNode versions = Json.MAPPER.createArrayNode();
    for (KeyVersion kv : versionsOf(page, shard, scope)) {
      versions.addArray().add(kv.key()).add(kv.version().counter()).add(kv.version().node());
    }
    ObjectNode out = Json.object();
    out.set("versions", versions);
    if (page.size() < limit) {
      out.putNull("last");
    } else {
      out.put("last", page.get(page.size() - 1).key());
    }
    return out;
  }

  /**
   * {@code POST /internal/ae/entries}: the entries this node holds for a prefix of the requested
   * keys, bounded by bytes; {@code served} says how many keys were looked up (at least one).
   */
  public ObjectNode serveEntries(JsonNode body) {
    engine.heard(body.path("from").asText());
    List<Entry> entries = new ArrayList<>();
    long bytes = 0;
    int served = 0;
    for (JsonNode k : body.path("keys")) {
      if (bytes >= ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT) {
        break;
      }
      Entry e = engine.replica().store().get(k.asText());
      served++;
      if (e != null) {
        entries.add(e);
        bytes += e.sizeEstimateBytes();
      }
    }
    ObjectNode out = Json.object();
    out.set("entries", Wire.entries(entries));
    out.put("served", served);
    return out;
  }

  /** Checks this node can answer a round for the requested shard; returns the shard. */
  private int checkServing(JsonNode body) {
    String from = body.path("from").asText();
    engine.heard(from);
    int shard = body.path("shard").asInt(-1);
    long epoch = body.path("epoch").asLong(-1);
    ClusterConfig c = engine.cluster();
    if (!quiet() || c.epoch() != epoch) {
      throw new KvException(ErrorCode.UNAVAILABLE, "not ready for anti-entropy at epoch "
          + epoch + " (epoch " + c.epoch() + (quiet() ? "" : ", busy") + ")");
    }
    if (!c.membersOf(shard).contains(engine.self())) {
      throw new KvException(ErrorCode.UNAVAILABLE, engine.self() + " is not in shard " + shard);
    }
    lastAskedMs.put(from, System.currentTimeMillis());
    return shard;
  }

  private static long horizonOf(JsonNode body) {
    long horizon = body.path("horizon").asLong(-1);
    if (horizon < 0) {
      throw new KvException(ErrorCode.BAD_REQUEST, "horizon missing");
    }
    return horizon;
  }

  private static ObjectNode encodeDigest(RangeDigest d) {
    ByteBuffer bytes = ByteBuffer.allocate(RangeDigest.LEAVES * Long.BYTES);
    bytes.asLongBuffer().put(d.leafDigests());
    ObjectNode out = Json.object();
    out.put("leaves", Base64.getEncoder().encodeToString(bytes.array()));
    return out;
  }

  private static RangeDigest decodeDigest(JsonNode body) {
    byte[] bytes = Base64.getDecoder().decode(body.path("leaves").asText());
    if (bytes.length != RangeDigest.LEAVES * Long.BYTES) {
      throw new KvException(ErrorCode.BAD_REQUEST, "a digest of " + bytes.length + " bytes");
    }
    long[] leaves = new long[RangeDigest.LEAVES];
    ByteBuffer.wrap(bytes).asLongBuffer().get(leaves);
    return RangeDigest.ofLeaves(leaves);
  }
}
