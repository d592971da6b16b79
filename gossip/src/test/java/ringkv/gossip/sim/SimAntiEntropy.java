package ringkv.gossip.sim;

import java.util.List;
import java.util.Optional;
import ringkv.gossip.AntiEntropy;
import ringkv.gossip.AntiEntropyRound;
import ringkv.gossip.AntiEntropyRound.Action;
import ringkv.gossip.AntiEntropyRound.AskDigest;
import ringkv.gossip.AntiEntropyRound.AskVersions;
import ringkv.gossip.AntiEntropyRound.Done;
import ringkv.gossip.AntiEntropyRound.Limits;
import ringkv.gossip.AntiEntropyRound.Pull;
import ringkv.gossip.AntiEntropyRound.Push;
import ringkv.gossip.Entry;
import ringkv.gossip.sim.SimMessage.AeDigestReply;
import ringkv.gossip.sim.SimMessage.AeDigestRequest;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.gossip.sim.SimMessage.AePullReply;
import ringkv.gossip.sim.SimMessage.AePullRequest;
import ringkv.gossip.sim.SimMessage.AePush;
import ringkv.gossip.sim.SimMessage.AePushed;
import ringkv.gossip.sim.SimMessage.AeRefused;
import ringkv.gossip.sim.SimMessage.AeVersionsPage;
import ringkv.gossip.sim.SimMessage.AeVersionsRequest;

/**
 * A node's anti-entropy driver in the simulation, doing what the node's AntiEntropyDriver does
 * around the same production classes: {@link AntiEntropy} decides when a round starts, with
 * whom, and how a peer's round is answered; {@link AntiEntropyRound} runs the initiator's round.
 * This class only moves its requests and answers as {@link SimMessage}s, applies what it pulls
 * and pushes through {@code KeyValueCore.applyFromPeers}, times out a request unanswered for
 * {@link SimNode#EXCHANGE_TIMEOUT_MS}, and reports a completed round to {@code NodeStability}.
 * Pages are tiny ({@link #LIMITS}) so rounds page through the sim's few keys.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class SimAntiEntropy {
  /** Tiny pages and batches: the sim's stores hold a few keys. */
  static final Limits LIMITS = new Limits(3, 2, 2, 4_096);
  /** The settle time of the horizon (the node's 5 s, scaled to the sim's shorter intervals). */
  static final long SETTLE_MS = 500;

  private final SimNode node;
  private final AntiEntropy antiEntropy;
  private AntiEntropyRound round;
  private long askedMs;
  /** The tag of the request awaited: answers echo it, so a duplicate or late one is ignored. */
  private long tag;
  private long requests;
  private long rounds;
  private long repaired;

  SimAntiEntropy(SimNode node, long intervalMs) {
    this.node = node;
    this.antiEntropy = new AntiEntropy(node.id(), intervalMs, SETTLE_MS, LIMITS);
  }

  /** The round timer: sample the horizon, start a round if none runs. */
  void onTimer(long local) {
    antiEntropy.sample(local, node.replica().clock().current());
    int shard = node.shard();
    if (shard < 0) {
      return;
    }
    Optional<AntiEntropyRound> started = antiEntropy.start(shard, node.config().epoch(),
        node.shards().membersOf(shard), node.detector()::isUp, node.quiet(), local);
    if (started.isPresent()) {
      round = started.get();
      pump(local);
    }
  }

  /** Fails a round whose request went unanswered. */
  void onTick(long local) {
    if (round != null && local - askedMs >= SimNode.EXCHANGE_TIMEOUT_MS) {
      round.fail("no answer from " + round.peer());
      pump(local);
    }
  }

  /** Runs the round until it waits for an answer or ends. */
  private void pump(long local) {
    while (round != null) {
      Action a = round.next(node.replica().store(), node.shards()::shardOf, node.quiet(),
          node.config().epoch());
      long inc = node.incarnation() * 1_000_000 + ++requests;
      tag = inc;
      String peer = round.peer();
      if (a instanceof Done done) {
        finish(done);
        return;
      }
      askedMs = local;
      if (a instanceof AskDigest ask) {
        send(peer, new AeDigestRequest(ask.scope(), ask.leafBits(), inc));
        return;
      } else if (a instanceof AskVersions ask) {
        send(peer, new AeVersionsRequest(ask.scope(), ask.leaves(), ask.after(), ask.limit(),
            inc));
        return;
      } else if (a instanceof Pull pull) {
        send(peer, new AePullRequest(pull.keys(), inc));
        return;
      } else if (a instanceof Push push) {
        send(peer, new AePush(push.entries(), inc, node.config().epoch()));
        return;
      }
      // Yield: the node continues on a fresh turn of its loop; here at once.
    }
  }

  private void finish(Done done) {
    antiEntropy.finished(round);
    round = null;
    if (done.completed()) {
      rounds++;
      repaired += done.sent() + done.received();
      node.stability().onAntiEntropyRound(done.peer(), done.horizon());
    }
  }

  private void send(String to, SimMessage m) {
    node.network().send(node.id(), to, m);
  }

  /** Handles an anti-entropy message; false if {@code m} is none. */
  boolean onMessage(String from, SimMessage m, long local) {
    if (m instanceof AeDigestRequest r) {
      serveDigest(from, r, local);
    } else if (m instanceof AeVersionsRequest r) {
      if (node.phase() == SimNode.Phase.DOWN) {
        return true;
      }
      var refused = antiEntropy.admitVersions(r.scope(), node.quiet(), node.config().epoch(),
          node.shards().membersOf(r.scope().shard()), local);
      send(from, refused.isPresent() ? new AeRefused(refused.get().why(), r.incarnation())
          : new AeVersionsPage(AntiEntropy.versions(node.replica().store(), r.scope(),
              r.leaves(), r.after(), r.limit(), node.shards()::shardOf), r.incarnation()));
    } else if (m instanceof AePullRequest r) {
      List<Entry> entries = r.keys().stream().map(node.replica().store()::get)
          .filter(e -> e != null).toList();
      send(from, new AePullReply(entries, r.keys().size(), r.incarnation()));
    } else if (m instanceof AePush r) {
      send(from, ViewChangeParticipant.takesBatchAt(node.config().epoch(), r.epoch())
          ? new AePushed(node.applyFromPeers(r.entries()), r.incarnation())
          : new AeRefused("pushed at epoch " + r.epoch() + ", here "
              + node.config().epoch(), r.incarnation()));
    } else if (m instanceof AeDigestReply r) {
      answered(from, r.incarnation(), local, () -> round.onDigest(r.reply()));
    } else if (m instanceof AeVersionsPage r) {
      answered(from, r.incarnation(), local, () -> round.onVersions(r.page()));
    } else if (m instanceof AePullReply r) {
      answered(from, r.incarnation(), local,
          () -> round.onPulled(r.served(), node.applyFromPeers(r.entries())));
    } else if (m instanceof AePushed r) {
      answered(from, r.incarnation(), local, () -> round.onPushed(r.applied()));
    } else if (m instanceof AeRefused r) {
      answered(from, r.incarnation(), local, () -> round.fail(r.why()));
    } else {
      return false;
    }
    return true;
  }

  private void serveDigest(String from, AeDigestRequest r, long local) {
    var refused = antiEntropy.admitDigest(r.scope(), r.leafBits(), node.quiet(),
        node.config().epoch(), node.shards().membersOf(r.scope().shard()), local);
    if (refused.isPresent()) {
      send(from, new AeRefused(refused.get().why(), r.incarnation()));
      return;
    }
    AntiEntropy.DigestScan scan = antiEntropy.digestFor(r.scope(), local);
    while (!scan.scanPage(node.replica().store(), node.shards()::shardOf)) {
      continue; // the node scans a page per turn of its loop; here at once
    }
    antiEntropy.digestDone();
    send(from, new AeDigestReply(scan.reply(), r.incarnation()));
  }

  /** The answer awaited by the round under way (its tag, from its peer) is fed to it. */
  private void answered(String from, long incarnation, long local, Runnable feed) {
    if (round != null && incarnation == tag && from.equals(round.peer())) {
      tag = -1;
      feed.run();
      pump(local);
    }
  }

  @Override
  public String toString() {
    return "ae{rounds=" + rounds + " repaired=" + repaired + (round == null ? ""
        : " " + round) + "}";
  }
}
