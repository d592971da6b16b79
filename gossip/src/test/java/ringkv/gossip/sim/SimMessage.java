package ringkv.gossip.sim;

import java.util.BitSet;
import java.util.List;
import java.util.Set;
import ringkv.gossip.AntiEntropyRound.DigestReply;
import ringkv.gossip.AntiEntropyRound.Scope;
import ringkv.gossip.AntiEntropyRound.VersionsPage;
import ringkv.gossip.Entry;
import ringkv.gossip.ReplicationQueue.Batch;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The messages simulated nodes exchange; they mirror the real node's peer protocol. Client
 * operations are not messages: a client talks to its replica directly (the client link is not
 * what this simulation stresses). Answers echo the asker's {@code incarnation}, so a process
 * that restarted ignores answers meant for the one before it (the real node's connections die
 * with its process).
 */
public sealed interface SimMessage {

  /** The keys whose entries {@code message} carries: what its delivery may change. */
  static List<String> keysIn(SimMessage message) {
    List<Entry> entries = List.of();
    if (message instanceof ReplicateRequest m) {
      entries = m.batch().entries();
    } else if (message instanceof PullResponse m) {
      entries = List.of(m.entry());
    } else if (message instanceof ScanPage m) {
      entries = m.entries();
    } else if (message instanceof AePullReply m) {
      entries = m.entries();
    } else if (message instanceof AePush m) {
      entries = m.entries();
    } else if (message instanceof TransferBatch m) {
      entries = m.entries();
    }
    return entries.stream().map(Entry::key).toList();
  }

  /**
   * A batch from the sender's replication queue, sent at the sender's {@code epoch}; the
   * receiver applies it and acks, if it is at that epoch too
   * ({@link ringkv.gossip.ViewChangeParticipant#takesBatchAt}).
   */
  record ReplicateRequest(Batch batch, long incarnation, long epoch) implements SimMessage {}

  /** The receiver stored batch {@code batchId}. */
  record ReplicateAck(long batchId, long incarnation) implements SimMessage {}

  /**
   * "Send me your entry for {@code key}": a replica missing a client's dependency, asking at its
   * configuration's {@code epoch}.
   */
  record PullRequest(String key, long epoch) implements SimMessage {}

  /**
   * The answer to a {@link PullRequest}, naming the epoch it was asked at; only sent when the
   * answerer holds the key.
   */
  record PullResponse(Entry entry, long epoch) implements SimMessage {}

  /**
   * The sender's stability report ({@code NodeStability.localStable}) from process
   * {@code incarnation}, sent to every other node periodically (the real node's ping answer).
   */
  record Heartbeat(long stable, long incarnation, long epoch) implements SimMessage {}

  /** A page of entries; {@code last} null when the scan is over. */
  record ScanPage(List<Entry> entries, String last, long incarnation) implements SimMessage {}

  /** A catching-up replica asks for the page of {@code shard} after {@code after}. */
  record ScanShard(int shard, String after, long incarnation) implements SimMessage {}

  // Anti-entropy: AntiEntropyRound's requests and the answers AntiEntropy gives.

  /** The initiator asks for the peer's digest of {@code scope}. */
  record AeDigestRequest(Scope scope, int leafBits, long incarnation) implements SimMessage {}

  record AeDigestReply(DigestReply reply, long incarnation) implements SimMessage {}

  /** The initiator asks for a page of the peer's pairs in {@code leaves} after {@code after}. */
  record AeVersionsRequest(Scope scope, BitSet leaves, String after, int limit,
      long incarnation) implements SimMessage {}

  record AeVersionsPage(VersionsPage page, long incarnation) implements SimMessage {}

  /** The initiator pulls the peer's entries of {@code keys}. */
  record AePullRequest(List<String> keys, long incarnation) implements SimMessage {}

  /** The entries held of the first {@code served} keys asked for. */
  record AePullReply(List<Entry> entries, int served, long incarnation) implements SimMessage {}

  /**
   * The initiator pushes entries the peer lacks, at its {@code epoch}; merged as replicated
   * writes, by a peer at that epoch (the node's REPLICATE route).
   */
  record AePush(List<Entry> entries, long incarnation, long epoch) implements SimMessage {}

  record AePushed(int applied, long incarnation) implements SimMessage {}

  /** The peer does not answer the round ({@code AntiEntropy.Refusal}). */
  record AeRefused(String why, long incarnation) implements SimMessage {}

  // Configuration: a node whose heartbeat names a newer epoch is asked for its configuration.

  record ConfigRequest() implements SimMessage {}

  record ConfigReply(ClusterConfig config) implements SimMessage {}

  // View changes: the coordinator's calls and the participants' answers (the node's COPY,
  // PROGRESS, PREPARE, TRANSFER, COMMIT and ABORT routes), and the keys that move.

  /** A coordinator's call of one step of the change to {@code next}. */
  record ChangeCall(ChangeStep step, ClusterConfig next, Set<NodeAddress> participants)
      implements SimMessage {}

  /**
   * A participant's answer to a {@link ChangeCall}: {@code refusal} when it failed, else its
   * {@code state} (for PROGRESS: idle, counting, copying, copied or failed) and keys done.
   */
  record ChangeAnswer(ChangeStep step, long epoch, String state, long keysDone, String refusal)
      implements SimMessage {}

  /**
   * Keys a view change moves, from their sender to one receiver; merged as copied data. It names
   * the change by its epoch and its configuration's fingerprint, as the node's transfer batch.
   */
  record TransferBatch(long epoch, long change, long batchId, List<Entry> entries,
      long incarnation) implements SimMessage {}

  record TransferAck(long epoch, long batchId, long incarnation) implements SimMessage {}

  /**
   * A prepared participant whose change is in doubt asks what became of {@code pending} (the
   * node's OUTCOME route).
   */
  record OutcomeRequest(ClusterConfig pending) implements SimMessage {}

  /** The answer: the configuration installed here and what this node knows as coordinator. */
  record OutcomeReply(ClusterConfig pending, ClusterConfig installed,
      ringkv.gossip.ChangeTermination.Standing standing) implements SimMessage {}

  /** The steps of a view change, in order. */
  enum ChangeStep { COPY, PROGRESS, PREPARE, TRANSFER, COMMIT, ABORT }
}
