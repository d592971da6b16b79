package ringkv.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import ringkv.tools.launch.LaunchException;
import ringkv.tools.launch.NodeLauncher;

/**
 * {@code ./kvs up}: a local cluster in the foreground, started by {@link NodeLauncher} (the
 * launcher the bench and the tests use too, with its one readiness rule). Prints each node's
 * address and shard ({@code ./kvs status}), a {@code ready} line with example requests, then
 * serves until every node has exited; Ctrl-C (or SIGTERM) stops every node.
 *
 * <p>The nodes inherit this process's environment (LOG_LEVEL, ADMIN_TOKEN, TLS_CERT, ...) and
 * authenticate each other with CLUSTER_SECRET: the environment's ({@code CLUSTER_SECRET}, else
 * the file {@code CLUSTER_SECRET_FILE} names), else a new random one, never printed.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start a local cluster in the foreground; Ctrl-C stops every node. Other "
        + "variables in the environment (LOG_LEVEL, VNODES_PER_SHARD, ADMIN_TOKEN, TLS_CERT, "
        + "...) reach the nodes unchanged; with TLS_CERT the nodes are checked over HTTPS "
        + "against TLS_CA (or KVS_CA). JVM flags of the nodes: KVS_JVM_FLAGS (default \""
        + UpCommand.DEFAULT_JVM_FLAGS + "\").")
final class UpCommand implements Callable<Integer> {
  /** Small heap, serial GC, C1 only: six node JVMs start fast on a small machine. */
  static final String DEFAULT_JVM_FLAGS = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  static final Duration STOP_GRACE = Duration.ofSeconds(5);
  static final int SECRET_BYTES = 32;
  private static final long WATCH_MS = 500;

  @Spec
  private CommandSpec spec;

  @Option(names = "--nodes", paramLabel = "N", defaultValue = "6",
      description = "Number of nodes (default ${DEFAULT-VALUE}).")
  private int nodes;

  @Option(names = "--shards", paramLabel = "N|none", defaultValue = "2",
      description = "SHARD_COUNT of every node (default ${DEFAULT-VALUE}); none omits it, "
          + "which makes the whole cluster one shard.")
  private String shards;

  @Option(names = "--base-port", paramLabel = "P", defaultValue = Connection.DEFAULT_PORT,
      description = "First port; nodes use P..P+N-1 (default ${DEFAULT-VALUE}).")
  private int basePort;

  @Option(names = "--host", paramLabel = "H", defaultValue = Connection.DEFAULT_HOST,
      description = "Address the nodes listen on (default ${DEFAULT-VALUE}).")
  private String host;

  @Option(names = "--data", paramLabel = "DIR",
      description = "Give node <port> DATA_DIR=DIR/node-<port> (default: in memory).")
  private Path data;

  @Option(names = "--jar", paramLabel = "FILE", defaultValue = "node/target/kvs-node.jar",
      description = "The node jar (default ${DEFAULT-VALUE}).")
  private Path jar;

  @Option(names = "--logs", paramLabel = "DIR", defaultValue = "logs",
      description = "Where node <port> logs, as node-<port>.log (default ${DEFAULT-VALUE}).")
  private Path logs;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Map<String, String> env = ((Kvs) spec.root().userObject()).env();
    Integer shardCount = validate();
    PrintWriter out = spec.commandLine().getOut();
    SSLContext tls = null;
    String scheme = "http";
    String ca = null;
    if (env.get("TLS_CERT") != null && !env.get("TLS_CERT").isEmpty()) {
      ca = firstSet(env.get("TLS_CA"), env.get("KVS_CA"));
      if (ca == null) {
        throw new CliException(ExitCode.USAGE, "TLS_CERT is set: give TLS_CA (or KVS_CA) too");
      }
      tls = Tls.trusting(Path.of(ca));
      scheme = "https";
    }
    List<Integer> ports = new ArrayList<>();
    for (int port = basePort; port < basePort + nodes; port++) {
      if (inUse(host, port)) {
        throw new CliException(ExitCode.USAGE, host + ":" + port + " is already in use");
      }
      ports.add(port);
    }
    Map<String, String> nodeEnv = new LinkedHashMap<>();
    nodeEnv.put("CLUSTER_SECRET", clusterSecret(env, out));
    String flags = firstSet(env.get("KVS_JVM_FLAGS"), DEFAULT_JVM_FLAGS);
    NodeLauncher.Builder builder = NodeLauncher.builder(jar)
        .jvmFlags(List.of(flags.trim().split("\\s+"))).startTimeout(START_TIMEOUT)
        .stopGrace(STOP_GRACE).unset("CLUSTER_SECRET_FILE");
    if (tls != null) {
      builder.tls(tls);
    }
    NodeLauncher launcher;
    try {
      launcher = builder.build();
    } catch (IllegalStateException e) {
      throw new CliException(ExitCode.USAGE, e.getMessage());
    }
    launcher.addShardCluster(host, ports, shardCount, data, nodeEnv, logs);
    Thread stopper = new Thread(() -> stop(launcher, out), "kvs-up-stopper");
    Runtime.getRuntime().addShutdownHook(stopper);
    out.println("kvs: starting " + nodes + " nodes, waiting until they are ready (logs in "
        + logs + "/)");
    out.flush();
    try {
      launcher.startAll();
    } catch (LaunchException e) {
      throw new CliException(ExitCode.UNAVAILABLE, e.getMessage());
    }
    printReady(launcher, scheme, ca, env, out);
    watch(launcher, out);
    return ExitCode.OK.code();
  }

  private Integer validate() {
    if (nodes < 1) {
      throw new CliException(ExitCode.USAGE, "--nodes must be a positive integer");
    }
    if (basePort < 1 || basePort + nodes - 1 > 65535) {
      throw new CliException(ExitCode.USAGE, "--base-port out of range");
    }
    if (shards.equals("none")) {
      return null;
    }
    try {
      int n = Integer.parseInt(shards);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the usage error
    }
    throw new CliException(ExitCode.USAGE, "--shards must be N or none");
  }

  /** The environment's CLUSTER_SECRET (or CLUSTER_SECRET_FILE's content), else a new one. */
  static String clusterSecret(Map<String, String> env, PrintWriter out) {
    String secret = env.get("CLUSTER_SECRET");
    if ((secret == null || secret.isEmpty()) && env.get("CLUSTER_SECRET_FILE") != null) {
      try {
        secret = Files.readString(Path.of(env.get("CLUSTER_SECRET_FILE")),
            StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new CliException(ExitCode.USAGE, "cannot read " + env.get("CLUSTER_SECRET_FILE"));
      }
    }
    if (secret == null || secret.isEmpty()) {
      byte[] bytes = new byte[SECRET_BYTES];
      new SecureRandom().nextBytes(bytes);
      secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      out.println("kvs: the nodes authenticate each other with a CLUSTER_SECRET generated for"
          + " this cluster (set CLUSTER_SECRET to choose it)");
    }
    return secret;
  }

  private void printReady(NodeLauncher launcher, String scheme, String ca,
      Map<String, String> env, PrintWriter out) {
    List<String> addresses = launcher.addresses();
    String tlsOption = ca == null ? "" : "--cacert " + ca;
    String curlTls = ca == null ? "" : tlsOption + " ";
    List<String> status = new ArrayList<>(List.of("status", "--node",
        scheme + "://" + addresses.get(0)));
    if (ca != null) {
      status.addAll(List.of("--cacert", ca));
    }
    StringWriter table = new StringWriter();
    PrintWriter tableOut = new PrintWriter(table);
    Kvs.commandLine(env).setOut(tableOut).setErr(tableOut).execute(status.toArray(String[]::new));
    tableOut.flush();
    table.toString().lines().forEach(l -> out.println(l.isEmpty() ? l : "  " + l));
    out.println("ready: " + addresses.size() + " nodes on " + host + ":" + basePort + "-"
        + (basePort + nodes - 1) + ", shards=" + shards + "; Ctrl-C stops them. Try:");
    out.println("  curl -s " + curlTls + "-X PUT -H 'Content-Type: application/json' -d "
        + "'{\"value\":\"hello\"}' " + scheme + "://" + addresses.get(0)
        + "/key-value-store/greeting");
    out.println("  curl -s " + curlTls + scheme + "://" + addresses.get(addresses.size() - 1)
        + "/key-value-store/greeting");
    out.println("  ./kvs status --node " + scheme + "://" + addresses.get(0)
        + (ca == null ? "" : " " + tlsOption) + "    (also: ring, view, put, get, plan, commit"
        + " ...)");
    out.flush();
  }

  /** Reports each node that exits and keeps serving with the others, until none is left. */
  private static void watch(NodeLauncher launcher, PrintWriter out) throws InterruptedException {
    boolean[] reported = new boolean[launcher.size()];
    int left = launcher.size();
    while (left > 0) {
      Thread.sleep(WATCH_MS);
      for (int i = 0; i < launcher.size(); i++) {
        if (!reported[i] && !launcher.isRunning(i)) {
          reported[i] = true;
          left--;
          out.println("kvs: node " + launcher.spec(i).address() + " exited (see "
              + launcher.spec(i).log() + ")");
          out.flush();
        }
      }
    }
    out.println("kvs: every node has exited");
    out.flush();
  }

  private static void stop(NodeLauncher launcher, PrintWriter out) {
    long running = java.util.stream.IntStream.range(0, launcher.size())
        .filter(launcher::isRunning).count();
    if (running > 0) {
      out.println("kvs: stopping " + running + " nodes");
      out.flush();
    }
    launcher.close();
  }

  private static boolean inUse(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String firstSet(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }
}
