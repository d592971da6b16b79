package ringkv.gossip.sim;

import java.util.List;
import ringkv.gossip.Entry;
import ringkv.gossip.ReplicationQueue.Batch;

/**
 * The messages simulated nodes exchange; they mirror the real node's peer protocol. Client
 * operations are not messages: a client talks to its replica directly (the client link is not
 * what this simulation stresses). Answers echo the asker's {@code incarnation}, so a process
 * that restarted ignores answers meant for the one before it (the real node's connections die
 * with its process).
 */
public sealed interface SimMessage {

  /** A batch from the sender's replication queue; the receiver applies it and acks. */
  record ReplicateRequest(Batch batch, long incarnation) implements SimMessage {}

  /** The receiver stored batch {@code batchId}. */
  record ReplicateAck(long batchId, long incarnation) implements SimMessage {}

  /** "Send me your entry for {@code key}": a replica missing a client's dependency. */
  record PullRequest(String key) implements SimMessage {}

  /** The answer to a {@link PullRequest}; only sent when the answerer holds the key. */
  record PullResponse(Entry entry) implements SimMessage {}

  /**
   * The sender's stability report ({@code NodeStability.localStable}) from process
   * {@code incarnation}, sent to every other node periodically (the real node's ping answer).
   */
  record Heartbeat(long stable, long incarnation) implements SimMessage {}

  /** A catching-up replica asks for the page of its shard after {@code after}. */
  record ScanRequest(String after, long incarnation) implements SimMessage {}

  /** A page of entries; {@code last} null when the scan is over. */
  record ScanPage(List<Entry> entries, String last, long incarnation) implements SimMessage {}

  /**
   * An anti-entropy round: the initiator's entries of its shard; the peer merges them and
   * answers with its own ({@link AntiEntropyReply}).
   */
  record AntiEntropyRequest(List<Entry> entries, long incarnation) implements SimMessage {}

  /** The peer's entries, for the initiator to merge; the round is then complete. */
  record AntiEntropyReply(List<Entry> entries, long incarnation) implements SimMessage {}
}
