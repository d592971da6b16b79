package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Goal: bad arguments are usage errors (exit 2) with a message, before anything is sent; good
 * ones parse. Method: run the CLI in-process on arguments that need no node (nothing listens on
 * port 1, so a request that did go out would exit 3, not 2).
 */
class ArgumentsTest {
  private static final Map<String, String> ENV = Map.of("KVS_NODE", "127.0.0.1:1");

  @Test
  void nodeAddressesParseWithAndWithoutScheme() {
    assertEquals(new Connection.Target(null, "h:1"), Connection.Target.parse("h:1"));
    assertEquals(new Connection.Target("https", "10.0.0.1:8085"),
        Connection.Target.parse("HTTPS://10.0.0.1:8085/"));
    for (String bad : new String[] {"h", ":1", "h:x", "h:70000", "ftp://h:1", "h:1/path"}) {
      CliException e = assertThrows(CliException.class, () -> Connection.Target.parse(bad));
      assertEquals(ExitCode.USAGE, e.exitCode(), bad);
    }
  }

  @Test
  void usageErrorsExitTwoWithAMessage() {
    assertUsage(Cli.run(ENV, "nonsense"), "Unmatched argument");
    assertUsage(Cli.run(ENV, "reshard"), "Missing required parameter");
    assertUsage(Cli.run(ENV, "reshard", "two"), "'two' is not an int");
    assertUsage(Cli.run(ENV, "ring", "--node", "nohost"), "expected HOST:PORT");
    assertUsage(Cli.run(ENV, "ring", "--timeout", "0"), "--timeout");
    assertUsage(Cli.run(ENV, "put", "k", "{", "--json-value"), "not JSON");
    assertUsage(Cli.run(ENV, "plan", "add-member", "h:1"), "--shard");
    assertUsage(Cli.run(ENV, "ring", "--node", "http://h:1", "--tls"), "HTTPS");
    assertUsage(Cli.run(Map.of("KVS_CA", "/nonexistent/ca.pem"), "ring"), "KVS_CA");
    assertUsage(Cli.run(ENV), "Usage: kvs");
  }

  @Test
  void helpListsCommandsAndExitCodes() {
    Cli.Result r = Cli.run(ENV, "--help");
    assertEquals(0, r.exit(), r::toString);
    for (String word : new String[] {"status", "ring", "view", "add-member", "reshard", "plan",
        "commit", "abort", "get", "put", "delete", "Exit codes", "unauthorized"}) {
      assertTrue(r.out().contains(word), word + " in\n" + r.out());
    }
  }

  /** Every command, nested ones too, has --help and --version (most inherit them). */
  @Test
  void everyCommandHasHelpAndVersion() {
    List<CommandLine> commands = new ArrayList<>(List.of(Kvs.commandLine(ENV)));
    for (int i = 0; i < commands.size(); i++) {
      CommandLine c = commands.get(i);
      commands.addAll(c.getSubcommands().values());
      String usage = c.getUsageMessage();
      assertTrue(usage.contains("-h, --help") && usage.contains("-V, --version"),
          c.getCommandName() + ":\n" + usage);
    }
    assertEquals(21, commands.size()); // kvs, 13 commands, plan's 7
  }

  @Test
  void anUnreachableNodeExitsThreeAndSaysWhichNode() {
    Cli.Result r = Cli.run(ENV, "status", "--timeout", "2");
    assertEquals(ExitCode.UNREACHABLE.code(), r.exit(), r::toString);
    assertTrue(r.err().startsWith("kvs: GET http://127.0.0.1:1/ring: "), r.err());
    assertEquals("", r.out());
  }

  @Test
  void exitCodesOfStatuses() {
    assertEquals(ExitCode.REFUSED, ExitCode.forStatus(404));
    assertEquals(ExitCode.REFUSED, ExitCode.forStatus(400));
    assertEquals(ExitCode.UNAUTHORIZED, ExitCode.forStatus(401));
    assertEquals(ExitCode.UNAUTHORIZED, ExitCode.forStatus(403));
    assertEquals(ExitCode.UNAVAILABLE, ExitCode.forStatus(503));
  }

  private static void assertUsage(Cli.Result r, String message) {
    assertEquals(ExitCode.USAGE.code(), r.exit(), r::toString);
    assertTrue(r.err().contains(message), "\"" + message + "\" in\n" + r);
  }
}
