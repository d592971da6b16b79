package ringkv.tools.launch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;

/**
 * {@link NodeLauncher}'s one definition of ready: every node started together answers
 * {@code GET /health/ready} with 200 and all report the same {@code epoch}; a node that exits
 * while awaited, or the start timeout, fails the wait with the tail of the node's log.
 */
final class Readiness {
  static final long POLL_MS = 100;
  /**
   * Bounds of one readiness request. Generous: a node starting on a loaded machine may hold
   * its event loop for seconds (14 s was seen), and an answer it gives late still counts.
   */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String scheme;
  private final HttpClient http;
  private final Duration startTimeout;

  /** Plain HTTP when {@code tls} is null, else HTTPS trusting it. */
  Readiness(SSLContext tls, Duration startTimeout) {
    this.scheme = tls == null ? "http" : "https";
    HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT);
    if (tls != null) {
      http.sslContext(tls);
    }
    this.http = http.build();
    this.startTimeout = startTimeout;
  }

  /**
   * The readiness rule: waits until every node of {@code indexes} answers {@code GET
   * /health/ready} with 200 and all report the same epoch. Throws {@link LaunchException},
   * naming each node that exited or was not ready in time with the tail of its log, if one
   * exits or the start timeout passes.
   */
  void await(Collection<Integer> indexes, IntFunction<NodeLauncher.NodeSpec> specs,
      IntFunction<Process> processes, IntFunction<String> tails) {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    Map<Integer, Long> epochs = new TreeMap<>();
    while (true) {
      List<Integer> exited = new ArrayList<>();
      for (int i : indexes) {
        Process p = processes.apply(i);
        if (p == null || !p.isAlive()) {
          exited.add(i);
        } else if (!epochs.containsKey(i)) { // a ready node is asked again only at the end
          readyEpoch(specs.apply(i).dial()).ifPresent(epoch -> epochs.put(i, epoch));
        }
      }
      if (!exited.isEmpty()) {
        throw failure(indexes, exited, epochs, specs, processes, tails);
      }
      if (epochs.size() == indexes.size() && sameEpochNow(epochs, indexes.size(), specs)) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw failure(indexes, List.of(), epochs, specs, processes, tails);
      }
      sleep(POLL_MS);
    }
  }

  /**
   * Whether all {@code expected} nodes of {@code epochs} still answer ready, with one epoch
   * for all; the answers replace {@code epochs} (a node no longer ready leaves it, to be
   * waited for again).
   */
  private boolean sameEpochNow(Map<Integer, Long> epochs, int expected,
      IntFunction<NodeLauncher.NodeSpec> specs) {
    for (int i : List.copyOf(epochs.keySet())) {
      OptionalLong epoch = readyEpoch(specs.apply(i).dial());
      if (epoch.isPresent()) {
        epochs.put(i, epoch.getAsLong());
      } else {
        epochs.remove(i);
      }
    }
    return epochs.size() == expected && Set.copyOf(epochs.values()).size() <= 1;
  }

  /** The epoch node {@code dial} reports when it answers GET /health/ready with 200. */
  OptionalLong readyEpoch(String dial) {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create(scheme + "://" + dial + NodeLauncher.READY_PATH))
        .timeout(REQUEST_TIMEOUT).GET().build();
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return OptionalLong.empty();
      }
      JsonNode epoch = MAPPER.readTree(r.body()).path("epoch");
      return epoch.canConvertToLong() ? OptionalLong.of(epoch.asLong()) : OptionalLong.empty();
    } catch (IOException e) {
      return OptionalLong.empty(); // not listening yet, or an answer cut short
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LaunchException("interrupted while waiting for the nodes", e);
    }
  }

  private LaunchException failure(Collection<Integer> indexes, List<Integer> exited,
      Map<Integer, Long> epochs, IntFunction<NodeLauncher.NodeSpec> specs,
      IntFunction<Process> processes, IntFunction<String> tails) {
    List<String> reasons = new ArrayList<>();
    List<Integer> failed = new ArrayList<>();
    for (int i : indexes) {
      Process p = processes.apply(i);
      if (exited.contains(i)) {
        reasons.add(specs.apply(i).address() + ": exited" + (p == null ? ""
            : " with code " + p.exitValue()));
        failed.add(i);
      } else if (exited.isEmpty() && !epochs.containsKey(i)) {
        reasons.add(specs.apply(i).address() + ": not ready (GET " + NodeLauncher.READY_PATH
            + ") within "
            + startTimeout);
        failed.add(i);
      }
    }
    if (reasons.isEmpty()) {
      reasons.add("the nodes report different epochs " + epochs + " after " + startTimeout);
    }
    StringBuilder message = new StringBuilder("nodes failed to start: " + reasons);
    for (int i : failed) {
      message.append("\n--- tail of ").append(specs.apply(i).log()).append('\n')
          .append(tails.apply(i));
    }
    return new LaunchException(message.toString(), null);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LaunchException("interrupted while waiting for the nodes", e);
    }
  }
}
