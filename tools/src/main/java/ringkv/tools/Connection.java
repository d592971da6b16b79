package ringkv.tools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every command shares: which node to ask, how (HTTP or HTTPS with a CA), how long
 * to wait, and whether to print JSON. A picocli mixin; the environment comes from the root
 * {@link Kvs} command, so tests can give their own.
 */
final class Connection {
  /** Where {@code ./kvs up} starts its first node by default (--host, --base-port). */
  static final String DEFAULT_HOST = "127.0.0.1";
  static final String DEFAULT_PORT = "8082";
  /** The node asked by default: the first one {@code ./kvs up} starts. */
  static final String DEFAULT_NODE = DEFAULT_HOST + ":" + DEFAULT_PORT;

  @Spec(Spec.Target.MIXEE)
  private CommandSpec mixee;

  @Option(names = "--node", paramLabel = "[http[s]://]HOST:PORT",
      description = "Node to ask (default: $KVS_NODE, else " + DEFAULT_NODE + ").")
  private String node;

  @Option(names = "--tls", description = "Speak HTTPS (implied by https:// or a CA file).")
  private boolean tls;

  @Option(names = "--cacert", paramLabel = "FILE",
      description = "CA certificates (PEM) to verify the nodes with; default $KVS_CA, "
          + "else $TLS_CA. Implies HTTPS.")
  private Path caFile;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
      description = "Timeout of each request (default ${DEFAULT-VALUE} s).")
  private double timeoutSeconds;

  @Option(names = "--json", description = "Print JSON (stable fields, for scripts).")
  private boolean json;

  private NodeClient client;

  Map<String, String> env() {
    return ((Kvs) mixee.root().userObject()).env();
  }

  boolean json() {
    return json;
  }

  Output output() {
    return new Output(mixee.commandLine().getOut(), mixee.commandLine().getErr(), json);
  }

  /** The node asked first, as host:port. */
  String seed() {
    return Target.parse(nodeOption()).address();
  }

  Duration timeout() {
    if (!(timeoutSeconds > 0) || timeoutSeconds > 86_400) {
      throw new CliException(ExitCode.USAGE, "--timeout must be between 0 and 86400 seconds");
    }
    return Duration.ofMillis(Math.max(1, Math.round(timeoutSeconds * 1000)));
  }

  /** Sends {@code request} to the node asked first ({@link #seed()}). */
  Reply send(NodeClient.Request request) {
    return client().send(seed(), request);
  }

  NodeClient client() {
    if (client == null) {
      Target target = Target.parse(nodeOption());
      Path ca = caPath();
      boolean https = tls || ca != null || "https".equals(target.scheme());
      if ("http".equals(target.scheme()) && (tls || caFile != null)) {
        throw new CliException(ExitCode.USAGE, "--node " + node
            + " says http:// but --tls or --cacert asks for HTTPS");
      }
      if ("http".equals(target.scheme())) {
        https = false;
      }
      SSLContext context = https && ca != null ? Tls.trusting(ca) : null;
      client = new NodeClient(https ? "https" : "http", context, env(), timeout());
    }
    return client;
  }

  private String nodeOption() {
    if (node != null) {
      return node;
    }
    String fromEnv = env().get("KVS_NODE");
    return fromEnv == null || fromEnv.isBlank() ? DEFAULT_NODE : fromEnv;
  }

  private Path caPath() {
    if (caFile != null) {
      return caFile;
    }
    for (String variable : new String[] {"KVS_CA", "TLS_CA"}) {
      String value = env().get(variable);
      if (value != null && !value.isBlank()) {
        Path p = Path.of(value);
        if (!Files.isReadable(p)) {
          throw new CliException(ExitCode.USAGE, variable + "=" + value + " is not readable");
        }
        return p;
      }
    }
    return null;
  }

  /** A --node value: an optional scheme and host:port. */
  record Target(String scheme, String address) {
    static Target parse(String value) {
      String v = value.strip();
      String scheme = null;
      int at = v.indexOf("://");
      if (at >= 0) {
        scheme = v.substring(0, at).toLowerCase(java.util.Locale.ROOT);
        v = v.substring(at + 3);
        if (!scheme.equals("http") && !scheme.equals("https")) {
          throw new CliException(ExitCode.USAGE, "--node " + value + ": scheme must be "
              + "http or https");
        }
      }
      if (v.endsWith("/")) {
        v = v.substring(0, v.length() - 1);
      }
      int colon = v.lastIndexOf(':');
      if (colon <= 0 || !v.substring(colon + 1).matches("[0-9]{1,5}")
          || Integer.parseInt(v.substring(colon + 1)) > 65_535 || v.contains("/")) {
        throw new CliException(ExitCode.USAGE, "--node " + value + ": expected HOST:PORT, "
            + "optionally after http:// or https://");
      }
      return new Target(scheme, v);
    }
  }
}
