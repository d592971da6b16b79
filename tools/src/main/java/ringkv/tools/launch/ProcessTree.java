package ringkv.tools.launch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A launched process together with the processes it started. A wrapper such as {@code faketime}
 * forks the node's JVM and waits for it, so a signal sent to the launched process alone stops
 * the wrapper and leaves the node running (holding its {@code DATA_DIR} lock: a restart then
 * fails on RocksDB's {@code LOCK}). Signals go to the whole tree, and a wait is over only when
 * every process of the tree has exited. The tree is read when the signal is sent: once the
 * wrapper is gone its children no longer descend from it.
 */
final class ProcessTree {
  private ProcessTree() {}

  /** {@code p}'s descendants (the node, under a wrapper), then {@code p}. */
  static List<ProcessHandle> of(Process p) {
    List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
    tree.add(p.toHandle());
    return tree;
  }

  /** SIGKILL to every process of {@code p}'s tree; returns the tree. */
  static List<ProcessHandle> kill(Process p) {
    List<ProcessHandle> tree = of(p);
    tree.forEach(ProcessHandle::destroyForcibly);
    return tree;
  }

  /**
   * SIGTERM to the node: to {@code p}'s descendants when it has any (a wrapper then exits with
   * the node's code), else to {@code p}. Returns the tree.
   */
  static List<ProcessHandle> terminate(Process p) {
    List<ProcessHandle> tree = of(p);
    if (tree.size() > 1) {
      tree.subList(0, tree.size() - 1).forEach(ProcessHandle::destroy);
    } else {
      p.destroy();
    }
    return tree;
  }

  /** Whether every process of {@code tree} exited within {@code timeout}. */
  static boolean waitFor(List<ProcessHandle> tree, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ProcessHandle h : tree) {
      try {
        h.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for pid " + h.pid(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return tree.stream().noneMatch(ProcessHandle::isAlive);
      }
    }
    return true;
  }
}
