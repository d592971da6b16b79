package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Goal: {@code ./kvs ring} prints what the shell+Python script printed before it, and the ring
 * arithmetic is right at the wrap-around. Method: a GET /ring answer of the view-change dialect
 * (string shard ids), its golden table (produced by the old script, with "?" where it printed
 * Python's "None"), and range fractions of edge cases.
 */
class RingFormatTest {
  static final String RING = "{\"epoch\":3,\"hash-function\":\"murmur3_128\","
      + "\"vnodes-per-shard\":2,\"shards\":[{\"shard-id\":\"1\",\"members\":[\"127.0.0.1:8082\","
      + "\"127.0.0.1:8084\"],\"live-members\":[\"127.0.0.1:8082\"],\"key-count\":12,"
      + "\"owned-fraction\":0.625},{\"shard-id\":\"2\",\"members\":[\"127.0.0.1:8083\","
      + "\"127.0.0.1:8085\"],\"live-members\":[\"127.0.0.1:8083\",\"127.0.0.1:8085\"],"
      + "\"key-count\":null,\"owned-fraction\":0.375}],\"tokens\":["
      + "{\"token\":-9223372036854775808,\"shard-id\":\"1\"},"
      + "{\"token\":-4611686018427387904,\"shard-id\":\"2\"},{\"token\":0,\"shard-id\":\"1\"},"
      + "{\"token\":6917529027641081856,\"shard-id\":\"2\"}]}";

  @Test
  void theTableIsTheOneTheOldScriptPrinted() throws Exception {
    RingSnapshot ring = RingSnapshot.parse("127.0.0.1:8082", Json.MAPPER.readTree(RING));
    assertEquals(List.of(
        "Ring of 127.0.0.1:8082: epoch 3, hash murmur3_128, 2 vnodes per shard, 4 tokens",
        "",
        "Shard       Owns     Keys  Members (* = live)",
        "1         62.50%       12  127.0.0.1:8082* 127.0.0.1:8084",
        "2         37.50%        ?  127.0.0.1:8083* 127.0.0.1:8085*",
        "",
        "                 Token  Shard     Range",
        "  -9223372036854775808  1        12.50%",
        "  -4611686018427387904  2        25.00%",
        "                     0  1        25.00%",
        "   6917529027641081856  2        37.50%"), RingCommand.format(ring));
  }

  @Test
  void rangesWrapAroundAndSumToTheWholeRing() {
    List<RingSnapshot.Token> tokens = List.of(new RingSnapshot.Token(Long.MIN_VALUE, 1),
        new RingSnapshot.Token(-1, 2), new RingSnapshot.Token(Long.MAX_VALUE, 1));
    double sum = 0;
    for (int i = 0; i < tokens.size(); i++) {
      sum += RingSnapshot.rangeFraction(tokens, i);
    }
    assertEquals(1.0, sum, 1e-12);
    assertEquals(0x1p-64, RingSnapshot.rangeFraction(tokens, 0), 0); // MAX -> MIN wraps by 1
    assertEquals(0.5, RingSnapshot.rangeFraction(tokens, 2), 1e-12);
    assertEquals(1.0, RingSnapshot.rangeFraction(List.of(new RingSnapshot.Token(5, 1)), 0));
  }

  @Test
  void jsonOutputTypesShardIdsAsIntegersInBothDialects() throws Exception {
    RingSnapshot ring = RingSnapshot.parse("127.0.0.1:8082", Json.MAPPER.readTree(RING));
    JsonNode json = ring.toJson();
    assertEquals(1, json.path("shards").get(0).path("shard-id").intValue());
    assertEquals(true, json.path("shards").get(1).path("key-count").isNull());
    assertEquals(0.125, json.path("tokens").get(0).path("range-fraction").doubleValue(), 1e-12);
  }
}
