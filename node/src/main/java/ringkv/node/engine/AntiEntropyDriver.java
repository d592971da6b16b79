package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.gossip.AntiEntropy;
import ringkv.gossip.AntiEntropy.DigestScan;
import ringkv.gossip.AntiEntropy.Refusal;
import ringkv.gossip.AntiEntropyRound;
import ringkv.gossip.AntiEntropyRound.Action;
import ringkv.gossip.AntiEntropyRound.AskDigest;
import ringkv.gossip.AntiEntropyRound.AskVersions;
import ringkv.gossip.AntiEntropyRound.Done;
import ringkv.gossip.AntiEntropyRound.Pull;
import ringkv.gossip.AntiEntropyRound.Push;
import ringkv.gossip.AntiEntropyRound.Yield;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.VersionMerge;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.AntiEntropyMessages.DigestReply;
import ringkv.node.peer.AntiEntropyMessages.DigestRequest;
import ringkv.node.peer.AntiEntropyMessages.Scope;
import ringkv.node.peer.AntiEntropyMessages.VersionsPage;
import ringkv.node.peer.AntiEntropyMessages.VersionsRequest;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Anti-entropy on the node: every {@code ANTI_ENTROPY_INTERVAL_MS} this node reconciles its
 * shard's data with one live peer of its shard, so replicas that diverged for any reason (a
 * replica restarted from an old or wiped DATA_DIR, an author's replication queue lost with its
 * process) converge without a client or an operator doing anything.
 *
 * <p>Every decision is made by the pure classes the simulation runs too: {@link AntiEntropy}
 * (when a round starts and with whom, whether a peer's request is answered, the settled horizon,
 * the digest of this side) and {@link AntiEntropyRound} (the initiator's round). This class only
 * runs their loop: it sends what a round asks for over {@link PeerProtocol#DIGEST},
 * {@link PeerProtocol#VERSIONS}, {@link PeerProtocol#ENTRIES} and {@link PeerProtocol#REPLICATE},
 * feeds the answers back, applies pulled entries like replicated writes
 * ({@link KvService#applyFromPeers}), continues a round and a digest on a fresh event-loop turn
 * after each page of the store, and reports a completed round to
 * {@link ringkv.gossip.NodeStability#onAntiEntropyRound}.
 *
 * <p>A node is quiet when no view change is pending and it is not catching up; rounds are
 * skipped and requests refused otherwise (and when the epochs differ). Logs at INFO only a round
 * that repaired something. Not thread-safe; runs on the node's event loop.
 */
public final class AntiEntropyDriver {
  private static final Logger LOG = LoggerFactory.getLogger(AntiEntropyDriver.class);
  /** Writes known for less than this are left to the replication queues. */
  static final long SETTLE_MS = AntiEntropy.SETTLE_MS_DEFAULT;

  private final NodeServices node;
  /** The key-value service's core: this node's replica and its stability. */
  private final KeyValueCore core;
  private final KvService kv;
  private final AntiEntropy ae;
  private long timer = -1;

  /** Starts a round every ANTI_ENTROPY_INTERVAL_MS; asks time out after FORWARD_TIMEOUT_MS. */
  public AntiEntropyDriver(NodeServices node, KvService kv) {
    this.node = node;
    this.core = kv.core();
    this.kv = kv;
    this.ae = new AntiEntropy(node.state().self().toString(),
        node.config().antiEntropyIntervalMs(), SETTLE_MS, AntiEntropyRound.Limits.defaults());
  }

  public void start() {
    timer = node.vertx().setPeriodic(node.config().antiEntropyIntervalMs(), id -> {
      ae.sample(node.clock().millis(), core.replica().clock().current());
      round();
    });
  }

  public void stop() {
    if (timer >= 0) {
      node.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  // ---------------------------------------------------------------- initiator

  private boolean quiet() {
    return node.state().pending().isEmpty() && !node.state().catchingUp();
  }

  private static boolean live(PeerLiveness liveness, String member) {
    return PeerLiveness.address(member).map(liveness::isLive).orElse(false);
  }

  private static List<String> membersOf(ClusterConfig c, int shard) {
    return c.membersOfAny(shard).stream().map(NodeAddress::toString).toList();
  }

  private void round() {
    ClusterConfig c = node.state().current();
    OptionalInt shard = c.shardOfNode(node.state().self());
    if (shard.isEmpty()) {
      return;
    }
    ae.start(shard.getAsInt(), c.epoch(), membersOf(c, shard.getAsInt()),
        m -> live(node.liveness(), m), quiet(), node.clock().millis()).ifPresent(this::pump);
  }

  /**
   * Does what the round asks for next: a request whose answer is fed back before pumping again,
   * a fresh event-loop turn, or the end. The stack and a loop's turn do not grow with the keys.
   */
  private void pump(AntiEntropyRound round) {
    Action a;
    try {
      ClusterConfig c = node.state().current();
      a = round.next(core.replica().store(), c::shardOf, quiet(), c.epoch());
    } catch (RuntimeException e) {
      LOG.error("event=anti-entropy-broken node={} round={}", node.state().self(), round, e);
      a = round.fail(e.toString());
    }
    reportConflicts(round);
    NodeAddress peer = NodeAddress.parse(round.peer());
    if (a instanceof AskDigest ask) {
      ask(round, peer, PeerProtocol.DIGEST,
          new DigestRequest(scope(ask.scope()), ask.leafBits()),
          reply -> round.onDigest(new AntiEntropyRound.DigestReply(reply.digest(),
              reply.horizon(), reply.checksums())));
    } else if (a instanceof Yield) {
      Turns.afterIo(node.context().owner(), () -> pump(round));
    } else if (a instanceof AskVersions ask) {
      ask(round, peer, PeerProtocol.VERSIONS,
          new VersionsRequest(scope(ask.scope()), ask.leaves(), ask.after(), ask.limit()),
          page -> round.onVersions(new AntiEntropyRound.VersionsPage(page.versions(),
              page.last())));
    } else if (a instanceof Pull pull) {
      ask(round, peer, PeerProtocol.ENTRIES, new EntriesRequest(node.state().self(), pull.keys()),
          reply -> round.onPulled(reply.served(), kv.applyFromPeers(reply.entries(), true)));
    } else if (a instanceof Push push) {
      ask(round, peer, PeerProtocol.REPLICATE,
          Batch.replicated(node.state().self(), node.state().current().epoch(), push.entries()),
          applied -> round.onPushed(Math.toIntExact(applied.applied())));
    } else if (a instanceof Done done) {
      finished(round, done);
    } else {
      throw new IllegalStateException("unknown action " + a);
    }
  }

  /**
   * Logs, once per key and round, every key the round found held at one version with different
   * bytes here and at its peer: an honest cluster never writes that, so it is a bug or damage
   * the store's checksum did not catch. Both sides keep the copy with the higher checksum.
   */
  private void reportConflicts(AntiEntropyRound round) {
    List<VersionMerge.Conflict> conflicts = round.takeConflicts();
    if (conflicts.isEmpty()) {
      return;
    }
    node.metrics().antiEntropyValueConflicts(conflicts.size());
    for (VersionMerge.Conflict c : conflicts) {
      LOG.warn("event=anti-entropy-value-conflict node={} peer={} key={} version={} "
          + "checksum={} peer-checksum={} kept={}", node.state().self(), round.peer(), c.key(),
          c.version(), Long.toHexString(c.mine()), Long.toHexString(c.theirs()),
          c.theirsWins() ? "peer" : "mine");
    }
  }

  /** Sends {@code request}, feeds the answer (or fails the round), and pumps again. */
  private <Q, A> void ask(AntiEntropyRound round, NodeAddress peer, PeerRoute<Q, A> route,
      Q request, Consumer<A> feed) {
    node.ask(peer, route, request).onComplete(ar -> {
      if (ar.failed()) {
        round.fail(ar.cause().toString());
      } else {
        try {
          feed.accept(ar.result());
        } catch (RuntimeException e) {
          LOG.error("event=anti-entropy-broken node={} peer={}", node.state().self(), peer, e);
          round.fail(e.toString());
        }
      }
      pump(round);
    });
  }

  /** The request header of a round of this node's. */
  private Scope scope(AntiEntropyRound.Scope s) {
    return new Scope(node.state().self(), s.shard(), s.epoch(), s.horizon(), s.checksums());
  }

  private void finished(AntiEntropyRound round, Done d) {
    ae.finished(round);
    long ms = node.clock().millis() - round.startMs();
    node.metrics().antiEntropyRound(d.completed(), ms * 1_000_000L, d.sent(), d.received());
    if (!d.completed()) {
      LOG.debug("event=anti-entropy-failed node={} peer={} ms={} cause={}", node.state().self(),
          d.peer(), ms, d.failure());
      return;
    }
    core.stability().onAntiEntropyRound(d.peer(), d.horizon());
    if (d.sent() + d.received() > 0) {
      LOG.info("event=anti-entropy-repaired node={} peer={} sent={} received={} leaves={} "
          + "ms={}", node.state().self(), d.peer(), d.sent(), d.received(), d.leaves(), ms);
    } else {
      LOG.debug("event=anti-entropy-round node={} peer={} leaves={} ms={}", node.state().self(),
          d.peer(), d.leaves(), ms);
    }
  }

  // ---------------------------------------------------------------- responder

  private static AntiEntropyRound.Scope scopeOf(Scope s) {
    return new AntiEntropyRound.Scope(s.from().toString(), s.shard(), s.epoch(), s.horizon(),
        s.checksums());
  }

  private static KvException refused(Refusal r) {
    ErrorCode code = switch (r.kind()) {
      case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
      case BAD_REQUEST -> ErrorCode.BAD_REQUEST;
      case OVERLOADED -> ErrorCode.OVERLOADED;
    };
    return new KvException(code, r.why());
  }

  /** A peer's round asks for this node's digest, computed one page per event-loop turn. */
  public Future<DigestReply> serveDigest(DigestRequest request) {
    ClusterConfig c = node.state().current();
    AntiEntropyRound.Scope s = scopeOf(request.scope());
    long now = node.clock().millis();
    Optional<Refusal> refusal = ae.admitDigest(s, request.leafBits(), quiet(), c.epoch(),
        membersOf(c, s.shard()), now);
    if (refusal.isPresent()) {
      throw refused(refusal.get());
    }
    Promise<AntiEntropyRound.DigestReply> done = Promise.promise();
    scanPage(ae.digestFor(s, now), done);
    return done.future().map(d -> new DigestReply(d.digest(), d.horizon(), d.checksums()))
        .andThen(ar -> ae.digestDone());
  }

  private void scanPage(DigestScan scan, Promise<AntiEntropyRound.DigestReply> done) {
    try {
      ClusterConfig c = node.state().current();
      if (c.epoch() != scan.epoch() || !quiet()) {
        done.tryFail(new KvException(ErrorCode.UNAVAILABLE, "view changed during a digest"));
      } else if (scan.scanPage(core.replica().store(), c::shardOf)) {
        done.tryComplete(scan.reply());
      } else {
        Turns.afterIo(node.context().owner(), () -> scanPage(scan, done));
      }
    } catch (RuntimeException e) {
      done.tryFail(e);
    }
  }

  /** A peer's round asks for one page of this node's pairs in its scope. */
  public VersionsPage serveVersions(VersionsRequest request) {
    ClusterConfig c = node.state().current();
    AntiEntropyRound.Scope s = scopeOf(request.scope());
    Optional<Refusal> refusal = ae.admitVersions(s, quiet(), c.epoch(), membersOf(c, s.shard()),
        node.clock().millis());
    if (refusal.isPresent()) {
      throw refused(refusal.get());
    }
    AntiEntropyRound.VersionsPage page = AntiEntropy.versions(core.replica().store(), s,
        request.leaves(), request.after(), request.limit(), c::shardOf);
    return new VersionsPage(page.versions(), page.last());
  }
}
