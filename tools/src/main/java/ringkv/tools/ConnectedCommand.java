package ringkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * A command that talks to the cluster through the node given with {@code --node}: the options
 * every such command shares ({@link Connection}: the node, TLS, token, timeout, {@code --json};
 * {@code --help} and {@code --version}, which picocli gives every subclass from this class's
 * {@code @Command}) and the call that hands the command its output.
 *
 * <p>Not thread-safe; picocli runs one command once.
 */
@Command(mixinStandardHelpOptions = true)
abstract class ConnectedCommand implements Callable<Integer> {
  @Mixin
  Connection connection;

  @Override
  public final Integer call() {
    return run(connection.output());
  }

  /** Does the command, printing to {@code out}; the exit code ({@link ExitCode}). */
  abstract int run(Output out);

  /** The ring as the node given with {@code --node} sees it now. */
  RingSnapshot ring() {
    return RingSnapshot.fetch(connection.client(), connection.seed());
  }

  /**
   * A command that changes the view through the node and waits for the change: adds the
   * options of the wait ({@link ChangeOptions}).
   */
  abstract static class Change extends ConnectedCommand {
    @Mixin
    ChangeOptions change;
  }
}
