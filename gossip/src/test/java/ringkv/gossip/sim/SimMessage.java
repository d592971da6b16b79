package ringkv.gossip.sim;

import ringkv.gossip.Entry;
import ringkv.gossip.ReplicationQueue.Batch;

/**
 * The messages simulated nodes exchange; they mirror the real node's replica-to-replica HTTP
 * calls. Client operations are not messages: a client talks to its replica directly (the client
 * link is not what this simulation stresses).
 */
public sealed interface SimMessage {

  /** A batch from the sender's replication queue; the receiver applies it and acks. */
  record ReplicateRequest(Batch batch) implements SimMessage {}

  /** The receiver stored batch {@code batchId}. */
  record ReplicateAck(long batchId) implements SimMessage {}

  /** "Send me your entry for {@code key}": a replica missing a client's dependency. */
  record PullRequest(String key) implements SimMessage {}

  /** The answer to a {@link PullRequest}; only sent when the answerer holds the key. */
  record PullResponse(Entry entry) implements SimMessage {}

  /**
   * The sender's {@code Replica.localStable} over its shard peers, sent to every other node
   * periodically (the real node's ping reply carries the same number as {@code "stable"}).
   */
  record Heartbeat(long stable) implements SimMessage {}
}
