package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import ringkv.gossip.Entry;
import ringkv.gossip.Replica;
import ringkv.gossip.TransferPlan;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.peer.MembershipMessages.PlanReply;
import ringkv.node.peer.MembershipMessages.Transfer;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.NodeAddress;

/**
 * How a view change's keys travel from this node to their new owners ({@link ChangeParticipant}'s
 * plan, copy and transfer): counted for a plan, then sent in bounded batches that carry the
 * change's epoch, each acknowledged by its receiver and retried a bounded number of times.
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
final class TransferSender {
  /**
   * Bytes of entries one batch to a receiver carries: small, because the cluster serves while
   * keys are copied, and a receiver applies a batch in one turn of its event loop.
   */
  static final long BATCH_BYTES_MAX = 128 << 10;
  /** Entries one batch to a receiver carries at most. */
  static final int BATCH_ENTRIES_MAX = 256;
  /** A batch a receiver did not take is sent again after this, this many times at most. */
  static final long RETRY_DELAY_MS = 500;
  static final int SEND_ATTEMPTS_MAX = 10;
  /** For a phase that cannot be overtaken (the transfer, under the stop). */
  static final BooleanSupplier ALWAYS = () -> true;

  /**
   * Keys and bytes sent and acknowledged in one phase of a change; a key sent to two receivers
   * counts twice (progress is measured in copies, as the plan's transfers are).
   */
  static final class Sent {
    long keys;
    long bytes;
  }

  private final NodeServices node;
  private final Replica replica;

  TransferSender(NodeServices node, Replica replica) {
    this.node = node;
    this.replica = replica;
  }

  /** What this node would send under {@code plan}, per receiver (a paged count). */
  Future<PlanReply> count(TransferPlan plan) {
    Map<NodeAddress, long[]> perTarget = new TreeMap<>();
    long[] held = {0};
    long[] moving = {0};
    boolean sends = plan.sendsAny(node.state().self());
    return StorePages.scan(node.vertx(), replica.store(), ChangeParticipant.PAGE_ENTRIES, e -> {
      if (node.state().owns(node.state().current(), e.key()) && !e.isTombstone()) {
        held[0]++;
      }
      List<NodeAddress> targets = sends ? plan.targetsOf(node.state().self(), e.key()) : List.of();
      moving[0] += targets.isEmpty() ? 0 : 1;
      for (NodeAddress t : targets) {
        long[] sums = perTarget.computeIfAbsent(t, k -> new long[2]);
        sums[0]++;
        sums[1] += e.sizeEstimateBytes();
      }
    }).map(v -> {
      List<Transfer> transfers = new ArrayList<>();
      perTarget.forEach((t, sums) -> transfers.add(new Transfer(t, sums[0], sums[1])));
      return new PlanReply(transfers, moving[0], held[0]);
    });
  }

  /**
   * Sends, page by page, the keys this node sends under {@code plan}: each page's batches are
   * acknowledged before the next page is read (bounded memory); {@code sent} counts them. The
   * keys sent are those held now, so a key changed later is sent again at the stop. Stops when
   * {@code current} says the phase it sends for is over (the copy was aborted).
   */
  Future<Void> sendFrom(TransferPlan plan, String after, Sent sent, BooleanSupplier current) {
    if (!plan.sendsAny(node.state().self())) {
      return current.getAsBoolean() ? Future.succeededFuture() // another member sends
          : Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED, "aborted"));
    }
    Promise<Void> done = Promise.promise();
    sendPage(plan, after, sent, current, done);
    return done.future();
  }

  /**
   * One page, then the next after the network was polled ({@link Turns}): a page with nothing
   * to send completes at once, and pages read back to back in one turn held requests (0.3 s at
   * 50,000 keys). One promise for the whole walk, so its end does not unwind a chain as long
   * as the store has pages.
   */
  private void sendPage(TransferPlan plan, String after, Sent sent, BooleanSupplier current,
      Promise<Void> done) {
    if (!current.getAsBoolean()) {
      done.tryFail(new KvException(ErrorCode.VIEW_CHANGE_FAILED, "aborted"));
      return;
    }
    List<Entry> page = replica.store().scan(after, ChangeParticipant.PAGE_ENTRIES);
    if (page.isEmpty()) {
      done.tryComplete();
      return;
    }
    String last = page.get(page.size() - 1).key();
    sendEntries(plan, page, sent, current).onComplete(ar -> {
      if (ar.failed()) {
        done.tryFail(ar.cause());
      } else {
        Turns.afterIo(node.vertx(), () -> sendPage(plan, last, sent, current, done));
      }
    });
  }

  /** Sends {@code entries} to their receivers under {@code plan}; acknowledged, they count. */
  Future<Void> sendEntries(TransferPlan plan, List<Entry> entries, Sent sent,
      BooleanSupplier current) {
    Map<NodeAddress, List<Entry>> batches = new HashMap<>();
    Map<NodeAddress, Long> batchBytes = new HashMap<>();
    List<Future<?>> sends = new ArrayList<>();
    for (Entry e : entries) {
      List<NodeAddress> targets = plan.targetsOf(node.state().self(), e.key());
      for (NodeAddress t : targets) {
        batches.computeIfAbsent(t, k -> new ArrayList<>()).add(e);
        long bytes = batchBytes.merge(t, e.sizeEstimateBytes(), Long::sum);
        if (bytes >= BATCH_BYTES_MAX || batches.get(t).size() >= BATCH_ENTRIES_MAX) {
          sends.add(send(t, batches.remove(t), sent, current, 1));
          batchBytes.remove(t);
        }
      }
    }
    batches.forEach((t, batch) -> sends.add(send(t, batch, sent, current, 1)));
    return Future.all(sends).mapEmpty();
  }

  /**
   * A batch of the change under way; it carries the change's epoch and fingerprint, checked on
   * receipt.
   */
  private Future<Void> send(NodeAddress target, List<Entry> batch, Sent sent,
      BooleanSupplier current, int attempt) {
    var underWay = node.state().participant().underWay();
    if (underWay.isEmpty()) {
      return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED, "aborted"));
    }
    byte[] body = PeerProtocol.REPLICATE.request().encode(
        Batch.transfer(node.state().self(), underWay.get(), batch));
    return node.peers().send(target, PeerProtocol.REPLICATE, body, node.config().forwardTimeoutMs())
        .<Void>map(applied -> {
          sent.keys += batch.size();
          sent.bytes += body.length;
          return null;
        })
        .recover(err -> {
          if (attempt >= SEND_ATTEMPTS_MAX || !current.getAsBoolean()) {
            return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE_FAILED,
                target + " did not take " + batch.size() + " keys: " + err.getMessage()));
          }
          Promise<Void> later = Promise.promise();
          node.vertx().setTimer(RETRY_DELAY_MS,
              id -> send(target, batch, sent, current, attempt + 1).onComplete(later));
          return later.future();
        });
  }
}
