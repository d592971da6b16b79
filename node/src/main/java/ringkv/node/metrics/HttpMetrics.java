package ringkv.node.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ringkv.node.log.RequestIds;
import ringkv.node.time.Clock;

/**
 * Requests served, as one histogram family {@code ringkv_http_requests_seconds} labelled by
 * route template, method, dialect and status. Recording is on the hot path of every key-value
 * request, so each (route, method) pair has a small slot of the timers of the statuses it has
 * answered: a request finds its timer with an array index and a scan of a few ints, builds no
 * string and looks nothing up in the registry after the first request of its kind.
 *
 * <p>The end of each request is also where its access line is logged, at DEBUG on the logger
 * {@code ringkv.access} (with its request id), when that level is on.
 *
 * <p>Not thread-safe; record from the node's event loop only.
 */
public final class HttpMetrics {
  private static final Logger ACCESS = LoggerFactory.getLogger("ringkv.access");
  public static final String REQUESTS = "ringkv.http.requests";
  /** Bucket bounds: a key-value request takes 50 µs of CPU; a causal wait can take seconds. */
  static final Duration[] BUCKETS = {
      Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
      Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2_500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
  /** Methods with a label of their own; the rest are {@code OTHER}. */
  private static final HttpMethod[] METHODS = {HttpMethod.GET, HttpMethod.PUT,
      HttpMethod.DELETE, HttpMethod.POST, HttpMethod.HEAD};
  private static final String OTHER_METHOD = "OTHER";
  private static final int STATUS_MIN = 100;
  private static final int STATUS_MAX = 599;
  private static final String[] STATUS_TEXT = new String[STATUS_MAX + 1];

  static {
    for (int s = STATUS_MIN; s <= STATUS_MAX; s++) {
      STATUS_TEXT[s] = Integer.toString(s);
    }
  }

  private final MeterRegistry registry;
  private final Clock clock;
  private final Slot[] slots;

  HttpMetrics(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    this.slots = new Slot[RouteLabel.all().size() * (METHODS.length + 1)];
    // The key-value routes' answers of the contract, present (at zero) from the start so that
    // a fresh node lists the family and rate() sees the first request of each.
    for (RouteLabel kv : new RouteLabel[] {RouteLabel.SHARD_KEY, RouteLabel.KVS_KEY}) {
      for (int status : new int[] {200, 404}) {
        timer(kv, HttpMethod.GET, status);
        timer(kv, HttpMethod.DELETE, status);
      }
      timer(kv, HttpMethod.PUT, 200);
      timer(kv, HttpMethod.PUT, 201);
    }
  }

  /**
   * The router's first handler for what it serves (after the health and metrics routes): gives
   * the request its id ({@link RequestIds#assign}) and records it when its answer ends.
   */
  public void observe(RoutingContext ctx) {
    long start = clock.nanos();
    HttpServerRequest request = ctx.request();
    RequestIds.assign(request);
    RouteLabel route = RouteLabel.of(request.path());
    ctx.addEndHandler(done -> ended(request, route, start));
    ctx.next();
  }

  /**
   * A request of {@code route} that started at {@code startNanos} (a {@link Clock#nanos()}
   * reading) is over: recorded (and its access line logged) if it was answered; a connection
   * closed before the answer is not.
   */
  public void ended(HttpServerRequest request, RouteLabel route, long startNanos) {
    HttpServerResponse response = request.response();
    if (!response.ended()) {
      return;
    }
    long nanos = clock.nanos() - startNanos;
    int status = response.getStatusCode();
    record(route, request.method(), status, nanos);
    if (ACCESS.isDebugEnabled()) {
      RequestIds.withId(request, () -> ACCESS.debug(
          "event=request method={} route={} path={} status={} us={}", request.method(),
          route.template(), request.path(), status, nanos / 1000));
    }
  }

  /** Records a request of {@code route} answered with {@code status} after {@code nanos}. */
  public void record(RouteLabel route, HttpMethod method, int status, long nanos) {
    timer(route, method, status).record(nanos, TimeUnit.NANOSECONDS);
  }

  private Timer timer(RouteLabel route, HttpMethod method, int status) {
    int m = methodIndex(method);
    int index = route.index() * (METHODS.length + 1) + m;
    Slot slot = slots[index];
    if (slot == null) {
      slot = new Slot();
      slots[index] = slot;
    }
    int s = status < STATUS_MIN || status > STATUS_MAX ? 0 : status;
    Timer t = slot.find(s);
    if (t == null) {
      t = Timer.builder(REQUESTS)
          .description("HTTP requests served, by route template, method, dialect and status")
          .tag("route", route.template())
          .tag("method", m < METHODS.length ? METHODS[m].name() : OTHER_METHOD)
          .tag("dialect", route.dialect())
          .tag("status", s == 0 ? "other" : STATUS_TEXT[s])
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
      slot.add(s, t);
    }
    return t;
  }

  private static int methodIndex(HttpMethod method) {
    for (int i = 0; i < METHODS.length; i++) {
      if (METHODS[i] == method) {
        return i;
      }
    }
    return METHODS.length;
  }

  /** The timers of one (route, method): a handful of statuses, scanned in order. */
  private static final class Slot {
    private int[] statuses = new int[4];
    private Timer[] timers = new Timer[4];
    private int size;

    Timer find(int status) {
      for (int i = 0; i < size; i++) {
        if (statuses[i] == status) {
          return timers[i];
        }
      }
      return null;
    }

    void add(int status, Timer timer) {
      if (size == statuses.length) {
        statuses = Arrays.copyOf(statuses, size * 2);
        timers = Arrays.copyOf(timers, size * 2);
      }
      statuses[size] = status;
      timers[size] = timer;
      size++;
    }
  }
}
