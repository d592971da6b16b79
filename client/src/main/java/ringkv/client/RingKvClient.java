package ringkv.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import ringkv.ring.Rendezvous;

/**
 * A RingKV client for the shard dialect that routes each key straight to a live member of its
 * owning shard.
 *
 * <p><b>Routing.</b> The client reads {@code GET /ring} from one node and hashes keys exactly as
 * the servers do (murmur3_128 of the UTF-8 key, the owner of the first token &gt;= the key's
 * token, wrapping; the server's own {@link ringkv.ring.Ring}), then sends each request to one
 * member of the owning shard, so no node has to forward it: the members in
 * {@link Rendezvous#orderNames} order for the key (the rule a forwarding node uses too), the
 * first that the ring lists as live and that has not just been unreachable, else the first
 * that has not been unreachable. So a key always goes to the same replica while it is live,
 * and a client reads its own writes through it even without metadata. It reads the ring again
 * when it may be stale: when a node answers 500 "View change in progress", when a node cannot
 * be reached, when a write reports another shard than the one it was routed to, and otherwise
 * every {@link Builder#ringRefreshIntervalMs}. A stale ring costs a forward, never a wrong
 * answer: every node forwards requests for keys it does not own. {@link Routing#RANDOM_NODE}
 * sends each request to a random live node instead (what a ring-unaware client does).
 *
 * <p><b>Causality.</b> Every operation takes a {@link Session}; the client sends the session's
 * causal metadata and merges the metadata of the answer into it, 404s included.
 *
 * <p><b>Retries.</b> 500 "View change in progress", 503 and transport failures are retried,
 * with capped exponential backoff that honours {@code Retry-After}, on another live member when
 * a node was unreachable, until the operation's deadline ({@link Builder#operationTimeoutMs})
 * or {@link #ATTEMPTS_MAX} attempts. Other errors (400, 413, ...) fail at once, 401 as
 * {@link RingKvException.Kind#UNAUTHORIZED} and a TLS failure as
 * {@link RingKvException.Kind#TLS}. A retried PUT
 * may be applied twice, which stores the same value; a retried DELETE may report "not found".
 * Failures complete the future with a {@link RingKvException}.
 *
 * <p><b>Transport.</b> HTTP/1.1 on Netty ({@link HttpTransport}): {@link Builder#ioThreads}
 * event loops, each with a pool of keep-alive connections per node (at most
 * {@link Builder#connectionsPerNodeMax} per node in all), TCP_NODELAY, requests and answers
 * encoded and decoded on the event loop without copies of the JSON into strings. GETs may be
 * pipelined ({@link Builder#pipelineDepthMax}, off by default: a GET that waits for a causal
 * dependency would hold up the ones behind it); PUTs and DELETEs never are.
 *
 * <p><b>Security.</b> With {@link Builder#token} every request carries
 * {@code Authorization: Bearer <token>} (encoded once, not per request). With
 * {@link Builder#tls} (or {@link Builder#tlsCa}, {@link Builder#tlsClientCertificate},
 * {@link Builder#sslContext}) every connection speaks TLS through Netty's {@code SslHandler},
 * checking by default that the node's certificate names the address dialled; the handshake is
 * once per keep-alive connection. Without TLS a connection has no handler but its own.
 *
 * <p><b>Bounds.</b> At most {@link Builder#inFlightMax} operations are in flight (retries
 * included); an operation started beyond that waits up to {@link Builder#inFlightWaitMs} on
 * the calling thread (not at all on the client's own event loop, which must not block), then
 * fails with {@link RingKvException.Kind#OVERLOADED}. Every connect has a timeout
 * ({@link Builder#connectTimeoutMs}), every attempt a request timeout and every operation a
 * deadline.
 *
 * <p>Thread-safe: one client serves any number of threads and sessions. Futures complete on
 * the client's event loop threads (or the caller's, for a failure found before sending), so
 * callbacks must not block: a callback that blocks stalls every operation on its loop, and a
 * blocking call ({@code getBlocking} ...) made from a callback throws
 * {@link IllegalStateException} instead of deadlocking. An operation started from a callback
 * stays on that callback's event loop. {@link #close()} fails operations still in flight.
 */
public final class RingKvClient implements AutoCloseable {
  /** Attempts per operation, whatever the deadline. */
  public static final int ATTEMPTS_MAX = 100;
  /** A node that could not be reached is avoided for this long (unless nothing else is left). */
  public static final long SUSPECT_MS = 2_000;
  /** Minimum gap between two ring refreshes (triggers closer than this are merged). */
  public static final long RING_REFRESH_GAP_MS_MIN = 100;
  /**
   * Default event loop threads: one. One loop drives tens of thousands of requests per
   * second; a client on a small machine shares it with the nodes.
   */
  public static final int IO_THREADS_DEFAULT = 1;
  /** Names of the client's event loop threads start with this (for profiles and CPU counts). */
  public static final String IO_THREAD_NAME_PREFIX = "ringkv-client-";

  /** How requests are routed. */
  public enum Routing {
    /** To a live member of the key's shard (no forwarding). */
    SMART,
    /** To a random live node, which forwards when it does not own the key. */
    RANDOM_NODE
  }

  /** Counters since the client was created; a consistent-enough snapshot for reporting. */
  public record Stats(long attempts, long retries, long viewChangeRetries, long unreachable,
      long timeouts, long ringRefreshes, long epochChanges, long misrouted) {}

  /** The request path of a key, before the percent-encoded key. */
  static final String KV_PATH = RequestEncoder.KV_PATH;

  private final ClientOptions options;
  private final HttpTransport transport;
  private final ClientCounters counters = new ClientCounters();
  private final Dispatcher dispatcher;
  private final RingRouter router;

  /** Options of a client; every duration is in milliseconds. Not thread-safe. */
  public static final class Builder {
    private final String seed;
    private Routing routing = Routing.SMART;
    private int inFlightMax = 256;
    private long inFlightWaitMs = 10_000;
    private long connectTimeoutMs = 1_000;
    private long requestTimeoutMs = 10_000;
    private long operationTimeoutMs = 30_000;
    private long retryDelayMsMin = 20;
    private long retryDelayMsMax = 1_000;
    private long ringRefreshIntervalMs = 5_000;
    private int ioThreads = IO_THREADS_DEFAULT;
    private int connectionsPerNodeMax = 64;
    private int pipelineDepthMax = 1;
    private boolean nativeTransport = true;
    private String token;
    private boolean tls;
    private boolean verifyHostname = true;
    private Path caPem;
    private Path certPem;
    private Path keyPem;
    private SSLContext jdkContext;
    private SslContext nettyContext;

    private Builder(String seed) {
      this.seed = Requests.requireAddress(seed);
    }

    public Builder routing(Routing value) {
      this.routing = Objects.requireNonNull(value, "routing");
      return this;
    }

    /** Operations in flight at most (default 256). */
    public Builder inFlightMax(int value) {
      this.inFlightMax = positive(value, "inFlightMax");
      return this;
    }

    /** How long starting an operation may wait for a free in-flight slot (default 10 s). */
    public Builder inFlightWaitMs(long value) {
      this.inFlightWaitMs = positive(value, "inFlightWaitMs");
      return this;
    }

    /**
     * Event loop threads of the client (default {@link #IO_THREADS_DEFAULT}); each carries
     * its share of the connections.
     */
    public Builder ioThreads(int value) {
      this.ioThreads = positive(value, "ioThreads");
      return this;
    }

    /**
     * Keep-alive connections to one node, at most (default 64; divided among the event loops,
     * rounded up); requests beyond wait for a free one.
     */
    public Builder connectionsPerNodeMax(int value) {
      this.connectionsPerNodeMax = positive(value, "connectionsPerNodeMax");
      return this;
    }

    /**
     * GETs in flight on one connection when every connection to the node is busy and at the
     * bound (default 1: no pipelining). PUTs and DELETEs are never pipelined.
     */
    public Builder pipelineDepthMax(int value) {
      this.pipelineDepthMax = positive(value, "pipelineDepthMax");
      return this;
    }

    /**
     * Whether to use Netty's native epoll transport when the application has
     * {@code io.netty:netty-transport-native-epoll} on its class path (default true); the
     * JDK's NIO otherwise.
     */
    public Builder nativeTransport(boolean value) {
      this.nativeTransport = value;
      return this;
    }

    /** TCP connect timeout (default 1 s). */
    public Builder connectTimeoutMs(long value) {
      this.connectTimeoutMs = positive(value, "connectTimeoutMs");
      return this;
    }

    /**
     * Timeout of one attempt (default 10 s: a node may wait 3 s for a causal dependency and
     * 4.5 s for a forward).
     */
    public Builder requestTimeoutMs(long value) {
      this.requestTimeoutMs = positive(value, "requestTimeoutMs");
      return this;
    }

    /** Deadline of an operation, retries included (default 30 s). */
    public Builder operationTimeoutMs(long value) {
      this.operationTimeoutMs = positive(value, "operationTimeoutMs");
      return this;
    }

    /** First retry delay and cap of the exponential backoff (defaults 20 ms and 1 s). */
    public Builder retryDelayMs(long min, long max) {
      this.retryDelayMsMin = positive(min, "retryDelayMsMin");
      if (max < min) {
        throw new IllegalArgumentException("retryDelayMsMax < retryDelayMsMin");
      }
      this.retryDelayMsMax = max;
      return this;
    }

    /** The ring is read again when older than this (default 5 s). */
    public Builder ringRefreshIntervalMs(long value) {
      this.ringRefreshIntervalMs = positive(value, "ringRefreshIntervalMs");
      return this;
    }

    /**
     * The bearer token sent as {@code Authorization: Bearer <token>} on every request: the
     * node's {@code CLIENT_TOKEN} (or its {@code ADMIN_TOKEN}). Never logged, nor shown by
     * {@code toString()}. Without it, a node with {@code CLIENT_TOKEN} set fails every
     * key-value operation with {@link RingKvException.Kind#UNAUTHORIZED}.
     *
     * @throws IllegalArgumentException unless it is non-empty visible ASCII without spaces
     */
    public Builder token(String value) {
      this.token = RequestEncoder.requireToken(Objects.requireNonNull(value, "token"));
      return this;
    }

    /**
     * HTTPS to every node (nodes with {@code TLS_CERT}/{@code TLS_KEY} serve HTTPS only),
     * trusting the JVM's trust store unless {@link #tlsCa} or {@link #sslContext} say
     * otherwise. Implied by every other TLS option.
     */
    public Builder tls() {
      this.tls = true;
      return this;
    }

    /**
     * HTTPS, trusting the certificates of the CA in {@code caPem} (PEM; what the nodes'
     * {@code TLS_CA} is), instead of the JVM's trust store.
     */
    public Builder tlsCa(Path caPem) {
      this.caPem = Objects.requireNonNull(caPem, "caPem");
      return tls();
    }

    /**
     * HTTPS, presenting this certificate chain and PKCS#8 private key (PEM, unencrypted) to
     * nodes that ask for one ({@code TLS_CLIENT_AUTH=required}).
     */
    public Builder tlsClientCertificate(Path certPem, Path keyPem) {
      this.certPem = Objects.requireNonNull(certPem, "certPem");
      this.keyPem = Objects.requireNonNull(keyPem, "keyPem");
      return tls();
    }

    /**
     * HTTPS with this JDK context's trust (and key) managers, instead of the PEM options.
     */
    public Builder sslContext(SSLContext context) {
      this.jdkContext = Objects.requireNonNull(context, "context");
      return tls();
    }

    /** HTTPS with this Netty client context, instead of the PEM options. */
    public Builder sslContext(SslContext context) {
      this.nettyContext = Objects.requireNonNull(context, "context");
      return tls();
    }

    /**
     * Whether a node's certificate must name the address the client dials, as a DNS name or
     * an IP address SAN (default true, as HTTPS does). Turn off only for tests.
     */
    public Builder hostnameVerification(boolean value) {
      this.verifyHostname = value;
      return this;
    }

    /**
     * Creates the client and reads the ring from the seed node, waiting up to the request
     * timeout.
     *
     * @throws RingKvException if the seed does not answer {@code GET /ring}
     */
    public RingKvClient build() {
      RingKvClient client = new RingKvClient(options());
      try {
        Requests.join(client.refreshRing(), requestTimeoutMs + connectTimeoutMs);
        return client;
      } catch (RuntimeException e) {
        client.close();
        throw e;
      }
    }

    private ClientOptions options() {
      return new ClientOptions(seed, routing, inFlightMax, inFlightWaitMs, connectTimeoutMs,
          requestTimeoutMs, operationTimeoutMs, retryDelayMsMin, retryDelayMsMax,
          ringRefreshIntervalMs, ioThreads, connectionsPerNodeMax, pipelineDepthMax,
          nativeTransport, token, clientTls());
    }

    private ClientTls clientTls() {
      if (!tls) {
        return null;
      }
      int contexts = (jdkContext != null ? 1 : 0) + (nettyContext != null ? 1 : 0);
      if (contexts > 1 || contexts == 1 && (caPem != null || certPem != null)) {
        throw new IllegalArgumentException("give one of sslContext(SSLContext), "
            + "sslContext(SslContext) and the PEM files (tlsCa, tlsClientCertificate)");
      }
      if (jdkContext != null) {
        return ClientTls.of(jdkContext, verifyHostname);
      }
      if (nettyContext != null) {
        return ClientTls.of(nettyContext, verifyHostname);
      }
      return ClientTls.fromPem(caPem, certPem, keyPem, verifyHostname);
    }

    private static int positive(int value, String name) {
      return (int) positive((long) value, name);
    }

    private static long positive(long value, String name) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
      return value;
    }
  }

  /** Options for a client whose first ring comes from {@code seed} ({@code host:port}). */
  public static Builder builder(String seed) {
    return new Builder(seed);
  }

  /** A client with default options; see {@link Builder#build()}. */
  public static RingKvClient connect(String seed) {
    return builder(seed).build();
  }


  private RingKvClient(ClientOptions options) {
    this.options = options;
    this.transport = new HttpTransport(options.transport());
    this.dispatcher = new Dispatcher(options, transport, counters);
    this.router = dispatcher.router;
  }

  // --- Operations ------------------------------------------------------------------------------

  /** Reads {@code key}; a missing key completes with {@code found() == false}. */
  public CompletableFuture<GetResult> get(Session session, String key) {
    return dispatcher.start(Operation.Method.GET, session, key, null, a -> new GetResult(key,
        a.status() == 200 ? a.body().rawValue() : null, a.node(), a.attempts()));
  }

  /** Writes {@code value} (any JSON value) under {@code key}. */
  public CompletableFuture<PutResult> put(Session session, String key, JsonNode value) {
    Objects.requireNonNull(value, "value");
    return putJson(session, key, value.toString());
  }

  /**
   * Writes the JSON text {@code valueJson} (for example {@code "\"text\""} or {@code 1.50})
   * under {@code key}; it is stored and returned verbatim.
   *
   * @throws IllegalArgumentException if {@code valueJson} is not one JSON value
   */
  public CompletableFuture<PutResult> putJson(Session session, String key, String valueJson) {
    Requests.requireJsonValue(valueJson);
    return dispatcher.start(Operation.Method.PUT, session, key, valueJson, a -> new PutResult(
        key, a.status() == 201, a.body().shardId(), a.node(), a.received().versionOf(key),
        a.attempts()));
  }

  /** Deletes {@code key}; a missing key completes with {@code found() == false}. */
  public CompletableFuture<DeleteResult> delete(Session session, String key) {
    return dispatcher.start(Operation.Method.DELETE, session, key, null, a -> new DeleteResult(
        key, a.status() == 200, a.body().shardId(), a.node(), a.attempts()));
  }

  /** Blocking {@link #get}; throws {@link RingKvException} when the operation fails. */
  public GetResult getBlocking(Session session, String key) {
    requireMayBlock();
    return Requests.join(get(session, key), options.blockingWaitMs());
  }

  /** Blocking {@link #put}; throws {@link RingKvException} when the operation fails. */
  public PutResult putBlocking(Session session, String key, JsonNode value) {
    requireMayBlock();
    return Requests.join(put(session, key, value), options.blockingWaitMs());
  }

  /** Blocking {@link #putJson}; throws {@link RingKvException} when the operation fails. */
  public PutResult putJsonBlocking(Session session, String key, String valueJson) {
    requireMayBlock();
    return Requests.join(putJson(session, key, valueJson), options.blockingWaitMs());
  }

  /** Blocking {@link #delete}; throws {@link RingKvException} when the operation fails. */
  public DeleteResult deleteBlocking(Session session, String key) {
    requireMayBlock();
    return Requests.join(delete(session, key), options.blockingWaitMs());
  }

  /** A blocking call on the client's own event loop would wait for itself. */
  private void requireMayBlock() {
    if (transport.inIoThread()) {
      throw new IllegalStateException("blocking call on the client's event loop (from a "
          + "callback of another operation): use the asynchronous methods there");
    }
  }

  // --- Ring ------------------------------------------------------------------------------------

  /** The ring the client routes with now. */
  public RingSnapshot ring() {
    RingSnapshot r = router.current();
    if (r == null) {
      throw new IllegalStateException("no ring yet");
    }
    return r;
  }

  /**
   * Reads {@code GET /ring} again (from a live node of the current ring, or the seed) and
   * routes with it if its epoch is not older than the current one. Concurrent calls share one
   * request.
   */
  public CompletableFuture<RingSnapshot> refreshRing() {
    return router.refresh();
  }

  /** The node the client would send a request for {@code key} to now (for inspection). */
  public String nodeFor(String key) {
    return router.nodeFor(key);
  }

  public Stats stats() {
    return counters.snapshot();
  }

  /**
   * Fails every operation still in flight with {@link CancellationException}, closes every
   * connection and stops the event loops; operations started afterwards throw
   * {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    dispatcher.close();
  }

  /**
   * The transport the client runs on: {@code "epoll"} (Netty's native transport) or
   * {@code "nio"}.
   */
  public String transport() {
    return transport.transportName();
  }

  /** The options (the token shown only as set or not). */
  @Override
  public String toString() {
    return "RingKvClient[" + options + "]";
  }

  /** Connections opened to {@code node} so far (for tests: connection reuse). */
  long connectsStarted(String node) {
    return transport.connectsStarted(node);
  }
}
