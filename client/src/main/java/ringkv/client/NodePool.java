package ringkv.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;

/**
 * The keep-alive connections of one event loop to one node, and the requests waiting for one.
 *
 * <p>Invariants: {@code open.size() + connecting <= connectionsMax}; a connection is in
 * {@code idle} only if it is open and carries nothing; an exchange is in {@code waiting} only
 * while {@link Exchange.State#WAITING}. A request takes the most recently used idle
 * connection (its socket buffers and the node's are warm), else opens a new one while under
 * the bound, else (a GET, with pipelining on) joins the least busy connection that carries
 * only GETs and fewer than {@code pipelineDepthMax}, else waits for the next connection
 * that frees up. Waiting is bounded by the client's in-flight bound and by each exchange's
 * timeout, which runs from the moment it reaches the pool.
 *
 * <p>Timeouts are found by a sweep every {@link #TIMEOUT_SWEEP_MS} while anything is waiting
 * or in flight, rather than by a timer per request: a timer is an allocation and two priority
 * queue operations per request, the sweep a few comparisons per request in flight every
 * {@link #TIMEOUT_SWEEP_MS}. A timeout therefore fires up to that much late.
 *
 * <p>A connect that fails fails the oldest waiting request with the cause (the node is likely
 * down, and the client's retry goes elsewhere), and every waiting request when nothing else
 * is left to serve them.
 *
 * <p>Not thread-safe; confined to its event loop.
 */
final class NodePool {
  /** Period of the timeout sweep; how late a request timeout may fire at most. */
  static final long TIMEOUT_SWEEP_MS = 10;

  final String node;
  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final InetSocketAddress address;
  private final int connectionsMax;
  private final int pipelineDepthMax;
  /** TLS of its connections, or null. */
  private final ClientTls tls;
  private final List<Connection> open = new ArrayList<>();
  private final ArrayDeque<Connection> idle = new ArrayDeque<>();
  private final ArrayDeque<Exchange> waiting = new ArrayDeque<>();
  private int connecting;
  private ScheduledFuture<?> sweeper;
  /** Connections opened since the pool was created (for tests and stats). */
  private long connectsStarted;

  NodePool(String node, EventLoop loop, Bootstrap bootstrap, int connectionsMax,
      int pipelineDepthMax, ClientTls tls) {
    this.node = node;
    this.loop = loop;
    this.bootstrap = bootstrap;
    int colon = node.lastIndexOf(':');
    this.address = InetSocketAddress.createUnresolved(node.substring(0, colon),
        Integer.parseInt(node.substring(colon + 1)));
    this.connectionsMax = connectionsMax;
    this.pipelineDepthMax = pipelineDepthMax;
    this.tls = tls;
  }

  /** Sends {@code x}, now or when a connection is free. */
  void send(Exchange x) {
    if (x.isDone()) {
      return;
    }
    if (!x.hasDeadline) {
      x.hasDeadline = true;
      x.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(x.timeoutMs);
    }
    if (sweeper == null) {
      sweeper = loop.scheduleAtFixedRate(this::sweep, TIMEOUT_SWEEP_MS, TIMEOUT_SWEEP_MS,
          TimeUnit.MILLISECONDS);
    }
    Connection c = takeIdle();
    if (c == null && x.pipelinable && pipelineDepthMax > 1
        && open.size() + connecting >= connectionsMax) {
      c = pipelineCandidate();
    }
    if (c != null) {
      c.write(x);
      return;
    }
    x.state = Exchange.State.WAITING;
    waiting.addLast(x);
    if (open.size() + connecting < connectionsMax) {
      connect();
    }
  }

  private Connection takeIdle() {
    Connection c;
    while ((c = idle.pollLast()) != null) {
      if (c.isUsable()) {
        return c;
      }
    }
    return null;
  }

  private Connection pipelineCandidate() {
    Connection best = null;
    for (Connection c : open) {
      if (c.isUsable() && c.inFlightCount() < pipelineDepthMax && c.carriesOnlyPipelinable()
          && (best == null || c.inFlightCount() < best.inFlightCount())) {
        best = c;
      }
    }
    return best;
  }

  private void connect() {
    connecting++;
    connectsStarted++;
    Connection connection = new Connection(this);
    ChannelFuture f = bootstrap.clone(loop)
        .handler(HttpTransport.initializer(connection, tls, address))
        .connect(address);
    f.addListener(done -> {
      connecting--;
      if (done.isSuccess()) {
        open.add(connection);
        released(connection);
      } else {
        connectFailed(done.cause());
      }
    });
  }

  private void connectFailed(Throwable cause) {
    Exchange first = pollWaiting();
    if (first != null) {
      first.fail(cause);
    }
    if (open.isEmpty() && connecting == 0) {
      Exchange x;
      while ((x = pollWaiting()) != null) {
        x.fail(cause);
      }
    }
  }

  private Exchange pollWaiting() {
    Exchange x;
    while ((x = waiting.pollFirst()) != null) {
      if (!x.isDone()) {
        return x;
      }
    }
    return null;
  }

  /** {@code c} carries nothing now: it serves the oldest waiting request, or goes idle. */
  void released(Connection c) {
    if (!c.isUsable()) {
      return;
    }
    Exchange next = pollWaiting();
    if (next != null) {
      c.write(next);
    } else {
      idle.addLast(c);
    }
  }

  /**
   * {@code c} closed with {@code inFlight} unanswered. A request written on a reused
   * connection that got no byte of its answer is sent again once (the node closed an idle
   * connection as we wrote on it); the others fail with {@code cause}. The waiting requests
   * get a new connection if the bound allows.
   */
  void closed(Connection c, Collection<Exchange> inFlight, Throwable cause) {
    open.remove(c);
    idle.remove(c);
    List<Exchange> again = new ArrayList<>();
    for (Exchange x : inFlight) {
      if (x.isDone()) {
        continue;
      }
      x.connection = null;
      if (x.onReusedConnection && !x.answerStarted && !x.resent
          && !(cause instanceof CancellationException)) {
        x.resent = true;
        x.state = Exchange.State.NEW;
        again.add(x);
      } else {
        x.fail(cause);
      }
    }
    again.forEach(this::send);
    if (!waiting.isEmpty() && open.size() + connecting < connectionsMax) {
      connect();
    }
  }

  /**
   * Fails the requests past their deadline: a waiting one leaves the queue; one in flight
   * closes its connection (its answer may still come and would be read as the next request's).
   * Stops itself when nothing is waiting or in flight.
   */
  private void sweep() {
    long now = System.nanoTime();
    boolean live = connecting > 0;
    for (Iterator<Exchange> it = waiting.iterator(); it.hasNext(); ) {
      Exchange x = it.next();
      if (x.isDone()) {
        it.remove();
      } else if (now - x.deadlineNanos >= 0) {
        it.remove();
        x.fail(timeout(x));
      } else {
        live = true;
      }
    }
    for (int i = open.size() - 1; i >= 0; i--) {
      Connection c = open.get(i);
      Exchange expired = c.expired(now);
      if (expired != null) {
        expired.fail(timeout(expired));
        c.close(new HttpTransport.RequestTimeoutException("closed after a request timed out"));
      } else if (c.inFlightCount() > 0) {
        live = true;
      }
    }
    if (!live && sweeper != null) {
      sweeper.cancel(false);
      sweeper = null;
    }
  }

  private HttpTransport.RequestTimeoutException timeout(Exchange x) {
    return new HttpTransport.RequestTimeoutException("no answer from " + node + " within "
        + x.timeoutMs + " ms");
  }

  /** Fails every request and closes every connection (the transport is closing). */
  void closeAll(Throwable cause) {
    if (sweeper != null) {
      sweeper.cancel(false);
      sweeper = null;
    }
    Exchange x;
    while ((x = pollWaiting()) != null) {
      x.fail(cause);
    }
    for (Connection c : List.copyOf(open)) {
      c.close(cause);
    }
  }

  long connectsStarted() {
    return connectsStarted;
  }

  int openConnections() {
    return open.size();
  }
}
