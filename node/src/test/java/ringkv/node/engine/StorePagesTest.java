package ringkv.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.gossip.MemoryStore;
import ringkv.gossip.Version;

/**
 * A paged scan lets the event loop serve what waits between two pages ({@link Turns}). With
 * pages that queued each other ({@code runOnContext}), Netty ran the whole chain before it
 * looked at the network or at timers again (up to a second per go): a timer due during the scan
 * fired only after its last page.
 */
class StorePagesTest {
  private static final int PAGES = 50;
  private static final int PAGE_ENTRIES = 16;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aTimerDueDuringAScanFiresBeforeItsLastPage() throws Exception {
    MemoryStore store = new MemoryStore();
    for (int i = 0; i < PAGES * PAGE_ENTRIES; i++) {
      store.put(Entry.value(String.format("k%05d", i), "1", new Version(1, "n"),
          CausalContext.EMPTY));
    }
    AtomicInteger visited = new AtomicInteger();
    CompletableFuture<Integer> timerFiredAfter = new CompletableFuture<>();
    CompletableFuture<Integer> scanned = new CompletableFuture<>();
    vertx.runOnContext(v -> {
      vertx.setTimer(5, id -> timerFiredAfter.complete(visited.get()));
      StorePages.scan(vertx, store, PAGE_ENTRIES, e -> {
        if (visited.getAndIncrement() % PAGE_ENTRIES == 0) {
          sleepMs(2); // a page's work: 50 pages take 100 ms at least
        }
      }).onComplete(ar -> scanned.complete(visited.get()));
    });
    assertEquals(PAGES * PAGE_ENTRIES, scanned.get(10, TimeUnit.SECONDS), "every entry visited");
    int entriesBefore = timerFiredAfter.get(10, TimeUnit.SECONDS);
    assertTrue(entriesBefore < PAGES * PAGE_ENTRIES / 2,
        "the timer due after 5 ms fired after " + entriesBefore + " of "
            + PAGES * PAGE_ENTRIES + " entries: the scan held the event loop");
  }

  private static void sleepMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
