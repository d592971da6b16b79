package ringkv.tests.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.causal.RecordingClient;
import ringkv.tests.support.Http;

/**
 * The chaos suite's clients: {@code clients} threads, each a {@link RecordingClient} session
 * with its own causal metadata, doing random operations back to back (45% GET, 40% PUT with a
 * unique value such as {@code "c2-117"}, 15% DELETE) on random keys through random nodes, until
 * stopped. A node that is down, frozen or cut off makes requests fail (no answer, 503, 400/500);
 * the clients record that and go on. Client i draws from {@code Random(seed * 31 + i)}.
 *
 * <p>Every operation lands in one shared history for the checkers. {@link #stop} may be called
 * from any thread.
 */
final class Workload implements AutoCloseable {
  /** A stopped client finishes its request in flight, which is bounded by the HTTP timeout. */
  private static final long STOP_TIMEOUT_MS = Http.REQUEST_TIMEOUT_MS + 5_000;

  private final ClusterBackend backend;
  private final long seed;
  private final int clients;
  private final List<String> keys;
  private final List<Op> history = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final ExecutorService pool;
  private final List<Future<?>> running = new ArrayList<>();

  Workload(ClusterBackend backend, long seed, int clients, List<String> keys) {
    this.backend = backend;
    this.seed = seed;
    this.clients = clients;
    this.keys = List.copyOf(keys);
    this.pool = Executors.newFixedThreadPool(clients, r -> {
      Thread t = new Thread(r, "chaos-client");
      t.setDaemon(true);
      return t;
    });
  }

  void start() {
    List<String> addresses = backend.addresses();
    RecordingClient.Transport transport = (node, method, path, body) ->
        backend.send(addresses.indexOf(node), method, path, body);
    for (int c = 0; c < clients; c++) {
      RecordingClient client = new RecordingClient("c" + c, history, backend.dialect(),
          transport);
      Random random = new Random(seed * 31 + c);
      running.add(pool.submit(() -> {
        while (!stopped.get()) {
          randomOp(client, random, addresses);
        }
        return null;
      }));
    }
  }

  private void randomOp(RecordingClient client, Random random, List<String> addresses) {
    String node = addresses.get(random.nextInt(addresses.size()));
    String key = keys.get(random.nextInt(keys.size()));
    client.randomOp(node, key, random);
  }

  /** Stops the clients and waits until each has finished its request in flight. */
  void stop() throws InterruptedException, ExecutionException, TimeoutException {
    stopped.set(true);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MS);
    for (Future<?> f : running) {
      f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  /** The whole history (call after {@link #stop}). */
  List<Op> history() {
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  @Override
  public void close() {
    stopped.set(true);
    pool.shutdownNow();
  }
}
