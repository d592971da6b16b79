package ringkv.client;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Starts operations within the client's bound on operations in flight
 * ({@link RingKvClient.Builder#inFlightMax}: a slot per operation, retries included, waited
 * for on the calling thread, never on the client's own event loop), and fails those still in
 * flight when the client closes.
 *
 * <p>Thread-safe.
 */
final class Dispatcher {
  final ClientOptions options;
  final HttpTransport transport;
  final RingRouter router;
  final RequestEncoder encoder;
  final ClientCounters counters;
  private final Semaphore inFlight;
  /** Operations waiting out a backoff (the rest are failed by the transport when it closes). */
  private final Set<Operation<?>> backingOff = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  Dispatcher(ClientOptions options, HttpTransport transport, ClientCounters counters) {
    this.options = options;
    this.transport = transport;
    this.encoder = options.encoder();
    this.counters = counters;
    this.inFlight = new Semaphore(options.inFlightMax());
    this.router = new RingRouter(this); // last: it takes the fields above
  }

  boolean isClosed() {
    return closed;
  }

  /** Starts one operation on {@code key}; {@code result} makes its outcome of the answer. */
  <T> CompletableFuture<T> start(Operation.Method method, Session session, String key,
      String valueJson, Function<Operation.Answer, T> result) {
    Objects.requireNonNull(session, "session");
    Requests.requireKey(key);
    if (closed) {
      throw new IllegalStateException("client closed");
    }
    CompletableFuture<T> future = new CompletableFuture<>();
    try {
      boolean onLoop = transport.inIoThread();
      boolean acquired = onLoop ? inFlight.tryAcquire()
          : inFlight.tryAcquire(options.inFlightWaitMs(), TimeUnit.MILLISECONDS);
      if (!acquired) {
        future.completeExceptionally(new RingKvException(RingKvException.Kind.OVERLOADED, 0,
            "overloaded", null, inFlight + ": no free in-flight slot within "
            + (onLoop ? 0 : options.inFlightWaitMs()) + " ms", null));
        return future;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.completeExceptionally(new CancellationException("interrupted"));
      return future;
    }
    new Operation<>(this, method, session, key, valueJson, result, future).attempt();
    return future;
  }

  /** An operation finished: its slot is free. */
  void released() {
    inFlight.release();
  }

  void backingOff(Operation<?> operation) {
    backingOff.add(operation);
  }

  void doneBackingOff(Operation<?> operation) {
    backingOff.remove(operation);
  }

  /** See {@link RingKvClient#close()}. */
  void close() {
    closed = true;
    for (Operation<?> o : List.copyOf(backingOff)) {
      o.finish(null, new CancellationException("client closed"));
    }
    transport.close(); // fails the exchanges in flight, so the operations that wait on them
    for (Operation<?> o : List.copyOf(backingOff)) {
      o.finish(null, new CancellationException("client closed")); // those that raced close
    }
  }
}
