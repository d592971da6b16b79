package ringkv.client;

import java.util.Objects;

/**
 * The answer to a PUT.
 *
 * <p>Immutable; thread-safe.
 *
 * @param key the key written
 * @param created true if the key did not exist (201), false if it was updated (200)
 * @param shardId the shard that holds the key, as the server reported it
 * @param node the node the client sent the final attempt to
 * @param version the version the write got, or null if the answer did not name it
 * @param attempts attempts made (1 unless the client retried)
 */
public record PutResult(String key, boolean created, int shardId, String node, Version version,
    int attempts) {
  public PutResult {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(node, "node");
  }
}
