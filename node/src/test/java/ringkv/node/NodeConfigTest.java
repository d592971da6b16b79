package ringkv.node;
import ringkv.node.config.NodeConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Goal: configuration errors stop the node with one line naming the variable, and flags mean the
 * same as environment variables. Method: parse hand-made environments and argument lists.
 */
class NodeConfigTest {

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static String error(Map<String, String> env, String... args) {
    return assertThrows(NodeConfig.BadConfigException.class, () -> NodeConfig.parse(env, args))
        .getMessage();
  }

  @Test
  void parsesTheShardDialectEnvironment() {
    NodeConfig c = NodeConfig.parse(env("SOCKET_ADDRESS", "127.0.0.1:8082",
        "VIEW", "127.0.0.1:8083,127.0.0.1:8082", "SHARD_COUNT", "1"), new String[0]);
    assertEquals("127.0.0.1:8082", c.address().toString());
    assertEquals("127.0.0.1:8082", c.view().get(0).toString(), "view is sorted");
    assertEquals(1, c.shardCount().getAsInt());
    assertEquals(NodeConfig.Dialect.SHARD, c.dialect());
    assertEquals(20, c.vnodesPerShard());
    assertEquals(3_000, c.causalWaitMs());
    assertTrue(c.describe().contains("VNODES_PER_SHARD=20"));
  }

  @Test
  void exitWithParentIsOffUnlessSetToOne() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    assertFalse(NodeConfig.parse(ok, new String[0]).exitWithParent());
    Map<String, String> on = new HashMap<>(ok);
    on.put("EXIT_WITH_PARENT", "1");
    NodeConfig c = NodeConfig.parse(on, new String[0]);
    assertTrue(c.exitWithParent());
    assertTrue(c.describe().contains("EXIT_WITH_PARENT=1"));
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("EXIT_WITH_PARENT", "yes");
    assertTrue(error(bad).contains("EXIT_WITH_PARENT"));
  }

  @Test
  void durabilitySettingsHaveDefaultsAndAreValidated() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    NodeConfig c = NodeConfig.parse(ok, new String[0]);
    assertEquals(ringkv.node.storage.DurabilityMode.SYNC, c.durability());
    assertEquals(1_000, c.fsyncIntervalMs());
    assertEquals(1_048_576, c.scrubBytesPerSec());
    assertTrue(c.describe().contains(
        "DURABILITY=sync FSYNC_INTERVAL_MS=1000 SCRUB_BYTES_PER_SEC=1048576"), c.describe());
    Map<String, String> periodic = new HashMap<>(ok);
    periodic.put("DURABILITY", "Periodic");
    periodic.put("FSYNC_INTERVAL_MS", "250");
    periodic.put("SCRUB_BYTES_PER_SEC", "0");
    c = NodeConfig.parse(periodic, new String[0]);
    assertEquals(ringkv.node.storage.DurabilityMode.PERIODIC, c.durability());
    assertEquals(250, c.fsyncIntervalMs());
    assertEquals(0, c.scrubBytesPerSec());
    assertEquals(ringkv.node.storage.DurabilityMode.OS,
        NodeConfig.parse(ok, new String[] {"--durability", "os"}).durability());
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("DURABILITY", "always");
    assertEquals("DURABILITY=\"always\" is not one of sync, periodic, os", error(bad));
    bad = new HashMap<>(ok);
    bad.put("FSYNC_INTERVAL_MS", "0");
    assertTrue(error(bad).contains("FSYNC_INTERVAL_MS"));
    bad = new HashMap<>(ok);
    bad.put("SCRUB_BYTES_PER_SEC", "-1");
    assertTrue(error(bad).contains("SCRUB_BYTES_PER_SEC"));
  }

  @Test
  void flagsOverrideTheEnvironment() {
    NodeConfig c = NodeConfig.parse(env("ADDRESS", "127.0.0.2:13800", "VIEW", "127.0.0.2:13800"),
        new String[] {"--repl-factor", "1", "--vnodes-per-shard=8"});
    assertEquals(NodeConfig.Dialect.VIEW_CHANGE, c.dialect());
    assertEquals(1, c.replFactor().getAsInt());
    assertEquals(8, c.vnodesPerShard());
  }

  @Test
  void badValuesNameTheirVariable() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    assertTrue(error(env("VIEW", "127.0.0.1:8082")).contains("SOCKET_ADDRESS"));
    assertTrue(error(env("SOCKET_ADDRESS", "127.0.0.1:8082")).contains("VIEW"));
    assertTrue(error(env("SOCKET_ADDRESS", "127.0.0.1", "VIEW", "127.0.0.1:1"))
        .contains("SOCKET_ADDRESS"));
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("SHARD_COUNT", "two");
    assertTrue(error(bad).contains("SHARD_COUNT"));
    bad.put("SHARD_COUNT", "0");
    assertTrue(error(bad).contains("SHARD_COUNT"));
    bad.put("SHARD_COUNT", "2");
    assertTrue(error(bad).contains("SHARD_COUNT=2"), "more shards than nodes");
    Map<String, String> badView = new HashMap<>(ok);
    badView.put("VIEW", "127.0.0.1:8082,,127.0.0.1:8083");
    assertTrue(error(badView).contains("VIEW"));
    Map<String, String> badTimer = new HashMap<>(ok);
    badTimer.put("CAUSAL_WAIT_MS", "-5");
    assertTrue(error(badTimer).contains("CAUSAL_WAIT_MS"));
    assertTrue(error(ok, "--no-such-flag", "1").contains("--no-such-flag"));
    assertTrue(error(ok, "stray").contains("stray"));
  }

  @Test
  void viewChangeDialectSettings() {
    NodeConfig member = NodeConfig.parse(env("ADDRESS", "127.0.0.2:13800",
        "VIEW", "127.0.0.2:13800,127.0.0.3:13800", "REPL_FACTOR", "2"), new String[0]);
    assertEquals(2_000, member.kvsCausalWaitMs());
    assertEquals(5_000, member.kvsRequestTimeoutMs());
    assertTrue(member.describe().contains("KVS_CAUSAL_WAIT_MS=2000"));
    assertTrue(member.layoutGiven());
    assertFalse(member.startsIdle());
    NodeConfig idle = NodeConfig.parse(env("ADDRESS", "127.0.0.4:13800",
        "VIEW", "127.0.0.2:13800,127.0.0.3:13800", "REPL_FACTOR", "2"), new String[0]);
    assertTrue(idle.startsIdle(), "not in its VIEW");
    NodeConfig joiner = NodeConfig.parse(env("SOCKET_ADDRESS", "127.0.0.4:8085",
        "VIEW", "127.0.0.2:8085"), new String[0]);
    assertFalse(joiner.startsIdle(), "the shard dialect joins instead");
    assertTrue(error(env("ADDRESS", "127.0.0.2:13800", "REPL_FACTOR", "2",
        "VIEW", "127.0.0.2:13800,127.0.0.3:13800,127.0.0.4:13800")).contains("REPL_FACTOR=2"));
  }

  @Test
  void bindAddressDefaultsToTheNodesHostAndTakesAHostOnly() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.3:8082", "VIEW", "127.0.0.3:8082");
    assertEquals("127.0.0.3", NodeConfig.parse(ok, new String[0]).bindHost());
    Map<String, String> any = new HashMap<>(ok);
    any.put("BIND_ADDRESS", "0.0.0.0");
    NodeConfig c = NodeConfig.parse(any, new String[0]);
    assertEquals("0.0.0.0", c.bindHost());
    assertEquals("127.0.0.3:8082", c.address().toString(), "the address peers use is unchanged");
    assertTrue(c.describe().contains("BIND_ADDRESS=0.0.0.0"), c.describe());
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("BIND_ADDRESS", "0.0.0.0:9000");
    assertTrue(error(bad).startsWith("BIND_ADDRESS=\"0.0.0.0:9000\" is not a host"), error(bad));
  }

  @Test
  void logFormatIsTextOrJson() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    NodeConfig text = NodeConfig.parse(ok, new String[0]);
    assertEquals(NodeConfig.LogFormat.TEXT, text.logFormat());
    assertTrue(text.describe().contains("LOG_FORMAT=text"), text.describe());
    Map<String, String> json = new HashMap<>(ok);
    json.put("LOG_FORMAT", "json");
    NodeConfig c = NodeConfig.parse(json, new String[0]);
    assertEquals(NodeConfig.LogFormat.JSON, c.logFormat());
    assertTrue(c.describe().contains("LOG_FORMAT=json"), c.describe());
    assertEquals(NodeConfig.LogFormat.JSON,
        NodeConfig.parse(ok, new String[] {"--log-format", "json"}).logFormat());
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("LOG_FORMAT", "xml");
    assertTrue(error(bad).startsWith("LOG_FORMAT=\"xml\""), error(bad));
  }

  @Test
  void secretsComeFromTheEnvironmentOrAFileNeverAFlagAndAreNeverPrinted() throws Exception {
    Map<String, String> base = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    String secret = "s3cret-value-that-must-not-leak";
    String flag = error(base, "--cluster-secret", secret);
    assertTrue(flag.contains("cannot be a flag") && !flag.contains(secret), flag);
    assertTrue(error(base, "--admin-token=" + secret).contains("cannot be a flag"));
    Map<String, String> secured = new HashMap<>(base);
    secured.put("CLUSTER_SECRET", secret);
    secured.put("ADMIN_TOKEN", "admin-" + secret);
    NodeConfig c = NodeConfig.parse(secured, new String[0]);
    assertTrue(c.security().peersAuthenticated());
    assertFalse(c.describe().contains(secret), c.describe());
    assertFalse(c.toString().contains(secret), c.toString());
    assertTrue(c.describe().contains("CLUSTER_SECRET=(set)"), c.describe());
    java.nio.file.Path file = java.nio.file.Files.createTempFile("ringkv-secret", ".txt");
    try {
      java.nio.file.Files.writeString(file, secret + "\n");
      Map<String, String> fromFile = new HashMap<>(base);
      fromFile.put("CLUSTER_SECRET_FILE", file.toString());
      assertTrue(NodeConfig.parse(fromFile, new String[0]).security().clusterSecret()
          .map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8).equals(secret))
          .orElse(false), "read from the file, trailing newline dropped");
      fromFile.put("CLUSTER_SECRET", secret);
      assertTrue(error(fromFile).contains("both set"));
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  @Test
  void tokensNeedPeerAuthenticationAndSecretsALength() {
    Map<String, String> open = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082",
        "ADMIN_TOKEN", "an-admin-token-0123456789");
    assertTrue(error(open).contains("ADMIN_TOKEN needs CLUSTER_SECRET"), error(open));
    Map<String, String> weak = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082",
        "CLUSTER_SECRET", "short");
    assertTrue(error(weak).contains("shorter than 16 bytes"), error(weak));
    Map<String, String> tls = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082",
        "TLS_CERT", "/etc/hostname");
    assertTrue(error(tls).contains("TLS_CERT and TLS_KEY go together"), error(tls));
    assertFalse(NodeConfig.parse(env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW",
        "127.0.0.1:8082"), new String[0]).security().peersAuthenticated(), "open by default");
  }

  @Test
  void theNewBoundsHaveDefaultsAndRanges() {
    Map<String, String> ok = env("SOCKET_ADDRESS", "127.0.0.1:8082", "VIEW", "127.0.0.1:8082");
    NodeConfig c = NodeConfig.parse(ok, new String[0]);
    assertTrue(c.describe().contains("CLOCK_AHEAD_MS_MAX=86400000"), c.describe());
    assertTrue(c.describe().contains("EPOCH_AHEAD_MAX=100000"), c.describe());
    assertTrue(c.describe().contains("CONNECTIONS_MAX=4096"), c.describe());
    Map<String, String> bad = new HashMap<>(ok);
    bad.put("EPOCH_AHEAD_MAX", "1");
    assertTrue(error(bad).contains("EPOCH_AHEAD_MAX"), "two missed changes must stay possible");
    assertEquals(5_000, NodeConfig.parse(ok, new String[] {"--request-read-timeout-ms", "5000"})
        .requestReadTimeoutMs());
  }
}
