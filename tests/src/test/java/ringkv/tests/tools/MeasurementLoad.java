package ringkv.tests.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import ringkv.client.RingKvClient;
import ringkv.client.Session;

/** The load the measurements start from: many small keys written through the shard dialect. */
final class MeasurementLoad {
  private MeasurementLoad() {}

  /**
   * Writes keys {@code k0..k<keys-1>} (about 60 bytes each), {@code inFlight} at a time, spread
   * over {@code nodes} in turn; fails unless every write answered 201.
   */
  static void load(List<String> nodes, int keys, int inFlight) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    Semaphore permits = new Semaphore(inFlight);
    AtomicInteger failed = new AtomicInteger();
    CompletableFuture<?>[] all = new CompletableFuture<?>[keys];
    for (int i = 0; i < keys; i++) {
      permits.acquire();
      String body = "{\"value\":\"value-" + i + "-0123456789012345678901234567890123456789\"}";
      HttpRequest req = HttpRequest.newBuilder(
              URI.create("http://" + nodes.get(i % nodes.size()) + "/key-value-store/k" + i))
          .timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
      all[i] = client.sendAsync(req, HttpResponse.BodyHandlers.discarding())
          .whenComplete((resp, err) -> {
            permits.release();
            if (err != null || resp.statusCode() != 201) {
              failed.incrementAndGet();
            }
          });
    }
    CompletableFuture.allOf(all).exceptionally(e -> null).get(10, TimeUnit.MINUTES);
    assertEquals(0, failed.get(), "writes that failed while loading");
  }

  /**
   * Writes the same keys and values as {@link #load} through the client library (smart routed:
   * each key to a member of its shard, no forwarding), {@code inFlight} at a time: several times
   * the rate of the JDK client, for the measurements that load a million keys.
   */
  static void loadThroughClient(String seed, int keys, int inFlight) throws Exception {
    try (RingKvClient client = RingKvClient.connect(seed)) {
      Semaphore permits = new Semaphore(inFlight);
      AtomicInteger failed = new AtomicInteger();
      CompletableFuture<?>[] all = new CompletableFuture<?>[keys];
      for (int i = 0; i < keys; i++) {
        permits.acquire();
        all[i] = client.putJson(new Session(), "k" + i,
                "\"value-" + i + "-0123456789012345678901234567890123456789\"")
            .whenComplete((put, err) -> {
              permits.release();
              if (err != null) {
                failed.incrementAndGet();
              }
            });
      }
      CompletableFuture.allOf(all).exceptionally(e -> null).get(30, TimeUnit.MINUTES);
      assertEquals(0, failed.get(), "writes that failed while loading");
    }
  }
}
