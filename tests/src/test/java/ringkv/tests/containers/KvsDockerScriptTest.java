package ringkv.tests.containers;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import ringkv.tests.support.ContainerEngine;
import ringkv.tests.support.Commands;
import ringkv.tests.support.Commands.Result;
import ringkv.tests.support.LocalCluster;
import ringkv.tests.support.Netns;

/*
 * Goal: ./kvs docker, the container cluster script (issue 8 item 2), works in its namespace mode
 * (a machine with no running engine, CONTAINERS.md): engine starts the namespaced engine and
 * says how to use it; up (on that engine) prints where each node listens and the nodes serve;
 * kill, ps, start, pause, unpause act on one container, which keeps its DATA_DIR volume; down
 * removes the containers, stops the engine and deletes the namespace.
 *
 * Method: the script runs as a user runs it (bash kvs docker ...; up with --no-build: the jar
 * of this build, never a rebuild from inside a test), with RINGKV_DOCKER_MODE=netns and a
 * namespace and engine directory of its own (RINGKV_DOCKER_NS=ringkv-docker-t<jvm pid>-<hex>,
 * RINGKV_DOCKER_STATE=/var/tmp/ringkv-docker-<jvm pid>-script): it never meets a user's
 * cluster in ringkv-docker, and what a killed run leaves, the next ContainerEngine (or .ci/run)
 * removes (same name patterns). The test reaches the nodes through socat bridges into that
 * namespace. `kvs docker engine` first, then up (--nodes 4 --data) on the engine it started.
 * 40 keys are written and read from every node; node 2 is killed (ps says Exited, it answers
 * nothing), 20 more keys are written, it is started and serves all 60; node 3 is paused (ps
 * says Paused) and unpaused; then down, after which neither the namespace nor the directory
 * exists. Whatever happens, the test runs `kvs docker down` and removes the namespace and
 * directory itself at the end. Skipped, with the reason, where containers cannot run here.
 */
@Tag("containers")
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class KvsDockerScriptTest {
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration READY = Duration.ofSeconds(90);
  private static final int NODES = 4;

  @Test
  void upKillStartPauseDownInTheNamespaceMode() throws Exception {
    ContainerEngine.assumeUsable();
    String namespace = Netns.newName("ringkv-docker-t");
    Path state = Paths.get("/var/tmp", "ringkv-docker-" + ProcessHandle.current().pid()
        + "-script");
    Path repository = Commands.repository();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("RINGKV_DOCKER_MODE", "netns");
    env.put("RINGKV_DOCKER_NS", namespace);
    env.put("RINGKV_DOCKER_STATE", state.toString());
    env.put("RINGKV_CACHE", ContainerEngine.CACHE.toString());
    env.put("JAVA_TOOL_OPTIONS", String.join(" ", LocalCluster.JVM_FLAGS));
    Script kvs = new Script(repository.resolve("kvs"), env);
    Bridges bridges = null;
    try {
      Result engine = kvs.check("engine");
      assertTrue(engine.output().contains("engine started in namespace " + namespace)
          && engine.output().contains("export DOCKER_HOST=unix://" + state.resolve("docker.sock")),
          engine.output());
      assertTrue(Netns.exists(namespace), "engine creates the namespace");
      Result up = kvs.check("up", "--nodes", Integer.toString(NODES), "--shards", "2", "--data",
          "--no-build");
      List<String> nodes = IntStream.rangeClosed(1, NODES)
          .mapToObj(i -> "127.0.0." + (i + 1) + ":8085").toList();
      for (int i = 1; i <= NODES; i++) {
        assertTrue(up.output().matches("(?s).*ringkv-node" + i + " +listens on "
            + nodes.get(i - 1) + " \\(namespace " + namespace + "\\).*"), up.output());
      }
      assertTrue(up.output().contains("ready."), up.output());
      bridges = new Bridges(namespace, state.resolve("bridges"), nodes);
      bridges.awaitReady(READY);

      Map<String, String> written = new LinkedHashMap<>();
      for (int k = 0; k < 40; k++) {
        ShardStore.put(bridges, k % NODES, "s" + k, "v" + k, written);
      }
      ShardStore.assertReadable(bridges, written, List.of(0, 1, 2, 3));

      assertTrue(kvs.check("kill", "2").output().contains("kill ringkv-node2"));
      assertTrue(kvs.check("ps").output().matches("(?s).*ringkv-node2 +Exited.*"),
          "ps after kill");
      Bridges b = bridges;
      assertThrows(AssertionError.class, () -> b.get(1, "/health/live"),
          "a killed container answers nothing");
      for (int k = 40; k < 60; k++) {
        ShardStore.put(bridges, k % 2 == 0 ? 0 : 2, "s" + k, "w" + k, written);
      }
      kvs.check("start", "2");
      bridges.awaitReady(1, READY);
      ShardStore.assertReadable(bridges, written, List.of(1));

      kvs.check("pause", "3");
      assertTrue(kvs.check("ps").output().matches("(?s).*ringkv-node3 +Up.*\\(Paused\\).*"),
          "ps after pause");
      kvs.check("unpause", "3");
      bridges.awaitReady(2, READY);
      ShardStore.assertReadable(bridges, written, List.of(2));

      assertTrue(kvs.check("down").output().contains("deleted namespace " + namespace));
      assertFalse(Netns.exists(namespace), "down deletes the namespace");
      assertFalse(Files.exists(state), "down deletes " + state);
      System.out.printf("[containers] ./kvs docker engine/up/kill/ps/start/pause/unpause/down in"
          + " namespace %s: %d keys kept%n", namespace, written.size());
    } finally {
      if (bridges != null) {
        bridges.close();
      }
      if (Netns.exists(namespace) || Files.exists(state)) {
        Result down = kvs.run("down");
        if (!down.ok()) {
          System.err.println("[containers] kvs docker down: " + down.output());
        }
        ContainerEngine.removeNamespace(namespace);
        ContainerEngine.unmountUnder(state);
        Commands.run(ContainerEngine.LONG, "rm", "-rf", state.toString());
      }
    }
  }

  /** {@code bash kvs docker <args>} with the test's environment. */
  private record Script(Path kvs, Map<String, String> env) {
    Result run(String... args) {
      String[] command = new String[args.length + 3];
      command[0] = "bash";
      command[1] = kvs.toString();
      command[2] = "docker";
      System.arraycopy(args, 0, command, 3, args.length);
      return Commands.runWithEnv(SCRIPT_TIMEOUT, env, command);
    }

    Result check(String... args) {
      return run(args).checked("kvs docker " + String.join(" ", args));
    }
  }
}
