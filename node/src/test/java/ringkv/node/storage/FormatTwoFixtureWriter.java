package ringkv.node.storage;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * Wrote the fixture {@code src/test/resources/store-format-2/}: a small store in the layout of
 * the release before record checksums (storage format 2, entry format 1), which
 * {@code StoreUpgradeTest} opens with the current code. It was run once, at commit 293e7c6
 * (main before issue 15), as {@code java -cp <test classpath> ringkv.node.storage
 * .FormatTwoFixtureWriter node/src/test/resources/store-format-2}; running it on a later build
 * writes that build's format instead, so do not regenerate the fixture with it.
 *
 * <p>The store gets its records in two sessions (the first is flushed to a table file when the
 * second opens the store, the second stays in the write-ahead log), so the upgrade reads both.
 * {@code expected.jsonl} lists every entry as plain JSON, independent of any codec.
 */
public final class FormatTwoFixtureWriter {
  static final int ENTRIES = 240;

  private FormatTwoFixtureWriter() {}

  /** Entry i of the fixture: varied keys (non-ASCII too), values, tombstones and deps. */
  static Entry entry(int i) {
    String key = switch (i % 5) {
      case 0 -> "k" + i;
      case 1 -> "cl\u00e9-" + i;
      case 2 -> "\u9375-" + i;
      case 3 -> "\ud83d\udd11-" + i;
      default -> "key/with spaces " + i;
    };
    Map<String, Version> deps = new TreeMap<>();
    for (int d = 0; d < i % 4; d++) {
      deps.put("dep" + (i + d), new Version(i + d + 1, "127.0.0." + (d + 1) + ":8085"));
    }
    Version version = new Version(1000L + i * 7L, "127.0.0." + (i % 3 + 1) + ":8085");
    if (i % 6 == 5) {
      return Entry.tombstone(key, version, CausalContext.of(deps));
    }
    String value = switch (i % 4) {
      case 0 -> Integer.toString(i);
      case 1 -> "\"text " + i + " \u00fc\u4e2d\"";
      case 2 -> "{\"n\":" + i + ",\"list\":[1,2,3]}";
      default -> "\"" + "x".repeat(i * 13 % 700) + "\"";
    };
    return Entry.value(key, value, version, CausalContext.of(deps));
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    List<String> lines = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (RocksDbStore store = new RocksDbStore(dir)) {
      for (int i = 0; i < ENTRIES / 2; i++) {
        store.put(entry(i));
      }
      store.putMeta("config", "{\"epoch\":7,\"fixture\":true}".getBytes(UTF_8));
    }
    try (RocksDbStore store = new RocksDbStore(dir)) {
      for (int i = ENTRIES / 2; i < ENTRIES; i++) {
        if (i % 6 == 5) { // a value first, then its tombstone, as a delete leaves it
          Entry t = entry(i);
          store.put(Entry.value(t.key(), "\"doomed\"", new Version(1, "x:1"), t.deps()));
        }
        store.put(entry(i));
      }
      store.putMeta("stable", "4242".getBytes(US_ASCII));
    }
    for (int i = 0; i < ENTRIES; i++) {
      Entry e = entry(i);
      ObjectNode line = json.createObjectNode();
      line.put("key", e.key());
      line.put("value", e.value());
      line.put("counter", e.version().counter());
      line.put("node", e.version().node());
      ObjectNode deps = line.putObject("deps");
      e.deps().keys().forEach((k, v) -> deps.putArray(k).add(v.counter()).add(v.node()));
      lines.add(json.writeValueAsString(line));
    }
    Files.write(dir.resolve("expected.jsonl"), lines, UTF_8);
  }
}
