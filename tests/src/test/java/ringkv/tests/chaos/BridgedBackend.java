package ringkv.tests.chaos;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicLongArray;
import ringkv.tests.causal.RecordingClient;
import ringkv.tests.support.BridgedCluster;
import ringkv.tests.support.Dialect;
import ringkv.tests.support.Http;

/**
 * A {@link BackendBase} over a {@link BridgedCluster}, whose nodes the test reaches through a
 * bridge ({@code socat} relaying a Unix socket into a network namespace): it tells which failed
 * requests were refused.
 *
 * <p>The bridge accepts every connection and closes it (without a byte of answer, or resetting
 * it while the request is written) when it cannot connect to the node: a refused connection
 * looks like a node that died after receiving the request. So {@link #send} reports a request
 * refused (it reached no node, see {@link RecordingClient#refused}) when the node was down
 * (killed or stopped), or when the bridge closed it (not the timeout: the watchdog closes the
 * channel) while the same node JVM ran throughout, as a node that has not opened its port yet;
 * any other failure stands (no answer: it may have been received).
 *
 * <p>"Ran throughout" is the backend's own record, not the process table: the kill, stop and
 * start of a node each begin a new fault epoch of that node before they touch it, and a request
 * that fails with an epoch other than the one it started in is never refused. A node being
 * killed or stopped closes the requests it already took (and may have applied) while its JVM
 * still shows as alive — a zombie not yet reaped, or a graceful shutdown in progress — so
 * "same pid, alive" alone would call a delete that happened one that did not.
 */
abstract class BridgedBackend<C extends BridgedCluster> extends BackendBase<C> {
  /** Per node: kills, stops and starts begun so far. */
  private final AtomicLongArray faultEpochs;

  BridgedBackend(String name, Dialect dialect, C cluster, NodeFaults faults) {
    super(name, dialect, cluster, cluster.addresses(), faults);
    this.faultEpochs = new AtomicLongArray(cluster.addresses().size());
  }

  @Override
  public final void kill(int node) {
    faultEpochs.incrementAndGet(node);
    super.kill(node);
  }

  @Override
  public final void stop(int node) {
    faultEpochs.incrementAndGet(node);
    super.stop(node);
  }

  @Override
  public final void start(int node) {
    faultEpochs.incrementAndGet(node);
    super.start(node);
  }

  /** The node as failure messages name it. */
  abstract String describe(int node);

  @Override
  public final String logTail(int node) {
    return cluster.logTail(node);
  }

  @Override
  public final Http.Reply send(int node, String method, String path, String rawBody) {
    long epoch = faultEpochs.get(node);
    long pid = cluster.pid(node);
    if (pid < 0) {
      throw refused(node, method, path, "is not running", null);
    }
    try {
      return cluster.send(node, method, path, rawBody);
    } catch (AssertionError e) {
      boolean bridgeClosed = e.getCause() instanceof IOException
          && !(e.getCause() instanceof ClosedChannelException);
      boolean sameJvm = faultEpochs.get(node) == epoch && cluster.pid(node) == pid
          && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      if (bridgeClosed && sameJvm) {
        throw refused(node, method, path, "did not accept the connection", e);
      }
      throw e;
    }
  }

  private AssertionError refused(int node, String method, String path, String why,
      Throwable failure) {
    AssertionError refused = new AssertionError(method + " " + path + " to "
        + addresses().get(node) + " refused", new ConnectException(describe(node) + " " + why));
    if (failure != null) {
      refused.addSuppressed(failure);
    }
    return refused;
  }
}
