package ringkv.node.api;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.time.Clock;

/**
 * What a node lets in, so that no client can exhaust it:
 * <ul>
 *   <li><b>Connections</b>: at most {@code CONNECTIONS_MAX} open; a new one beyond is closed at
 *       once. A new connection must deliver its first request within
 *       {@code REQUEST_READ_TIMEOUT_MS} (one that sends nothing, or drips its headers, is closed).
 *   <li><b>Requests in flight</b>, in two budgets: peers' ({@code /internal/...},
 *       {@code PEER_REQUESTS_IN_FLIGHT_MAX}) and everyone else's
 *       ({@code CLIENT_REQUESTS_IN_FLIGHT_MAX}), so client load never starves heartbeats,
 *       replication and view changes; beyond its budget a request gets 503.
 *   <li><b>Read deadline</b>: a request whose body has not fully arrived
 *       {@code REQUEST_READ_TIMEOUT_MS} after its headers has its connection closed, which
 *       frees its slot (a slowloris holds a slot for that long at most, plus one period of the
 *       deadline sweep: a quarter of the timeout, 10 ms to 1 s).
 * </ul>
 * Idle connections are closed by the server's idle timeout ({@code IDLE_TIMEOUT_MS}).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class Admission {
  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

  /** Bounds of the read-deadline sweep's period (a quarter of the read timeout). */
  static final long SWEEP_INTERVAL_MS_MIN = 10;
  static final long SWEEP_INTERVAL_MS_MAX = 1_000;

  /** The timers this class sets: Vert.x's, or a test's. */
  interface Timers {
    long setTimer(long delayMs, Handler<Long> handler);

    void cancelTimer(long id);
  }

  private final Timers timers;
  private final LongSupplier nanos;
  private final long sweepIntervalMs;
  /** Requests in flight, oldest first (so in the order of their deadlines): a linked list. */
  private Ticket oldest;
  private Ticket newest;
  private long sweepTimer = -1;
  private final int clientsMax;
  private final int peersMax;
  private final int connectionsMax;
  private final long readTimeoutMs;
  private int clients;
  private int peers;
  private int connections;
  /** Connections that have not sent their first request yet, with their deadline's timer. */
  private final Map<HttpConnection, Long> awaitingFirstRequest = new HashMap<>();
  private long refusedConnections;

  /** Read deadlines are measured on {@code clock}'s monotonic reading. */
  public Admission(Vertx vertx, Clock clock, int clientsMax, int peersMax, int connectionsMax,
      long readTimeoutMs) {
    this(new Timers() {
      @Override
      public long setTimer(long delayMs, Handler<Long> handler) {
        return vertx.setTimer(delayMs, handler);
      }

      @Override
      public void cancelTimer(long id) {
        vertx.cancelTimer(id);
      }
    }, clock::nanos, clientsMax, peersMax, connectionsMax, readTimeoutMs);
  }

  Admission(Timers timers, LongSupplier nanos, int clientsMax, int peersMax,
      int connectionsMax, long readTimeoutMs) {
    this.timers = timers;
    this.nanos = nanos;
    this.sweepIntervalMs = Math.max(SWEEP_INTERVAL_MS_MIN,
        Math.min(SWEEP_INTERVAL_MS_MAX, readTimeoutMs / 4));
    this.clientsMax = clientsMax;
    this.peersMax = peersMax;
    this.connectionsMax = connectionsMax;
    this.readTimeoutMs = readTimeoutMs;
  }

  /**
   * A request let in: {@link #done()} once, when it is over (answered or cut off). Until then it
   * is on the list the read-deadline sweep walks.
   */
  public final class Ticket {
    private final boolean peer;
    private final long deadlineNanos;
    private final BooleanSupplier ended;
    private final Runnable cutOff;
    private Ticket older;
    private Ticket newer;
    private boolean listed = true;
    private boolean done;

    private Ticket(boolean peer, long deadlineNanos, BooleanSupplier ended, Runnable cutOff) {
      this.peer = peer;
      this.deadlineNanos = deadlineNanos;
      this.ended = ended;
      this.cutOff = cutOff;
    }

    public void done() {
      if (!done) {
        done = true;
        unlink(this);
        if (peer) {
          peers--;
        } else {
          clients--;
        }
      }
    }
  }

  /** Whether {@code path} is a peer's request (its own budget). */
  public static boolean isPeer(String path) {
    return path.startsWith("/internal/");
  }

  /** Lets {@code req} in, or returns null when its budget is spent (the caller answers 503). */
  public Ticket admit(HttpServerRequest req) {
    return admit(isPeer(req.path()), req::isEnded, () -> {
      LOG.debug("event=read-timeout path={} remote={}", req.path(), req.remoteAddress());
      req.connection().close();
    });
  }

  /**
   * The request's read deadline is not a timer of its own (setting and cancelling one per
   * request was ~4% of a key-value request's CPU): requests are kept oldest first, and one
   * sweep every {@link #sweepIntervalMs()} while any is in flight cuts off those past their
   * deadline whose body has not fully arrived ({@code cutOff}), so a slow request is cut off
   * between {@code REQUEST_READ_TIMEOUT_MS} and that plus one sweep interval.
   */
  Ticket admit(boolean peer, BooleanSupplier ended, Runnable cutOff) {
    if (peer ? peers >= peersMax : clients >= clientsMax) {
      return null;
    }
    if (peer) {
      peers++;
    } else {
      clients++;
    }
    Ticket ticket = new Ticket(peer, nanos.getAsLong() + readTimeoutMs * 1_000_000L, ended,
        cutOff);
    ticket.older = newest;
    if (newest == null) {
      oldest = ticket;
    } else {
      newest.newer = ticket;
    }
    newest = ticket;
    if (sweepTimer < 0) {
      sweepTimer = timers.setTimer(sweepIntervalMs, id -> sweep());
    }
    return ticket;
  }

  private void unlink(Ticket t) {
    if (!t.listed) {
      return;
    }
    t.listed = false;
    if (t.older == null) {
      oldest = t.newer;
    } else {
      t.older.newer = t.newer;
    }
    if (t.newer == null) {
      newest = t.older;
    } else {
      t.newer.older = t.older;
    }
    t.older = null;
    t.newer = null;
  }

  /**
   * Cuts off the requests past their deadline that are still reading their body; one whose body
   * is in (it is being served, perhaps waiting for a dependency) stays, off the list. Sets the
   * next sweep while requests remain.
   */
  private void sweep() {
    sweepTimer = -1;
    long now = nanos.getAsLong();
    while (oldest != null && oldest.deadlineNanos - now <= 0) {
      Ticket t = oldest;
      unlink(t);
      if (!t.ended.getAsBoolean()) {
        t.cutOff.run(); // closing the connection ends the request: its owner calls done()
      }
    }
    if (oldest != null) {
      sweepTimer = timers.setTimer(sweepIntervalMs, id -> sweep());
    }
  }

  /** The period of the read-deadline sweep. */
  long sweepIntervalMs() {
    return sweepIntervalMs;
  }

  /** The 503 of a request {@link #admit} refused. */
  public KvException overloaded(HttpServerRequest req) {
    boolean peer = isPeer(req.path());
    return new KvException(ErrorCode.OVERLOADED, "more than "
        + (peer ? peersMax + " peer" : clientsMax + " client") + " requests in flight");
  }

  /** A new connection: counted, closed at once beyond the cap, else given its deadline. */
  public void onConnection(HttpConnection connection) {
    if (connections >= connectionsMax) {
      if (refusedConnections++ % 1_000 == 0) {
        LOG.warn("event=connection-refused open={} CONNECTIONS_MAX={} refused-so-far={}",
            connections, connectionsMax, refusedConnections);
      }
      connection.close();
      return;
    }
    connections++;
    // A client or peer that resets its connection: nothing to do but close it (Vert.x would
    // log each one at ERROR with no fields otherwise).
    connection.exceptionHandler(err -> LOG.debug("event=connection-error remote={} cause={}",
        connection.remoteAddress(), err.toString()));
    long timer = timers.setTimer(readTimeoutMs, id -> {
      if (awaitingFirstRequest.remove(connection) != null) {
        connection.close();
      }
    });
    awaitingFirstRequest.put(connection, timer);
    connection.closeHandler(v -> {
      connections--;
      Long pending = awaitingFirstRequest.remove(connection);
      if (pending != null) {
        timers.cancelTimer(pending);
      }
    });
  }

  /** A request arrived: its connection has met its first deadline. */
  public void onRequest(HttpServerRequest req) {
    if (!awaitingFirstRequest.isEmpty()) {
      Long timer = awaitingFirstRequest.remove(req.connection());
      if (timer != null) {
        timers.cancelTimer(timer);
      }
    }
  }

  /** Requests being served now. */
  public int inFlight() {
    return clients + peers;
  }

  /** Connections open now. */
  public int connections() {
    return connections;
  }
}
