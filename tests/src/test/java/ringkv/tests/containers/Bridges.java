package ringkv.tests.containers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import ringkv.tests.support.Commands;
import ringkv.tests.support.ContainerEngine;
import ringkv.tests.support.Http;
import ringkv.tests.support.Netns;
import ringkv.tests.support.UnixHttp;

/**
 * Ways in to nodes that containers started by something else (docker-compose, {@code ./kvs
 * docker}) run in a network namespace the test JVM cannot open TCP connections in: one
 * {@code socat} per node inside the namespace relays a Unix socket in {@code dir} to the node's
 * address (see {@link ContainerEngine#bridge}), and {@link UnixHttp} speaks HTTP over it.
 * {@link #close()} stops the bridges. Requests may come from any thread.
 */
final class Bridges implements AutoCloseable {
  /** How long {@link #sendAnswered} tries to get an answer. */
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(60);
  private final List<String> addresses;
  private final List<Path> sockets = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  /** Bridges into the shared engine's namespace. */
  Bridges(ContainerEngine engine, Path dir, List<String> addresses) {
    this(dir, addresses, (socket, address, log) -> engine.bridge(socket, address, log));
  }

  /** Bridges into network namespace {@code namespace} ({@code /var/run/netns/<name>}). */
  Bridges(String namespace, Path dir, List<String> addresses) {
    this(dir, addresses, (socket, address, log) ->
        ContainerEngine.bridge(namespace, socket, address, log));
  }

  private interface Starter {
    Process start(Path socket, String address, Path log);
  }

  private Bridges(Path dir, List<String> addresses, Starter starter) {
    this.addresses = List.copyOf(addresses);
    Commands.closeOnFailure(this::close, () -> {
      Files.createDirectories(dir);
      for (int i = 0; i < addresses.size(); i++) {
        Path socket = dir.resolve("node" + (i + 1) + ".sock");
        sockets.add(socket);
        processes.add(starter.start(socket, addresses.get(i),
            dir.resolve("bridge-" + (i + 1) + ".log")));
      }
    });
  }

  int size() {
    return addresses.size();
  }

  String address(int i) {
    return addresses.get(i);
  }

  /** Sends a request to node i; {@code rawBody} null means no body. */
  Http.Reply send(int i, String method, String path, String rawBody) {
    return UnixHttp.send(sockets.get(i), addresses.get(i), method, path, rawBody);
  }

  Http.Reply get(int i, String path) {
    return send(i, "GET", path, null);
  }

  /**
   * Sends an idempotent request (a read) to node i, again while no answer comes, for up to
   * {@link #ANSWER_WITHIN}: a node that has just started on a loaded machine may miss a
   * deadline. The first answer is returned whatever it says, so the caller still checks its
   * status and body; only the transport failures are retried.
   */
  Http.Reply sendAnswered(int i, String method, String path, String rawBody) {
    AtomicReference<Http.Reply> reply = new AtomicReference<>();
    Awaitility.await(method + " " + path + " answered by " + addresses.get(i))
        .atMost(ANSWER_WITHIN).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
        .ignoreExceptionsInstanceOf(AssertionError.class)
        .until(() -> {
          reply.set(send(i, method, path, rawBody));
          return true;
        });
    return reply.get();
  }

  /** Waits until every node answers {@code GET /health/ready} with 200. */
  void awaitReady(Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    for (int i = 0; i < size(); i++) {
      awaitReady(i, Duration.between(Instant.now(), deadline));
    }
  }

  /** Waits until node i answers {@code GET /health/ready} with 200. */
  void awaitReady(int i, Duration timeout) {
    Awaitility.await(addresses.get(i) + " ready")
        .atMost(timeout.isNegative() ? Duration.ofMillis(1) : timeout)
        .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> Netns.ready(sockets.get(i), addresses.get(i),
            Duration.ofMillis(Http.REQUEST_TIMEOUT_MS)));
  }

  @Override
  public void close() {
    processes.forEach(Process::destroyForcibly);
  }
}
