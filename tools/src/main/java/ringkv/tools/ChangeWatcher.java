package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a request that makes a view change (it answers when the change is over) and, while it
 * runs, polls {@code GET /admin/view-change} on the same node — the change's coordinator — to
 * print a progress line whenever the figures move: phase, key copies done of the total, rate and
 * time left.
 */
final class ChangeWatcher {
  static final long POLL_INTERVAL_MS = 250;
  static final Duration POLL_TIMEOUT = Duration.ofSeconds(2);

  private ChangeWatcher() {}

  /** Sends {@code change} to {@code node}, waits at most {@code wait}, and returns its reply. */
  static Reply run(NodeClient client, String node, NodeClient.Request change, Duration wait,
      Output out) {
    CompletableFuture<Reply> reply = client.sendAsync(node, change.withTimeout(wait));
    String last = null;
    while (true) {
      try {
        return reply.get(POLL_INTERVAL_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        String now = poll(client, node).orElse(null);
        if (now != null && !now.equals(last)) {
          out.progress(now);
          last = now;
        }
      } catch (ExecutionException e) {
        throw e.getCause() instanceof CliException c ? c
            : new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException(ExitCode.UNAVAILABLE, "interrupted while the change ran; "
            + "it may still be running (./kvs abort stops it)");
      }
    }
  }

  private static Optional<String> poll(NodeClient client, String node) {
    try {
      Reply r = client.send(node,
          NodeClient.Request.get("/admin/view-change").withTimeout(POLL_TIMEOUT));
      return r.ok() ? describe(r.json()) : Optional.empty();
    } catch (CliException e) {
      return Optional.empty(); // progress is for people; the change's own answer decides
    }
  }

  /**
   * The progress line for a {@code GET /admin/view-change} answer, or empty when the node
   * coordinates no change.
   */
  static Optional<String> describe(JsonNode status) {
    String phase = status.path("status").asText("idle");
    if (phase.equals("idle")) {
      return Optional.empty();
    }
    JsonNode p = status.path("progress");
    long total = p.path("keys-total").asLong();
    long done = p.path("keys-done").asLong();
    StringBuilder b = new StringBuilder();
    b.append(phase).append(" (epoch ").append(status.path("epoch").asLong()).append("): ");
    if (total == 0) {
      return Optional.of(b.append(phase.equals("copying") ? "finding the keys to copy"
          : "no key to copy").toString());
    }
    b.append(done).append('/').append(total).append(" key copies");
    b.append(String.format(Locale.ROOT, " (%.0f%%)", 100.0 * done / total));
    if (!phase.equals("copying")) {
      return Optional.of(b.append(", the copy is over").toString());
    }
    b.append(", ").append(p.path("keys-per-second").asLong()).append(" keys/s");
    JsonNode eta = p.path("eta-ms");
    b.append(", ETA ").append(eta.isNumber() ? seconds(eta.asLong()) : "unknown");
    return Optional.of(b.toString());
  }

  static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }
}
