package ringkv.client;

import io.netty.buffer.ByteBuf;

/**
 * One HTTP/1.1 request sent through {@link HttpTransport} and its fate: exactly one of
 * {@link #onAnswer} and {@link #onFailure} is called, once, on the event loop of the pool that
 * carried it.
 *
 * <p>The request is kept as encoded bytes so that it can be written again: a request that
 * found its pooled connection closed by the node before any byte of the answer came back is
 * sent once more on a fresh connection (the usual race of a keep-alive pool with a server that
 * closes idle connections), without counting as a retry.
 *
 * <p>Confined to one event loop once handed to the transport (its state fields are touched by
 * that loop only); {@link #request} is created by the caller and released by the transport.
 */
abstract class Exchange {
  /** What the node answered: status, its {@code Retry-After} header (or null), the body. */
  record Answer(int status, String retryAfter, byte[] body) {}

  enum State { NEW, WAITING, IN_FLIGHT, DONE }

  final String node;
  /** The encoded request (request line, headers, body); released when the exchange ends. */
  final ByteBuf request;
  /** Whether it may share a connection with other answers pending (GET only). */
  final boolean pipelinable;
  /** Bound on the whole exchange: waiting for a connection, sending and the answer. */
  final long timeoutMs;

  State state = State.NEW;
  /** {@link System#nanoTime()} past which it fails; set when it first reaches its pool. */
  long deadlineNanos;
  boolean hasDeadline;
  /** The connection carrying it while {@link State#IN_FLIGHT}. */
  Connection connection;
  /** Whether it was written on a connection that had already carried an answer. */
  boolean onReusedConnection;
  /** Whether part of the answer arrived. */
  boolean answerStarted;
  /** Whether it was already written once more after a stale pooled connection. */
  boolean resent;

  Exchange(String node, ByteBuf request, boolean pipelinable, long timeoutMs) {
    this.node = node;
    this.request = request;
    this.pipelinable = pipelinable;
    this.timeoutMs = timeoutMs;
  }

  /** The node answered (any status). Called on the event loop; must not block. */
  abstract void onAnswer(Answer answer);

  /**
   * No answer: {@link java.net.ConnectException} (refused, or a connect timeout),
   * {@link HttpTransport.RequestTimeoutException}, {@link HttpTransport.ProtocolException},
   * another {@link java.io.IOException} (the connection was closed or reset), or
   * {@link java.util.concurrent.CancellationException} when the transport closed. Called on
   * the event loop, or on the closing thread; must not block.
   */
  abstract void onFailure(Throwable cause);

  /** Ends the exchange with an answer unless it already ended; returns whether it did. */
  final boolean answer(Answer answer) {
    if (!end()) {
      return false;
    }
    onAnswer(answer);
    return true;
  }

  /** Ends the exchange with a failure unless it already ended; returns whether it did. */
  final boolean fail(Throwable cause) {
    if (!end()) {
      return false;
    }
    onFailure(cause);
    return true;
  }

  private boolean end() {
    if (state == State.DONE) {
      return false;
    }
    state = State.DONE;
    connection = null;
    request.release();
    return true;
  }

  boolean isDone() {
    return state == State.DONE;
  }

  @Override
  public String toString() {
    return "Exchange[" + node + " " + state + "]";
  }
}
