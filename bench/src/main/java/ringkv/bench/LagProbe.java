package ringkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.HdrHistogram.Histogram;
import ringkv.client.RingSnapshot;

/**
 * Measures replication lag end to end while the measured phase runs ({@code --lag}).
 *
 * <p>Every {@code intervalMs} it probes the next shard of the ring (round robin over the shards
 * of the client's {@link RingSnapshot}): it PUTs a fresh value to that shard's probe key on one
 * live member directly (the writer rotates over the members), notes when the 2xx answer
 * arrived, then polls every other live member of the shard directly with
 * {@code GET /key-value-store/<key>} and no causal metadata (a member serves its own shard's
 * keys from its own store), one request per member at a time with {@link #POLL_GAP_MS} between
 * rounds, until each returns the new value. A member's lag is the time from the PUT's answer to
 * the arrival of the first answer that shows the value: an upper bound, coarser by about one
 * poll round trip plus the gap. A member that has not shown it within the probe timeout
 * ({@link #PROBE_TIMEOUT_MS} by default) is a failure, and so is a PUT that fails; failures
 * are counted by reason, not put in the histogram. A probe that is still running when the
 * next one is due delays it (the tick is counted as skipped), so probes never overlap.
 *
 * <p>Probe keys are {@code lagprobe-<shard>-<n>}, which no workload touches (workload keys are
 * {@code user<n>}). The probe has its own {@link HttpClient} and no session, so it shares
 * nothing with the workload but the machine and the cluster.
 *
 * <p>Runs on its own thread between {@link #open} and {@link #close}; {@link #result} after
 * {@link #close}. The counters the progress line reads are atomic.
 */
final class LagProbe implements LoadRunner.MeasureWindow {
  /** Prefix of probe keys; workload keys are {@code user<n>}. */
  static final String KEY_PREFIX = "lagprobe-";
  /** A member that has not shown the probe's value by then counts as a failure (default). */
  static final long PROBE_TIMEOUT_MS = 5_000;
  /** Pause between two poll rounds of one probe. */
  static final long POLL_GAP_MS = 1;
  static final long CONNECT_TIMEOUT_MS = 1_000;
  static final long REQUEST_TIMEOUT_MS = 2_000;
  /** Probe keys tried per shard before giving up (each hits the shard with p = 1/shards). */
  private static final int KEY_CANDIDATES_MAX = 1_000_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What the probe measured: lags in microseconds (upper bounds), probes started, failures by
   * reason, ticks skipped because a probe was still running, polls sent and polls that failed
   * (transport or unexpected status; the probe keeps polling after them), and the samples whose
   * first poll already showed the value (their lag is below the probe's resolution, one poll
   * round trip).
   */
  record Result(long intervalMs, long probes, Histogram lagMicros, Map<String, Long> failures,
      long skippedTicks, long polls, long pollErrors, long firstPollSamples) {
    long failureCount() {
      return failures.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** One poll's answer (or failure) and when it arrived. */
  private record Poll(long arrivedNanos, int status, String body, Throwable failure) {}

  private final Supplier<RingSnapshot> ring;
  private final long intervalMs;
  private final long timeoutMs;
  private final HttpClient http;
  private final Access access;
  private final Histogram lag = new Histogram(3);
  private final Map<String, Long> failures = new TreeMap<>();
  private final Map<Integer, String> keys = new HashMap<>();
  private final Map<Integer, Long> writes = new HashMap<>();
  private final AtomicLong samples = new AtomicLong();
  private final AtomicLong failureCount = new AtomicLong();
  private final AtomicLong lagMicrosMax = new AtomicLong();
  private long keysEpoch = Long.MIN_VALUE;
  private long probes;
  private long skippedTicks;
  private long polls;
  private long pollErrors;
  private long firstPollSamples;
  private long sequence;
  private volatile boolean stopped;
  private Thread thread;

  /**
   * How the probe reaches a secured cluster: HTTPS trusting {@code ssl} (null: plain HTTP) and
   * the bearer token of {@code CLIENT_TOKEN} (null: none), as the bench's client does.
   */
  record Access(SSLContext ssl, String token) {
    static final Access PLAIN = new Access(null, null);
  }

  /**
   * @param ring the ring to probe (read before every probe, so it follows view changes)
   * @param intervalMs time between the starts of two probes
   */
  LagProbe(Supplier<RingSnapshot> ring, long intervalMs, Access access) {
    this(ring, intervalMs, PROBE_TIMEOUT_MS, access);
  }

  /** As above; a member that has not shown a probe's value after {@code timeoutMs} fails. */
  LagProbe(Supplier<RingSnapshot> ring, long intervalMs, long timeoutMs, Access access) {
    if (intervalMs < 1 || timeoutMs < 1) {
      throw new IllegalArgumentException("lag interval and timeout must be >= 1 ms, got "
          + intervalMs + " and " + timeoutMs);
    }
    this.ring = ring;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.access = access;
    HttpClient.Builder http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS));
    if (access.ssl() != null) {
      http.sslContext(access.ssl());
    }
    this.http = http.build();
  }

  @Override
  public void open() {
    if (thread != null) {
      throw new IllegalStateException("lag probe already opened");
    }
    thread = new Thread(this::probeLoop, "bench-lag-probe");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops probing (a probe in progress is abandoned, neither sample nor failure). */
  @Override
  public void close() {
    stopped = true;
    if (thread == null) {
      return;
    }
    LockSupport.unpark(thread);
    try {
      thread.join(timeoutMs + 2 * REQUEST_TIMEOUT_MS);
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the lag probe", e);
    }
  }

  @Override
  public String progress() {
    return String.format(Locale.ROOT, "lag samples %d, max %.1f ms, failures %d",
        samples.get(), lagMicrosMax.get() / 1000.0, failureCount.get());
  }

  /** The measurement; call after {@link #close}. */
  Result result() {
    if (thread == null || thread.isAlive()) {
      throw new IllegalStateException("lag probe not run or still running");
    }
    return new Result(intervalMs, probes, lag.copy(), Map.copyOf(failures), skippedTicks, polls,
        pollErrors, firstPollSamples);
  }

  private void probeLoop() {
    long intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
    long start = System.nanoTime();
    long tick = 0;
    long cursor = 0;
    while (parkUntil(start + tick * intervalNanos)) {
      probe(cursor++);
      long elapsed = System.nanoTime() - start;
      long next = Math.max(tick + 1, (elapsed + intervalNanos - 1) / intervalNanos);
      skippedTicks += next - tick - 1;
      tick = next;
    }
  }

  /** Parks until {@code dueNanos}; false when stopped. */
  private boolean parkUntil(long dueNanos) {
    while (!stopped) {
      long wait = dueNanos - System.nanoTime();
      if (wait <= 0) {
        return true;
      }
      LockSupport.parkNanos(this, wait);
    }
    return false;
  }

  /** Probes the {@code cursor}-th shard (round robin). */
  private void probe(long cursor) {
    RingSnapshot snapshot;
    try {
      snapshot = ring.get();
    } catch (RuntimeException e) {
      fail("no ring: " + e.getClass().getSimpleName());
      return;
    }
    List<Integer> shards = List.copyOf(snapshot.ring().shardIds());
    int shard = shards.get((int) (cursor % shards.size()));
    List<String> live = snapshot.liveMembersOf(shard);
    if (live.size() < 2) {
      fail("shard with fewer than 2 live members");
      return;
    }
    probes++;
    long write = writes.merge(shard, 1L, Long::sum) - 1;
    String writer = live.get((int) (write % live.size()));
    List<String> peers = new ArrayList<>(live);
    peers.remove(writer);
    String key = keyOf(snapshot, shard);
    String value = "lagprobe " + (++sequence) + " " + System.nanoTime();
    long answeredNanos = put(writer, key, value);
    if (answeredNanos != Long.MIN_VALUE) {
      pollUntilSeen(peers, key, value, answeredNanos);
    }
  }

  /** The probe key of {@code shard} in this ring (the first candidate the shard owns). */
  String keyOf(RingSnapshot snapshot, int shard) {
    if (snapshot.epoch() != keysEpoch) {
      keys.clear();
      keysEpoch = snapshot.epoch();
    }
    return keys.computeIfAbsent(shard, s -> probeKey(snapshot, s));
  }

  /** The first {@code lagprobe-<shard>-<n>} that {@code shard} owns. */
  static String probeKey(RingSnapshot snapshot, int shard) {
    for (int n = 0; n < KEY_CANDIDATES_MAX; n++) {
      String key = KEY_PREFIX + shard + "-" + n;
      if (snapshot.shardOf(key) == shard) {
        return key;
      }
    }
    throw new IllegalStateException("no probe key found for shard " + shard);
  }

  private HttpRequest.Builder request(String node, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create((access.ssl() == null ? "http://"
        : "https://") + node + "/key-value-store/" + key))
        .timeout(Duration.ofMillis(REQUEST_TIMEOUT_MS));
    return access.token() == null ? b : b.header("Authorization", "Bearer " + access.token());
  }

  /** PUTs the value on the writer; the time its 2xx answer arrived, or MIN_VALUE (failed). */
  private long put(String writer, String key, String value) {
    String body = "{\"value\":" + JSON.valueToTree(value) + ",\"causal-metadata\":\"\"}";
    HttpRequest request = request(writer, key)
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body))
        .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      long answered = System.nanoTime();
      if (response.statusCode() / 100 != 2) {
        fail("put answered " + response.statusCode());
        return Long.MIN_VALUE;
      }
      return answered;
    } catch (IOException e) {
      fail("put failed: " + e.getClass().getSimpleName());
      return Long.MIN_VALUE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = true;
      return Long.MIN_VALUE;
    }
  }

  /** Polls the peers (each once per round, in parallel) until each shows the value. */
  private void pollUntilSeen(List<String> peers, String key, String value, long answeredNanos) {
    long deadline = answeredNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    List<String> waiting = new ArrayList<>(peers);
    boolean first = true;
    while (!waiting.isEmpty()) {
      if (stopped) {
        return;
      }
      Map<String, CompletableFuture<Poll>> round = new LinkedHashMap<>();
      for (String peer : waiting) {
        round.put(peer, poll(peer, key));
      }
      for (Map.Entry<String, CompletableFuture<Poll>> e : round.entrySet()) {
        Poll poll = e.getValue().join();
        polls++;
        if (shows(poll, value)) {
          record(poll.arrivedNanos() - answeredNanos);
          firstPollSamples += first ? 1 : 0;
          waiting.remove(e.getKey());
        }
      }
      first = false;
      if (!waiting.isEmpty() && System.nanoTime() - deadline > 0) {
        waiting.forEach(p -> fail("not seen within " + timeoutMs + " ms"));
        return;
      }
      if (!waiting.isEmpty()) {
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(POLL_GAP_MS));
      }
    }
  }

  private CompletableFuture<Poll> poll(String peer, String key) {
    HttpRequest request = request(peer, key)
        .GET()
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle((r, e) -> new Poll(System.nanoTime(), r == null ? 0 : r.statusCode(),
            r == null ? null : r.body(), e));
  }

  /** Whether the poll's answer shows the value; counts polls that failed. */
  private boolean shows(Poll poll, String value) {
    if (poll.failure() != null || (poll.status() != 200 && poll.status() != 404)) {
      pollErrors++;
      return false;
    }
    if (poll.status() != 200) {
      return false; // the first probe of a key: not there yet
    }
    try {
      JsonNode seen = JSON.readTree(poll.body()).path("value");
      return seen.isTextual() && seen.asText().equals(value);
    } catch (IOException e) {
      pollErrors++;
      return false;
    }
  }

  private void record(long lagNanos) {
    long micros = Math.max(1, lagNanos / 1_000);
    lag.recordValue(micros);
    samples.incrementAndGet();
    lagMicrosMax.accumulateAndGet(micros, Math::max);
  }

  private void fail(String reason) {
    failures.merge(reason, 1L, Long::sum);
    failureCount.incrementAndGet();
  }
}
