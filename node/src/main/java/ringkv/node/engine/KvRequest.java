package ringkv.node.engine;

import java.util.Objects;
import ringkv.gossip.CausalContext;
import ringkv.gossip.ContextBound;
import ringkv.gossip.KeyValueCore;

/**
 * A key-value operation as any dialect hands it to the engine, and as one node forwards it to the
 * owner. Validation (key length, missing value) happens at the owner, so every node answers alike.
 *
 * @param valueJson the PUT value as compact JSON text; null when the request had none
 * @param context the client's causal context, as it sent it
 * @param waitMs how long the owner may wait for the causal dependencies of this request
 * @param requestId the id the receiving node gave the client's request (its logs and the
 *     owner's carry it), or null
 * @param acks replicas that hold a write before it is answered
 * @param contextEntries the most entries the reply's context keeps without looking at
 *     stability ({@link ContextBound}; the {@code RingKV-Context-Entries} header)
 */
public record KvRequest(KeyValueCore.Op op, String key, String valueJson, CausalContext context,
    long waitMs, String requestId, int acks, int contextEntries) {
  public KvRequest {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(context, "context");
  }

  /** A request whose reply keeps {@link ContextBound#ENTRIES_MAX} context entries. */
  public KvRequest(KeyValueCore.Op op, String key, String valueJson, CausalContext context,
      long waitMs, String requestId, int acks) {
    this(op, key, valueJson, context, waitMs, requestId, acks, ContextBound.ENTRIES_MAX);
  }

  /** A request answered once this replica holds its write ({@code acks} 1). */
  public KvRequest(KeyValueCore.Op op, String key, String valueJson, CausalContext context,
      long waitMs, String requestId) {
    this(op, key, valueJson, context, waitMs, requestId, 1);
  }
}
