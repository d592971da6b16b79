package ringkv.tools;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The admin CLI, run by {@code ./kvs status|ring|view|add-member|reshard|plan|commit|abort|
 * settle|get|put|delete}: tables for people, {@code --json} for scripts, and {@link ExitCode}
 * that mean something. Errors are one line on stderr ({@code kvs: ...}).
 *
 * <p>The environment is given to the constructor (tests pass their own): {@code ADMIN_TOKEN}
 * and {@code CLIENT_TOKEN} become bearer tokens, {@code KVS_NODE}, {@code KVS_CA}/
 * {@code TLS_CA} and {@code KVS_SESSION} defaults of options.
 */
@Command(name = "kvs", mixinStandardHelpOptions = true, version = "ringkv-tools 0.1.0",
    description = "Administer a RingKV cluster over HTTP(S).",
    subcommands = {StatusCommand.class, RingCommand.class, ViewCommand.class,
        AddMemberCommand.class, ReshardCommand.class, PlanCommand.class, CommitCommand.class,
        AbortCommand.class, SettleCommand.class, KeyValueCommands.Get.class,
        KeyValueCommands.Put.class,
        KeyValueCommands.Delete.class, UpCommand.class},
    footerHeading = "%nExit codes:%n",
    footer = {"  0  ok", "  1  refused by the node (not found, bad request, not enough nodes)",
        "  2  usage error, or an unreadable --cacert or session file",
        "  3  no answer (unreachable, timed out, TLS failed)",
        "  4  unauthorized (set ADMIN_TOKEN / CLIENT_TOKEN)",
        "  5  the node could not serve it now (5xx: view change, unavailable, aborted)",
        " 70  internal error of the CLI (a bug; the stack trace is printed)"})
public final class Kvs implements Callable<Integer> {
  private final Map<String, String> env;

  @Spec
  private CommandSpec spec;

  public Kvs(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }

  /** The command line with its error handling: one line on stderr and the exit code. */
  public static CommandLine commandLine(Map<String, String> env) {
    CommandLine cl = new CommandLine(new Kvs(env));
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      PrintWriter err = line.getErr();
      if (e instanceof CliException c) {
        err.println("kvs: " + c.getMessage());
        err.flush();
        return c.exitCode().code();
      }
      err.println("kvs: internal error (a bug, please report it with this trace):");
      e.printStackTrace(err);
      err.flush();
      return ExitCode.INTERNAL.code();
    });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }
}
