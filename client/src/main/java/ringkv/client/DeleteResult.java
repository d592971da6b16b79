package ringkv.client;

import java.util.Objects;

/**
 * The answer to a DELETE; deleting a missing key is a result ({@code found == false}), not an
 * exception. A DELETE the client had to retry after losing an answer may report "not found"
 * because its first attempt did delete the key.
 *
 * <p>Immutable; thread-safe.
 *
 * @param key the key
 * @param found false if the key did not exist (404)
 * @param shardId the shard that holds the key as the server reported it, 0 when not found
 * @param node the node the client sent the final attempt to
 * @param attempts attempts made (1 unless the client retried)
 */
public record DeleteResult(String key, boolean found, int shardId, String node, int attempts) {
  public DeleteResult {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(node, "node");
  }
}
