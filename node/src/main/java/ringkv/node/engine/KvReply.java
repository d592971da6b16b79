package ringkv.node.engine;

import java.util.Objects;
import ringkv.gossip.CausalContext;
import ringkv.gossip.KeyValueCore;

/**
 * What the owner of a key answered, in dialect-neutral form; each dialect renders it.
 *
 * @param valueJson the value read (FOUND only)
 * @param servedBy the {@code host:port} of the replica that served the request
 * @param proxied whether the node rendering the reply forwarded the request to {@code servedBy}
 */
public record KvReply(KeyValueCore.Outcome outcome, String valueJson, CausalContext context,
    int shardId, String servedBy, boolean proxied) {
  public KvReply {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(servedBy, "servedBy");
  }
}
