package ringkv.tests.chaos;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
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
 */
abstract class BridgedBackend<C extends BridgedCluster> extends BackendBase<C> {
  BridgedBackend(String name, Dialect dialect, C cluster) {
    super(name, dialect, cluster, cluster.addresses());
  }

  /** The node as failure messages name it. */
  abstract String describe(int node);

  @Override
  public final String logTail(int node) {
    return cluster.logTail(node);
  }

  @Override
  public final Http.Reply send(int node, String method, String path, String rawBody) {
    long pid = cluster.pid(node);
    if (pid < 0) {
      throw refused(node, method, path, "is not running", null);
    }
    try {
      return cluster.send(node, method, path, rawBody);
    } catch (AssertionError e) {
      boolean bridgeClosed = e.getCause() instanceof IOException
          && !(e.getCause() instanceof ClosedChannelException);
      boolean sameJvm = cluster.pid(node) == pid
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
