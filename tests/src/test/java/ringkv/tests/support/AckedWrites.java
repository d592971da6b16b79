package ringkv.tests.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Two writer threads that keep writing while a test kills and restarts nodes: writer w PUTs
 * {@code {"value": n}} to key {@code <prefix><w>-<n % keys>} through node {@code (n + w) % nodes},
 * for n = 0, 1, ..., and remembers the value each key was last acknowledged with (200 or 201).
 * A request that fails (its node is down, killed on purpose) is not acknowledged; the writer
 * goes on with the next node.
 */
public final class AckedWrites {
  /** Sends one PUT of {@code body} to {@code path} on node {@code node}. */
  public interface Put {
    Http.Reply send(int node, String path, String body);
  }

  private static final int WRITERS = 2;

  private final ConcurrentMap<String, Integer> acked = new ConcurrentHashMap<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final ExecutorService writers = Executors.newFixedThreadPool(WRITERS);

  private AckedWrites() {}

  /** Starts the writers; keys are {@code store + prefix + writer + "-" + (n % keys)}. */
  public static AckedWrites start(String store, String prefix, int keys, int nodes, Put put) {
    AckedWrites w = new AckedWrites();
    for (int i = 0; i < WRITERS; i++) {
      int writer = i;
      w.writers.submit(() -> {
        for (int n = 0; !w.stop.get(); n++) {
          String key = prefix + writer + "-" + (n % keys);
          try {
            Http.Reply r = put.send((n + writer) % nodes, store + key, "{\"value\":" + n + "}");
            if (r.status() == 200 || r.status() == 201) {
              w.acked.put(key, n);
            }
          } catch (AssertionError refused) {
            // the node is down (killed on purpose): not acknowledged, try the next one
          }
        }
        return null;
      });
    }
    return w;
  }

  /** Waits (at most {@code timeout}) until {@code count} keys have been acknowledged. */
  public void awaitAcked(int count, Duration timeout) {
    await().atMost(timeout).until(() -> acked.size() >= count);
  }

  /** Keys acknowledged so far. */
  public int count() {
    return acked.size();
  }

  /** Stops the writers, waiting for them (30 s at most); then each key's acknowledged value. */
  public Map<String, Integer> stop() throws InterruptedException {
    stop.set(true);
    writers.shutdown();
    assertTrue(writers.awaitTermination(30, TimeUnit.SECONDS));
    return acked;
  }
}
