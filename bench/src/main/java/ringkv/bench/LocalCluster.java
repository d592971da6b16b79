package ringkv.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What both sides of {@code --compare redis} share as local clusters: the server processes
 * they start through one {@link ChildProcesses} (which {@link #close()} stops), and the label
 * of each server process by pid, for the CPU figures ({@link #servers()}).
 *
 * <p>Not thread-safe; the comparison's main thread uses it.
 */
abstract class LocalCluster implements ComparedCluster {
  /** Starts the servers, logging to files in {@code logDir}. */
  final ChildProcesses processes;
  /** Every server process started, pid to label; filled by {@link #start}. */
  final Map<Long, String> servers = new LinkedHashMap<>();

  LocalCluster(Path logDir, List<String> jvmFlags) {
    this.processes = new ChildProcesses(logDir, jvmFlags);
  }

  @Override
  public final Map<Long, String> servers() {
    return Map.copyOf(servers);
  }

  @Override
  public final void close() {
    processes.close();
  }
}
