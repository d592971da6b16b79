package ringkv.node.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Version;

/*
 * Goal: the cache of contexts read from clients' texts answers only for the exact bytes it was
 * given, wherever they lie in a body, keeps the highest counter for the clock check, and forgets
 * an entry when another text takes its slot; texts too long are not kept.
 * Method: table cases on one cache.
 */
class ContextCacheTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void findsOnlyTheExactBytesWhereverTheyLie() {
    ContextCache cache = new ContextCache();
    CausalContext ctx = CausalContext.of(Map.of("a", new Version(12, "n:1"),
        "b", new Version(30, "n:2")));
    byte[] text = ContextJson.bytes(ctx);
    ContextCache.Entry kept = cache.keep(text, ctx);
    assertEquals(30, kept.maxCounter());
    byte[] body = utf8("{\"causal-metadata\":" + new String(text, StandardCharsets.UTF_8) + "}");
    ContextCache.Entry found = cache.find(body, 19, body.length - 1);
    assertSame(ctx, found.context());
    assertSame(text, found.text());
    assertNull(cache.find(body, 19, body.length - 2), "a shorter range");
    byte[] changed = body.clone();
    changed[body.length - 8] ^= 1;
    assertNull(cache.find(changed, 19, body.length - 1), "one byte changed");
    assertNull(cache.find(body, 19, 19), "nothing");
  }

  @Test
  void aTextTakesItsSlotFromWhateverHeldItAndLongTextsAreNotKept() {
    ContextCache cache = new ContextCache();
    int evicted = 0;
    byte[] first = utf8("{\"keys\":{\"k0\":[1,\"n\"]}}");
    cache.keep(first, CausalContext.EMPTY);
    for (int i = 1; i <= 4 * ContextCache.SLOTS; i++) {
      cache.keep(utf8("{\"keys\":{\"k" + i + "\":[1,\"n\"]}}"), CausalContext.EMPTY);
      if (cache.find(first, 0, first.length) == null) {
        evicted = i;
        break;
      }
    }
    assertEquals(true, evicted > 0, "a table of " + ContextCache.SLOTS + " slots is bounded");
    byte[] longText = new byte[ContextCache.TEXT_BYTES_MAX + 1];
    cache.keep(longText, CausalContext.EMPTY);
    assertNull(cache.find(longText, 0, longText.length));
  }
}
