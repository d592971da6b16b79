package ringkv.client;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import ringkv.ring.KeyHash;

/**
 * One operation through its attempts: routes each attempt with the ring of the moment, reads
 * the answer, merges its causal metadata into the session, and retries what may succeed later
 * (see {@link RingKvClient}: view changes, 503, transport failures) with capped exponential
 * backoff until its deadline or {@link RingKvClient#ATTEMPTS_MAX}.
 *
 * <p>Its fields are touched by one attempt at a time (attempts are sequential: the next starts
 * from the previous one's completion), so {@code attempt} needs no lock; {@link #finish} is
 * idempotent.
 */
final class Operation<T> {
  enum Method { GET, PUT, DELETE }

  /** A successful final answer: status 200, 201 or 404 "Key does not exist". */
  record Answer(int status, ResponseBody body, CausalMetadata received, String node,
      int attempts) {}

  private static final String VIEW_CHANGE = "View change in progress";

  private final Dispatcher d;
  private final Method method;
  private final Session session;
  private final String key;
  /** The key's ring token: hashed once per operation, whatever the ring or the attempts. */
  private final long token;
  /** The request path, percent-encoded once. */
  private final String path;
  private final String valueJson;
  private final Function<Answer, T> result;
  private final CompletableFuture<T> future;
  private final long deadlineNanos;
  private boolean finished;
  /** Whether it is (or may still be) in the dispatcher's set of operations in backoff. */
  private volatile boolean inBackoff;
  private int attemptCount;
  private int lastShard;
  /** When not 0: retry with a ring read after this instant (a view change or a lost node). */
  private long needRingAfterNanos;
  /** The last error a node answered with (503, view change), or null. */
  private RingKvException lastAnswered;
  /** Whether the current attempt's timeout was cut short to end at the deadline. */
  private boolean clippedByDeadline;

  Operation(Dispatcher d, Method method, Session session, String key, String valueJson,
      Function<Answer, T> result, CompletableFuture<T> future) {
    this.d = d;
    this.method = method;
    this.session = session;
    this.key = key;
    this.token = KeyHash.tokenOf(key);
    this.path = RequestEncoder.KV_PATH + Requests.encodeKey(key);
    this.valueJson = valueJson;
    this.result = result;
    this.future = future;
    this.deadlineNanos = System.nanoTime()
        + TimeUnit.MILLISECONDS.toNanos(d.options.operationTimeoutMs());
  }

  void attempt() {
    try {
      send();
    } catch (RuntimeException e) {
      finish(null, e); // a bug must still complete the future
    }
  }

  private void send() {
    if (d.isClosed()) {
      finish(null, new CancellationException("client closed"));
      return;
    }
    attemptCount++;
    d.counters.attempts.increment();
    RingSnapshot r = d.router.current();
    lastShard = r == null ? 0 : r.shardOfToken(token);
    String node = d.router.choose(r, key, lastShard);
    CausalMetadata sent = session.metadata();
    long requestTimeoutMs = d.options.requestTimeoutMs();
    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    clippedByDeadline = leftMs < requestTimeoutMs;
    long timeoutMs = Math.max(1, Math.min(requestTimeoutMs, leftMs));
    io.netty.buffer.ByteBuf request = d.encoder.encodeKeyValue(method.name(), node, path,
        method == Method.PUT ? valueJson : null, sent);
    d.transport.send(new Exchange(node, request, method == Method.GET, timeoutMs) {
      @Override
      void onAnswer(Answer answer) {
        try {
          onResponse(node, sent, answer);
        } catch (RuntimeException e) {
          finish(null, e); // a bug here must still complete the future
        }
      }

      @Override
      void onFailure(Throwable cause) {
        try {
          Operation.this.onFailure(node, cause);
        } catch (RuntimeException e) {
          finish(null, e);
        }
      }
    });
  }

  /** The next attempt, after reading the ring again if the last one found it stale. */
  private void retry() {
    inBackoff = false;
    d.doneBackingOff(this);
    RingSnapshot r = d.router.current();
    if (needRingAfterNanos != 0 && (r == null || r.fetchedAtNanos() - needRingAfterNanos < 0)) {
      needRingAfterNanos = 0;
      d.router.refresh().whenComplete((fresh, err) -> attempt()); // err: the old ring
    } else {
      needRingAfterNanos = 0;
      attempt();
    }
  }

  private void onFailure(String node, Throwable err) {
    RingKvException failure;
    if (err instanceof HttpTransport.RequestTimeoutException) {
      d.counters.timeouts.increment();
      failure = exception(RingKvException.Kind.TIMEOUT, 0, "timeout", node, err);
      if (clippedByDeadline && lastAnswered != null) {
        // The attempt only had what was left of the deadline: what the nodes kept
        // answering before it is the reason the operation failed.
        lastAnswered.addSuppressed(failure);
        finish(null, lastAnswered);
        return;
      }
    } else if (ClientTls.isConfigurationFailure(err)) {
      finish(null, exception(RingKvException.Kind.TLS, 0, "tls", node, err));
      return;
    } else if (err instanceof HttpTransport.ProtocolException) {
      finish(null, exception(RingKvException.Kind.PROTOCOL, 0, "protocol", node, err));
      return;
    } else if (err instanceof IOException) {
      d.counters.unreachable.increment();
      if (err instanceof ConnectException) { // refused, or the connect timed out
        d.router.suspect(node);
      }
      failure = exception(RingKvException.Kind.UNREACHABLE, 0, "unreachable", node, err);
    } else {
      finish(null, err);
      return;
    }
    needRingAfterNanos = System.nanoTime();
    retryOrFail(failure, 0);
  }

  private void onResponse(String node, CausalMetadata sent, Exchange.Answer resp) {
    int status = resp.status();
    ResponseBody body;
    try {
      body = ResponseBody.parse(resp.body());
    } catch (IOException e) {
      finish(null, exception(RingKvException.Kind.PROTOCOL, status, "not JSON", node, e));
      return;
    }
    String error = body.error();
    boolean notFound = status == 404 && "Key does not exist".equals(error);
    if (status == 200 || status == 201 || notFound) {
      onSuccess(node, sent, status, body);
      return;
    }
    if (status == 401) {
      finish(null, exception(RingKvException.Kind.UNAUTHORIZED, status, error, node, null));
      return;
    }
    RingKvException failure = exception(RingKvException.Kind.HTTP, status, error, node, null);
    boolean viewChange = status == 500 && VIEW_CHANGE.equals(error);
    if (viewChange || status == 503) {
      lastAnswered = failure;
    }
    long retryAfterMs = Backoff.parseRetryAfterMs(resp.retryAfter());
    if (viewChange) {
      d.counters.viewChangeRetries.increment();
      needRingAfterNanos = System.nanoTime();
      retryOrFail(failure, retryAfterMs);
    } else if (status == 503) {
      retryOrFail(failure, retryAfterMs);
    } else {
      finish(null, failure);
    }
  }

  private void onSuccess(String node, CausalMetadata sent, int status, ResponseBody body) {
    CausalMetadata received;
    try {
      received = body.metadata(sent);
    } catch (IllegalArgumentException e) {
      finish(null, exception(RingKvException.Kind.PROTOCOL, status, e.getMessage(), node, e));
      return;
    }
    session.onResponse(sent, received);
    int shard = body.shardId();
    if (d.options.routing() == RingKvClient.Routing.SMART && shard != 0 && lastShard != 0
        && shard != lastShard) {
      d.counters.misrouted.increment(); // the ring moved under us: the node forwarded
      d.router.maybeRefresh();
    }
    finish(new Answer(status, body, received, node, attemptCount), null);
  }

  private RingKvException exception(RingKvException.Kind kind, int status, String error,
      String node, Throwable cause) {
    String what = method + " " + key + " on " + node + " (attempt " + attemptCount + "): "
        + describe(kind, status, error, cause);
    return new RingKvException(kind, status, error, node, what, cause);
  }

  private static String describe(RingKvException.Kind kind, int status, String error,
      Throwable cause) {
    return switch (kind) {
      case HTTP -> status + " " + error;
      case UNAUTHORIZED -> "401 " + error + ": the node wants a bearer token the client did "
          + "not send or that it does not accept (RingKvClient.Builder#token)";
      case TLS -> "TLS failed (" + cause + "): check the CA the client trusts, that the "
          + "node's certificate names the address dialled, and the client certificate";
      default -> kind + " " + cause;
    };
  }

  private void retryOrFail(RingKvException failure, long retryAfterMs) {
    long delayMs = Backoff.delayMs(attemptCount, d.options.retryDelayMsMin(),
        d.options.retryDelayMsMax(), retryAfterMs, ThreadLocalRandom.current().nextDouble());
    long retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
    if (attemptCount >= RingKvClient.ATTEMPTS_MAX || retryAt - deadlineNanos >= 0
        || d.isClosed()) {
      finish(null, failure);
      return;
    }
    d.counters.retries.increment();
    inBackoff = true;
    d.backingOff(this);
    try {
      d.transport.schedule(this::retry, delayMs);
    } catch (RejectedExecutionException e) {
      finish(null, new CancellationException("client closed"));
    }
  }

  /**
   * Completes the operation once: releases its in-flight slot first, then the future. Called
   * by its attempt's completion, or by {@link Dispatcher#close} for an operation in backoff
   * (hence synchronized: the two may race; otherwise uncontended).
   */
  void finish(Answer answer, Throwable failure) {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
    }
    if (inBackoff) {
      d.doneBackingOff(this);
    }
    d.released();
    if (failure != null) {
      future.completeExceptionally(failure);
      return;
    }
    T value;
    try {
      value = result.apply(answer);
    } catch (RuntimeException e) {
      future.completeExceptionally(e); // a bug must still complete the future
      return;
    }
    future.complete(value);
  }
}
