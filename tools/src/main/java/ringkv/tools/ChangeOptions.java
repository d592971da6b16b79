package ringkv.tools;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How long a command that changes the view waits for the change to end. */
final class ChangeOptions {
  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "600",
      description = "How long to wait for the change to end (default ${DEFAULT-VALUE} s); "
          + "past that the CLI exits 3 and the change may still be running.")
  private long waitSeconds;

  /**
   * Sends {@code change} to --node and follows it to its end (see {@link ChangeWatcher}); the
   * node's answer, a success.
   */
  Reply run(Connection connection, NodeClient.Request change) {
    return ChangeWatcher.run(connection.client(), connection.seed(), change, waitTime(),
        connection.output()).expectOk();
  }

  Duration waitTime() {
    if (waitSeconds < 1 || waitSeconds > 86_400) {
      throw new CliException(ExitCode.USAGE, "--wait must be between 1 and 86400 seconds");
    }
    return Duration.ofSeconds(waitSeconds);
  }
}
