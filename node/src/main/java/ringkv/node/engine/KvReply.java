package ringkv.node.engine;

import java.util.Objects;
import ringkv.gossip.CausalContext;

/**
 * What the owner of a key answered, in dialect-neutral form; each dialect renders it.
 *
 * @param valueJson the value read (FOUND only)
 * @param servedBy the {@code host:port} of the replica that served the request
 * @param proxied whether the node rendering the reply forwarded the request to {@code servedBy}
 */
public record KvReply(
    Outcome outcome, String valueJson, CausalContext context, int shardId, String servedBy,
    boolean proxied) {

  /** The outcomes of a key-value operation that are not errors. */
  public enum Outcome {
    FOUND,
    NOT_FOUND,
    CREATED,
    UPDATED,
    DELETED
  }

  public KvReply {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(servedBy, "servedBy");
  }

  public KvReply asProxied() {
    return new KvReply(outcome, valueJson, context, shardId, servedBy, true);
  }
}
