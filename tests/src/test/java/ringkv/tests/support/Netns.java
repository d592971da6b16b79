package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import ringkv.tests.support.Commands.Result;

/**
 * Network-namespace plumbing shared by {@link NetnsCluster} and {@link ContainerEngine} (and the
 * container tests): naming a namespace after this JVM, removing namespaces (also those of JVMs
 * that died), the {@code socat} bridges through which the test JVM reaches a node inside a
 * namespace, the node's readiness through its bridge, and the iptables rules of partitions.
 *
 * <p><b>Partition rules.</b> The nodes open their connections without binding a source address,
 * so every packet between two nodes has source 127.0.0.1. Each node therefore runs under its own
 * owner (a uid, or a gid), a mangle rule marks every connection a node opens with the node's
 * index + 1 ({@code -m owner … -j CONNMARK}), and a partition drops, in the filter OUTPUT chain,
 * every packet of the connections one side opened to the other side's addresses
 * ({@code -m connmark --mark a -m conntrack --ctorigdst b}). Stateless; thread-safe.
 */
public final class Netns {
  /** Removes the filter OUTPUT rules (every partition). */
  public static final String FLUSH_FILTER = "*filter\n-F OUTPUT\nCOMMIT\n";
  /** Removes the mangle and filter OUTPUT rules (marks and partitions). */
  public static final String FLUSH_ALL = "*mangle\n-F OUTPUT\nCOMMIT\n" + FLUSH_FILTER;
  private static final Duration SHORT = Duration.ofSeconds(30);
  private static final Duration KILL_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration BRIDGE_START = Duration.ofSeconds(10);

  private Netns() {}

  /** A fresh name {@code <prefix><jvm pid>-<random hex>}, which tells whose namespace it is. */
  public static String newName(String prefix) {
    return prefix + ProcessHandle.current().pid() + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
  }

  /** The file of namespace {@code ns}, for {@code nsenter --net=}. */
  public static String path(String ns) {
    return "/var/run/netns/" + ns;
  }

  /** Whether network namespace {@code ns} exists. */
  public static boolean exists(String ns) {
    return Files.exists(Paths.get(path(ns)));
  }

  /**
   * Kills every process in namespace {@code ns} (a few rounds: a dying parent may leave
   * children), then deletes it, with {@code ip} at path {@code ip}.
   */
  public static void remove(String ip, String ns) {
    for (int round = 0; round < 5; round++) {
      List<ProcessHandle> alive = Commands.run(SHORT, ip, "netns", "pids", ns).lines()
          .stream().filter(s -> s.matches("\\d+")).map(Long::parseLong)
          .map(ProcessHandle::of).flatMap(Optional::stream).toList();
      if (alive.isEmpty()) {
        break;
      }
      alive.forEach(ProcessHandle::destroyForcibly);
      alive.forEach(p -> Commands.awaitExit(p, KILL_TIMEOUT));
    }
    Result del = Commands.run(SHORT, ip, "netns", "del", ns);
    if (!del.ok() && !del.output().contains("No such file")) {
      System.err.println("cannot delete network namespace " + ns + ": " + del.output());
    }
  }

  /**
   * Removes the namespaces whose name matches {@code ours} (the first group a JVM's pid) of JVMs
   * that no longer run: killed before they could clean up.
   */
  public static void removeLeftovers(String ip, Pattern ours) {
    for (String line : Commands.run(SHORT, ip, "netns", "list").lines()) {
      String name = line.split("\\s+")[0];
      if (Commands.ofDeadJvm(ours.matcher(name))) {
        remove(ip, name);
      }
    }
  }

  /**
   * Starts {@code socat} inside a namespace ({@code enter}: the command prefix that runs a
   * command there, {@code ip netns exec <ns>} or {@code nsenter --net=<file>}) relaying the Unix
   * socket {@code socket} to the TCP {@code address}, its output appended to {@code log}; waits
   * until the socket exists. The caller destroys the process.
   */
  public static Process bridge(List<String> enter, String socat, Path socket, String address,
      Path log) {
    List<String> command = new ArrayList<>(enter);
    command.addAll(List.of(socat, "UNIX-LISTEN:" + socket + ",fork,unlink-early,mode=600",
        "TCP:" + address + ",connect-timeout=2"));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      Awaitility.await("bridge " + socket).atMost(BRIDGE_START)
          .pollInterval(Duration.ofMillis(20))
          .failFast("bridge to " + address + " exited", () -> !p.isAlive())
          .until(() -> Files.exists(socket));
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start socat for " + address, e);
    }
  }

  /**
   * Whether the node at {@code address} behind the bridge {@code socket} answers
   * {@code GET /health/ready} with 200 within {@code timeout}: serving, and
   * done copying its shard's data (a node still catching up forwards requests to peers).
   */
  public static boolean ready(Path socket, String address, Duration timeout) {
    try {
      return UnixHttp.send(socket, address, "GET", "/health/ready", null, timeout).status() == 200;
    } catch (AssertionError notYet) {
      return false;
    }
  }

  /** Marks each connection a socket of owner {@code owner} opens with {@code mark}. */
  static String markRule(String ownerMatch, int owner, int mark) {
    return "-A OUTPUT -m owner " + ownerMatch + " " + owner + " -m conntrack --ctstate NEW"
        + " -j CONNMARK --set-mark " + mark + "\n";
  }

  /**
   * The mangle rules that mark the connections of nodes 0..{@code nodes-1}, node i's sockets
   * being those of owner {@code firstOwner + i} ({@code ownerMatch}: {@code --uid-owner} or
   * {@code --gid-owner}).
   */
  static String markRules(String ownerMatch, int firstOwner, int nodes) {
    StringBuilder rules = new StringBuilder("*mangle\n");
    for (int i = 0; i < nodes; i++) {
      rules.append(markRule(ownerMatch, firstOwner + i, i + 1));
    }
    return rules.append("COMMIT\n").toString();
  }

  /** Drops both directions of every connection node {@code from} opens to {@code host}. */
  private static String dropRule(int from, String host) {
    return "-A OUTPUT -m connmark --mark " + (from + 1) + " -m conntrack --ctorigdst "
        + host + "/32 -j DROP\n";
  }

  /**
   * The filter rules that cut {@code side} from {@code other} both ways ({@code hostOf}: a
   * node's IP address); refuses a node on both sides.
   */
  static String partitionRules(Collection<Integer> side, Collection<Integer> other,
      IntFunction<String> hostOf) {
    Set<Integer> overlap = new HashSet<>(side);
    overlap.retainAll(other);
    if (!overlap.isEmpty()) {
      throw new IllegalArgumentException("nodes " + overlap + " are on both sides");
    }
    StringBuilder rules = new StringBuilder("*filter\n");
    for (int a : side) {
      for (int b : other) {
        rules.append(dropRule(a, hostOf.apply(b))).append(dropRule(b, hostOf.apply(a)));
      }
    }
    return rules.append("COMMIT\n").toString();
  }

  /**
   * Rules with every match and target the partitions use that match nothing (owner
   * {@code unusedOwner}, a mark no node has, address 127.0.0.254): whether {@code
   * iptables-restore --noflush} takes them tells whether partitions work here.
   */
  static String probeRules(String ownerMatch, int unusedOwner) {
    return "*mangle\n" + markRule(ownerMatch, unusedOwner, 0xfff) + "COMMIT\n"
        + "*filter\n" + dropRule(0xffe, "127.0.0.254") + "COMMIT\n";
  }
}
