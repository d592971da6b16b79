package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Goal: {@code ./kvs up} refuses bad options and a taken port before it starts any node, and
 * gives the nodes the cluster secret of the environment, of CLUSTER_SECRET_FILE, or a new one.
 * Method: the CLI in-process; every case fails before a process would start (the node jar
 * given does not even exist, so a start would exit 2 with another message).
 */
class UpArgumentsTest {
  private static final Map<String, String> ENV = Map.of("CLUSTER_SECRET", "up-arguments-test");

  @Test
  void badOptionsAndATakenPortAreUsageErrors() throws IOException {
    assertUsage(Cli.run(ENV, "up", "--shards", "x"), "--shards must be N or none");
    assertUsage(Cli.run(ENV, "up", "--shards", "0"), "--shards must be N or none");
    assertUsage(Cli.run(ENV, "up", "--nodes", "0"), "--nodes must be a positive integer");
    assertUsage(Cli.run(ENV, "up", "--base-port", "65535", "--nodes", "2"), "--base-port");
    assertUsage(Cli.run(Map.of("TLS_CERT", "cert.pem"), "up"), "TLS_CA");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      assertUsage(Cli.run(ENV, "up", "--nodes", "1", "--base-port",
          Integer.toString(taken.getLocalPort()), "--jar", "/nonexistent.jar"),
          "is already in use");
    }
  }

  @Test
  void theSecretComesFromTheEnvironmentItsFileOrIsNew(@TempDir Path dir) throws IOException {
    StringWriter said = new StringWriter();
    PrintWriter out = new PrintWriter(said, true);
    assertEquals("s3", UpCommand.clusterSecret(Map.of("CLUSTER_SECRET", "s3"), out));
    Path file = Files.writeString(dir.resolve("secret"), "from-file\n");
    assertEquals("from-file",
        UpCommand.clusterSecret(Map.of("CLUSTER_SECRET_FILE", file.toString()), out));
    assertEquals("", said.toString(), "a given secret is not announced");
    String fresh = UpCommand.clusterSecret(Map.of(), out);
    assertEquals(43, fresh.length(), "32 random bytes, base64url without padding");
    assertNotEquals(fresh, UpCommand.clusterSecret(Map.of(), out));
    assertTrue(said.toString().contains("generated for this cluster"), said.toString());
    assertFalse(said.toString().contains(fresh), "the secret is never printed");
  }

  private static void assertUsage(Cli.Result r, String message) {
    assertEquals(ExitCode.USAGE.code(), r.exit(), r.toString());
    assertTrue(r.err().contains(message), r.toString());
  }
}
