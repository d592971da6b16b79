package ringkv.tests.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The two HTTP dialects of a node (SPEC §3, §4) as a black-box client sees the key-value
 * endpoints: where a key lives, the name of the causal metadata field in requests and replies,
 * the metadata that means "no history", and where a node reports the keys it holds itself. Both
 * put the same {@code {"keys":{"k":[counter,"node"]}}} object in that field.
 */
public enum Dialect {
  /** {@code /key-value-store/<key>}, {@code "causal-metadata"} (SPEC §3). */
  SHARD("/key-value-store/", "causal-metadata"),
  /** {@code /kvs/keys/<key>}, {@code "causal-context"} (SPEC §4). */
  KVS("/kvs/keys/", "causal-context");

  private final String keyPrefix;
  private final String metadataField;

  Dialect(String keyPrefix, String metadataField) {
    this.keyPrefix = keyPrefix;
    this.metadataField = metadataField;
  }

  /** The path of {@code key}'s key-value endpoint. */
  public String keyPath(String key) {
    return keyPrefix + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The request and reply field that carries causal metadata. */
  public String metadataField() {
    return metadataField;
  }

  /** Metadata of a client without history: {@code null} (shard dialect) or {@code {}}. */
  public JsonNode emptyMetadata() {
    return this == SHARD ? Http.MAPPER.nullNode() : Http.MAPPER.createObjectNode();
  }

  /** Where a node answers a number, and the reply field that holds it. */
  public record Figure(String path, String field) {}

  /**
   * Where a member of shard {@code shardId} answers how many live keys it holds itself (not
   * another replica's figure).
   */
  public Figure ownKeyCount(String shardId) {
    return this == SHARD
        ? new Figure("/key-value-store-shard/shard-id-key-count/" + shardId,
            "shard-id-key-count")
        : new Figure("/kvs/key-count", "key-count");
  }
}
