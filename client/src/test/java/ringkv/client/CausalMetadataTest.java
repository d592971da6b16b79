package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/*
 * Goal: the client's causal metadata is the server's wire format and merges correctly: the
 * per-key maximum by (counter, node) is commutative, associative and idempotent; entries the
 * server dropped as stable are forgotten unless the session moved on; concurrent merges into one
 * Session lose nothing.
 *
 * Method: table tests for parsing, JSON round trips and pruning; seeded random property loops
 * (seed printed in assertion messages) for the merge laws against a plain-map model; a thread
 * pool hammering one Session for the concurrency case.
 */
class CausalMetadataTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static CausalMetadata parse(String json) throws Exception {
    return CausalMetadata.fromJson(MAPPER.readTree(json));
  }

  private static CausalMetadata meta(Object... keyCounterNode) {
    Map<String, Version> m = new HashMap<>();
    for (int i = 0; i < keyCounterNode.length; i += 3) {
      m.put((String) keyCounterNode[i], new Version(((Number) keyCounterNode[i + 1]).longValue(),
          (String) keyCounterNode[i + 2]));
    }
    return CausalMetadata.of(m);
  }

  @Test
  void parsesTheWireFormatAndTheEmptyForms() throws Exception {
    CausalMetadata m = parse("{\"keys\":{\"a\":[5,\"n1:1\"],\"b\":[7,\"n2:2\"]}}");
    assertEquals(meta("a", 5, "n1:1", "b", 7, "n2:2"), m);
    for (String empty : new String[] {"null", "\"\"", "{}", "{\"keys\":{}}", "{\"keys\":null}"}) {
      assertSame(CausalMetadata.EMPTY, parse(empty), empty);
    }
    assertSame(CausalMetadata.EMPTY, CausalMetadata.fromJson(null));
    for (String bad : new String[] {"[1]", "{\"keys\":[1]}", "{\"keys\":{\"a\":[1]}}",
        "{\"keys\":{\"a\":[\"x\",\"n\"]}}", "{\"keys\":{\"a\":[0,\"n\"]}}"}) {
      assertThrows(IllegalArgumentException.class, () -> parse(bad), bad);
    }
  }

  @Test
  void jsonRoundTripsWithEscapedKeys() throws Exception {
    CausalMetadata m = meta("plain", 1, "n:1", "quo\"te\\", 2, "n:2", "ünï/çødé", 3, "n:3");
    assertEquals(m, parse(m.toJson()));
    assertEquals("{\"keys\":{}}", CausalMetadata.EMPTY.toJson());
  }

  @Test
  void versionOrderIsCounterThenNode() {
    assertTrue(new Version(2, "a").compareTo(new Version(1, "z")) > 0);
    assertTrue(new Version(1, "b").compareTo(new Version(1, "a")) > 0);
    assertEquals(0, new Version(1, "a").compareTo(new Version(1, "a")));
    assertEquals(new Version(3, "b"), Version.max(new Version(3, "a"), new Version(3, "b")));
  }

  @Test
  void mergeIsPerKeyMaximumCommutativeAssociativeIdempotent() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int round = 0; round < 500; round++) {
      CausalMetadata a = random(random);
      CausalMetadata b = random(random);
      CausalMetadata c = random(random);
      String why = "seed " + seed + " round " + round;
      assertEquals(a.merge(b), b.merge(a), why);
      assertEquals(a.merge(b).merge(c), a.merge(b.merge(c)), why);
      assertEquals(a, a.merge(a), why);
      Map<String, Version> model = new HashMap<>(a.keys());
      b.keys().forEach((k, v) -> model.merge(k, v, (x, y) -> x.compareTo(y) >= 0 ? x : y));
      assertEquals(model, a.merge(b).keys(), why);
    }
  }

  private static CausalMetadata random(Random random) {
    Map<String, Version> m = new HashMap<>();
    int n = random.nextInt(6);
    for (int i = 0; i < n; i++) {
      m.put("k" + random.nextInt(8),
          new Version(1 + random.nextInt(4), "n" + random.nextInt(3)));
    }
    return CausalMetadata.of(m);
  }

  @Test
  void entriesTheServerDroppedAsStableAreForgottenUnlessTheSessionMovedOn() {
    CausalMetadata current = meta("a", 5, "n", "b", 6, "n", "c", 9, "n");
    CausalMetadata sent = meta("a", 5, "n", "b", 4, "n", "c", 9, "n");
    // The server dropped a and b (stable) and c stayed; it taught us d.
    CausalMetadata received = meta("c", 9, "n", "d", 1, "n");
    CausalMetadata after = current.afterResponse(sent, received);
    assertNull(after.versionOf("a"), "a@5 was sent and dropped: stable");
    assertEquals(new Version(6, "n"), after.versionOf("b"), "b moved on to 6 after the send");
    assertEquals(new Version(9, "n"), after.versionOf("c"));
    assertEquals(new Version(1, "n"), after.versionOf("d"));
    // An answer that lowers nothing: per-key maximum.
    CausalMetadata older = meta("c", 3, "n");
    assertEquals(new Version(9, "n"),
        current.afterResponse(CausalMetadata.EMPTY, older).versionOf("c"));
  }

  @Test
  void concurrentResponsesIntoOneSessionLoseNothing() throws Exception {
    Session session = new Session();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        done.add(pool.submit(() -> {
          for (int i = 1; i <= 500; i++) {
            session.onResponse(CausalMetadata.EMPTY, meta("t" + thread + "-" + i, i, "n"));
            session.merge(meta("shared", thread * 1000 + i, "n"));
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(4 * 500 + 1, session.metadata().size());
    assertEquals(new Version(3500, "n"), session.metadata().versionOf("shared"));
  }

  private static CausalMetadata plain(String json, CausalMetadata sent) {
    byte[] b = ("  " + json + " ").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return CausalMetadata.readPlain(new ObjectMapper().getFactory(), b, 2, b.length - 3, sent);
  }

  @Test
  void readPlainGivesBackWhatWasSentInAnyOrderWithoutANewObject() throws Exception {
    CausalMetadata sent = CausalMetadata.of(Map.of("a", new Version(3, "n1"),
        "b", new Version(7, "n2"), "c", new Version(1, "n1")));
    assertSame(sent, plain("{\"keys\":{\"c\":[1,\"n1\"],\"a\":[3,\"n1\"],"
        + "\"b\":[7,\"n2\"]}}", sent));
    String changed = "{\"keys\":{\"c\":[1,\"n1\"],\"a\":[4,\"n1\"],\"b\":[7,\"n2\"]}}";
    CausalMetadata read = plain(changed, sent);
    assertEquals(CausalMetadata.fromJson(new ObjectMapper().readTree(changed)), read);
    assertEquals(new Version(4, "n1"), read.versionOf("a"));
    String fewer = "{\"keys\":{\"a\":[3,\"n1\"],\"b\":[7,\"n2\"]}}";
    assertEquals(CausalMetadata.fromJson(new ObjectMapper().readTree(fewer)), plain(fewer, sent));
    String more = "{\"keys\":{\"a\":[3,\"n1\"],\"b\":[7,\"n2\"],\"c\":[1,\"n1\"],"
        + "\"d\":[2,\"n3\"]}}";
    assertEquals(4, plain(more, sent).size());
    String twice = "{\"keys\":{\"a\":[3,\"n1\"],\"b\":[7,\"n2\"],\"c\":[1,\"n1\"],"
        + "\"a\":[9,\"n1\"]}}";
    assertEquals(CausalMetadata.fromJson(new ObjectMapper().readTree(twice)), plain(twice, sent));
  }

  @Test
  void readPlainLeavesEveryOtherFormToTheTreeReader() {
    CausalMetadata sent = CausalMetadata.of(Map.of("a", new Version(3, "n1")));
    for (String other : List.of("\"\"", "null", "{}", "{\"keys\":{}}", "{\"keys\":null}",
        "{\"keys\":{\"a\":[3,\"n1\"]},\"x\":1}", "{\"keys\":{\"a\":[\"3\",\"n1\"]}}",
        "{\"keys\":{\"a\":[3,\"n1\",4]}}", "{\"keys\":{\"a\":[3]}}", "[1]",
        "{\"keys\":{\"a\":[99999999999999999999,\"n1\"]}}", "{\"keys\":{\"a\":3}}")) {
      assertNull(plain(other, sent), other);
    }
  }
}
