package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Goal: status reads a node's key count from /metrics. Method: sample Prometheus texts. */
class MetricsTextTest {
  private static final String TEXT = String.join("\n",
      "# HELP ringkv_store_keys_extra something else",
      "ringkv_store_keys_extra 99.0",
      "# TYPE ringkv_store_keys gauge",
      "ringkv_store_keys{node=\"127.0.0.1:8082\",shard=\"1\"} 1503.0",
      "ringkv_store_tombstones 2.0", "");

  @Test
  void readsTheSampleWithLabelsAndSkipsFamiliesWithALongerName() {
    assertEquals(Optional.of(1503.0), MetricsText.value(TEXT, "ringkv_store_keys"));
    assertEquals(Optional.of(2.0), MetricsText.value(TEXT, "ringkv_store_tombstones"));
  }

  @Test
  void aMissingFamilyOrAValueThatIsNotANumberIsEmpty() {
    assertEquals(Optional.empty(), MetricsText.value(TEXT, "ringkv_nothing"));
    assertEquals(Optional.empty(), MetricsText.value("ringkv_x abc\n", "ringkv_x"));
  }
}
