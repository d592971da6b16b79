package ringkv.node.api;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;

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
 *       frees its slot (a slowloris holds a slot for that long at most).
 * </ul>
 * Idle connections are closed by the server's idle timeout ({@code IDLE_TIMEOUT_MS}).
 *
 * <p>Not thread-safe; runs on the node's event loop.
 */
public final class Admission {
  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

  private final Vertx vertx;
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

  public Admission(Vertx vertx, int clientsMax, int peersMax, int connectionsMax,
      long readTimeoutMs) {
    this.vertx = vertx;
    this.clientsMax = clientsMax;
    this.peersMax = peersMax;
    this.connectionsMax = connectionsMax;
    this.readTimeoutMs = readTimeoutMs;
  }

  /** A request let in: {@link #done()} once, when it is over (answered or cut off). */
  public final class Ticket {
    private final boolean peer;
    private final long timer;
    private boolean done;

    private Ticket(boolean peer, long timer) {
      this.peer = peer;
      this.timer = timer;
    }

    public void done() {
      if (!done) {
        done = true;
        vertx.cancelTimer(timer);
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
    boolean peer = isPeer(req.path());
    if (peer ? peers >= peersMax : clients >= clientsMax) {
      return null;
    }
    if (peer) {
      peers++;
    } else {
      clients++;
    }
    long timer = vertx.setTimer(readTimeoutMs, id -> {
      if (!req.isEnded()) {
        LOG.debug("event=read-timeout path={} remote={}", req.path(), req.remoteAddress());
        req.connection().close();
      }
    });
    return new Ticket(peer, timer);
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
    long timer = vertx.setTimer(readTimeoutMs, id -> {
      if (awaitingFirstRequest.remove(connection) != null) {
        connection.close();
      }
    });
    awaitingFirstRequest.put(connection, timer);
    connection.closeHandler(v -> {
      connections--;
      Long pending = awaitingFirstRequest.remove(connection);
      if (pending != null) {
        vertx.cancelTimer(pending);
      }
    });
  }

  /** A request arrived: its connection has met its first deadline. */
  public void onRequest(HttpServerRequest req) {
    if (!awaitingFirstRequest.isEmpty()) {
      Long timer = awaitingFirstRequest.remove(req.connection());
      if (timer != null) {
        vertx.cancelTimer(timer);
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
