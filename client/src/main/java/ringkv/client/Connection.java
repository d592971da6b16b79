package ringkv.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.util.ArrayDeque;
import javax.net.ssl.SSLException;

/**
 * One keep-alive HTTP/1.1 connection to a node: the only handler of its channel, reading
 * answers with a {@link ResponseDecoder}. Answers come back in the order requests were
 * written (HTTP/1.1), so the exchanges in flight are a FIFO and each answer completes the
 * oldest. More than one is in flight only when its pool pipelines GETs.
 *
 * <p>A connection is closed, and never reused, when the node says {@code Connection: close}
 * (or answers HTTP/1.0 without keep-alive), when an exchange on it timed out (its answer may
 * still come and would be taken for the next one's), on an answer nobody asked for, and on
 * anything the decoder refuses.
 *
 * <p>Over TLS it sits behind the {@link io.netty.handler.ssl.SslHandler} and sees plain
 * bytes; a handshake that fails closes it, failing its exchanges with the
 * {@link SSLException}.
 *
 * <p>Confined to its channel's event loop, which is its pool's.
 */
final class Connection extends ChannelInboundHandlerAdapter {
  private final NodePool pool;
  private final ResponseDecoder decoder = new ResponseDecoder();
  private final ResponseDecoder.Sink sink = this::onAnswer;
  private final ArrayDeque<Exchange> inFlight = new ArrayDeque<>(2);
  private Channel channel;
  /** Answers completed on this connection. */
  private long answered;
  /** Bytes of an answer's incomplete line, kept for the next read; null when none. */
  private ByteBuf cumulation;
  /** Why the channel is being closed, for the exchanges it fails; null: the node closed it. */
  private Throwable closeCause;
  private boolean closed;

  Connection(NodePool pool) {
    this.pool = pool;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  /** Whether it can take a request now. */
  boolean isUsable() {
    return !closed && channel != null && channel.isActive();
  }

  int inFlightCount() {
    return inFlight.size();
  }

  /** The first exchange in flight past its deadline at {@code nowNanos}, or null. */
  Exchange expired(long nowNanos) {
    for (Exchange x : inFlight) {
      if (!x.isDone() && nowNanos - x.deadlineNanos >= 0) {
        return x;
      }
    }
    return null;
  }

  /** Whether every exchange in flight may be pipelined with more (GETs only). */
  boolean carriesOnlyPipelinable() {
    for (Exchange x : inFlight) {
      if (!x.pipelinable) {
        return false;
      }
    }
    return true;
  }

  /** Writes {@code x}'s request; its answer completes it. */
  void write(Exchange x) {
    x.state = Exchange.State.IN_FLIGHT;
    x.connection = this;
    x.onReusedConnection = answered > 0;
    inFlight.addLast(x);
    // The first write hands over the request itself (its reader index moves as it is sent);
    // a request sent again after a stale connection goes as a fresh view of the same bytes.
    ByteBuf bytes = x.resent ? x.request.retainedSlice(0, x.request.writerIndex())
        : x.request.retain();
    channel.writeAndFlush(bytes, channel.voidPromise());
  }

  /** Closes the connection; the exchanges in flight fail with {@code cause}. */
  void close(Throwable cause) {
    if (closeCause == null) {
      closeCause = cause;
    }
    closed = true;
    if (channel != null) {
      channel.close();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    if (cumulation != null) {
      cumulation.writeBytes(in);
      in.release();
      in = cumulation;
    }
    try {
      if (!closed) { // what arrives after we decided to close belongs to no exchange
        decoder.decode(in, sink);
      }
    } catch (HttpTransport.ProtocolException e) {
      close(new HttpTransport.ProtocolException("from " + pool.node + ": " + e.getMessage(),
          e));
    } finally {
      keepRest(ctx, in);
    }
  }

  /** Keeps the unread bytes of {@code in} (an incomplete line) for the next read. */
  private void keepRest(ChannelHandlerContext ctx, ByteBuf in) {
    if (closed || !in.isReadable()) {
      in.release();
      cumulation = null;
    } else if (in != cumulation) {
      cumulation = ctx.alloc().heapBuffer(Math.max(256, in.readableBytes() * 2));
      cumulation.writeBytes(in);
      in.release();
    } else {
      cumulation.discardReadBytes();
    }
  }

  private void onAnswer(int status, String retryAfter, boolean keepAlive, byte[] body) {
    Exchange x = inFlight.pollFirst();
    if (x == null) {
      close(new HttpTransport.ProtocolException("an answer nobody asked for from " + pool.node,
          null));
      return;
    }
    answered++;
    // Free the connection before completing: the next request (often issued from this very
    // completion) then finds it idle and reuses it.
    if (!keepAlive) {
      close(null); // the node closes its side too
    } else if (inFlight.isEmpty()) {
      pool.released(this);
    }
    x.answer(new Exchange.Answer(status, retryAfter, body));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset, a failed write, a decoder error, a TLS failure: the connection is done.
    Throwable failure = cause instanceof DecoderException && cause.getCause() != null
        ? cause.getCause() : cause; // TLS: the SslHandler's SSLException, wrapped
    close(failure instanceof IOException ? failure
        : new HttpTransport.ProtocolException(failure.toString(), failure));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    // A failed handshake: its cause (SSLException) is what the exchanges fail with.
    if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
      Throwable cause = done.cause();
      close(cause instanceof IOException ? cause : new SSLException(cause.toString(), cause));
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    boolean decidedToClose = closed;
    closed = true;
    boolean partial = !decoder.isBetweenAnswers()
        || (cumulation != null && cumulation.isReadable());
    if (partial && !inFlight.isEmpty()) {
      inFlight.peekFirst().answerStarted = true; // never sent again: the node saw it
    }
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
    Throwable cause = closeCause;
    if (!decidedToClose) {
      try {
        decoder.endOfInput(sink); // an answer delimited by the end of the connection
      } catch (IOException e) {
        cause = new IOException("from " + pool.node + ": " + e.getMessage(), e);
      }
    }
    if (cause == null) {
      cause = new IOException("connection closed by " + pool.node);
    }
    pool.closed(this, inFlight, cause);
    inFlight.clear();
  }
}
