package ringkv.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * HTTP/1.1 for the client on Netty: a few event loop threads, and on each of them one
 * keep-alive {@link NodePool} per node.
 *
 * <p>Why per event loop: a request sent from one of the transport's own threads (the usual
 * case: the next operation is issued from the completion of the previous one) stays on that
 * thread, from the pool to the socket and back, with no lock and no hand-off; a request sent
 * from any other thread goes to the loops in turn. So the bound on connections to a node is
 * per loop ({@link Options#connectionsPerNodeMax} divided among them).
 *
 * <p>Every exchange has a timeout from the moment it reaches its pool (waiting for a
 * connection, connecting, sending and the answer); every connect a timeout of its own. The
 * {@link ResponseDecoder} bounds the status line, the headers and the body.
 *
 * <p>Requests are encoded here straight into one buffer (request line, {@code host}, and for
 * a body its type and length); answers are read by {@link ResponseDecoder}. Netty provides the
 * event loops, the sockets and the buffers: native epoll when the application has it
 * ({@link NativeTransport}), the JDK's NIO otherwise.
 *
 * <p>With {@link Options#tls} every connection speaks TLS ({@link ClientTls}); requests are
 * encoded the same way and the handshake happens once per connection, before its first
 * request goes out.
 *
 * <p>Thread-safe: {@link #send} and {@link #schedule} from any thread; pools and connections
 * are confined to their loops.
 */
final class HttpTransport implements AutoCloseable {
  /** Bound on an answer's body: a 1 MiB value plus its causal metadata, with room. */
  static final int RESPONSE_BYTES_MAX = 16 << 20;
  /** Bound on an answer's status line. */
  static final int STATUS_LINE_BYTES_MAX = 4096;
  /** Bound on an answer's headers. */
  static final int HEADER_BYTES_MAX = 16 * 1024;
  /** How long {@link #close} waits for the loops to stop. */
  static final long CLOSE_WAIT_MS_MAX = 2_000;

  /**
   * @param ioThreads event loop threads
   * @param connectionsPerNodeMax keep-alive connections to one node, at most, all loops
   *     together
   * @param pipelineDepthMax requests in flight on one connection (1: no pipelining); only
   *     GETs are ever pipelined
   * @param connectTimeoutMs TCP connect timeout
   * @param nativeTransport use Netty's epoll transport when the application has it
   * @param tls TLS of every connection, or null: plain HTTP
   */
  record Options(int ioThreads, int connectionsPerNodeMax, int pipelineDepthMax,
      long connectTimeoutMs, boolean nativeTransport, ClientTls tls) {
    Options {
      if (ioThreads < 1 || connectionsPerNodeMax < 1 || pipelineDepthMax < 1
          || connectTimeoutMs < 1 || connectTimeoutMs > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("bad transport options " + this);
      }
    }

    Options(int ioThreads, int connectionsPerNodeMax, int pipelineDepthMax,
        long connectTimeoutMs, boolean nativeTransport) {
      this(ioThreads, connectionsPerNodeMax, pipelineDepthMax, connectTimeoutMs,
          nativeTransport, null);
    }
  }

  /** An exchange got no answer within its timeout. */
  static final class RequestTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    RequestTimeoutException(String message) {
      super(message);
    }
  }

  /** The node answered something that is not an HTTP/1.1 answer to our request. */
  static final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A thread of this transport; holds the pools of its event loop. */
  private static final class IoThread extends FastThreadLocalThread {
    final HttpTransport owner;
    final Map<String, NodePool> pools = new HashMap<>();
    EventLoop loop;

    IoThread(HttpTransport owner, Runnable r, String name) {
      super(r, name);
      this.owner = owner;
      setDaemon(true);
    }
  }

  private static final AtomicInteger TRANSPORTS = new AtomicInteger();

  private final Options options;
  private final int connectionsPerLoop;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final boolean usesNativeTransport;
  private volatile boolean closed;

  HttpTransport(Options options) {
    this.options = options;
    this.connectionsPerLoop = Math.max(1,
        (options.connectionsPerNodeMax() + options.ioThreads() - 1) / options.ioThreads());
    int id = TRANSPORTS.incrementAndGet();
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory factory = r -> new IoThread(this, r,
        RingKvClient.IO_THREAD_NAME_PREFIX + id + "-io-" + threads.incrementAndGet());
    this.usesNativeTransport = options.nativeTransport() && NativeTransport.available();
    this.group = new MultiThreadIoEventLoopGroup(options.ioThreads(), factory,
        usesNativeTransport ? NativeTransport.ioHandlerFactory() : NioIoHandler.newFactory());
    this.bootstrap = new Bootstrap()
        .channel(usesNativeTransport ? NativeTransport.channelClass() : NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeoutMs())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true);
  }

  /**
   * The pipeline of a connection to {@code address}: the connection itself, behind an
   * {@link io.netty.handler.ssl.SslHandler} when {@code tls} is not null (plain HTTP has no
   * handler but the connection's, so it costs nothing more than before TLS existed).
   */
  static ChannelHandler initializer(Connection connection, ClientTls tls,
      InetSocketAddress address) {
    return new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        if (tls != null) {
          ch.pipeline().addLast(tls.newHandler(ch.alloc(), address.getHostString(),
              address.getPort()));
        }
        ch.pipeline().addLast(connection);
      }
    };
  }

  Options options() {
    return options;
  }

  /** {@code "epoll"} or {@code "nio"}. */
  String transportName() {
    return usesNativeTransport ? "epoll" : "nio";
  }

  /** Whether the calling thread is one of this transport's event loops. */
  boolean inIoThread() {
    return Thread.currentThread() instanceof IoThread t && t.owner == this;
  }

  /** Sends {@code x} to its node; its outcome is reported to it on an event loop. */
  void send(Exchange x) {
    if (Thread.currentThread() instanceof IoThread t && t.owner == this) {
      sendOnLoop(t, x);
      return;
    }
    try {
      group.next().execute(() -> sendOnLoop((IoThread) Thread.currentThread(), x));
    } catch (RejectedExecutionException e) {
      x.fail(new CancellationException("client closed"));
    }
  }

  private void sendOnLoop(IoThread t, Exchange x) {
    if (closed) {
      x.fail(new CancellationException("client closed"));
    } else {
      pool(t, x.node).send(x);
    }
  }

  private NodePool pool(IoThread t, String node) {
    NodePool p = t.pools.get(node);
    if (p == null) {
      p = new NodePool(node, loopOf(t), bootstrap, connectionsPerLoop,
          options.pipelineDepthMax(), options.tls());
      t.pools.put(node, p);
    }
    return p;
  }

  private EventLoop loopOf(IoThread t) {
    if (t.loop == null) {
      for (EventExecutor e : group) {
        if (e.inEventLoop()) {
          t.loop = (EventLoop) e;
        }
      }
    }
    return t.loop;
  }

  /**
   * Runs {@code task} after {@code delayMs} on the calling event loop, or on the next one.
   *
   * @throws RejectedExecutionException if the transport is closed
   */
  ScheduledFuture<?> schedule(Runnable task, long delayMs) {
    EventLoop loop = Thread.currentThread() instanceof IoThread t && t.owner == this
        ? loopOf(t) : group.next();
    return loop.schedule(task, delayMs, TimeUnit.MILLISECONDS);
  }

  /** Connections opened to {@code node} so far, all loops together (waits for the loops). */
  long connectsStarted(String node) {
    return sumOverPools(node, true);
  }

  /** Connections open to {@code node} now, all loops together (waits for the loops). */
  long openConnections(String node) {
    return sumOverPools(node, false);
  }

  private long sumOverPools(String node, boolean started) {
    long sum = 0;
    for (EventExecutor e : group) {
      sum += e.submit(() -> {
        NodePool p = ((IoThread) Thread.currentThread()).pools.get(node);
        return p == null ? 0L : started ? p.connectsStarted() : p.openConnections();
      }).syncUninterruptibly().getNow();
    }
    return sum;
  }

  /**
   * Fails every exchange not yet answered with {@link CancellationException}, closes every
   * connection and stops the loops (waiting up to {@link #CLOSE_WAIT_MS_MAX} unless called
   * from one of them). Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    CancellationException cause = new CancellationException("client closed");
    for (EventExecutor e : group) {
      try {
        e.execute(() -> ((IoThread) Thread.currentThread()).pools.values()
            .forEach(p -> p.closeAll(cause)));
      } catch (RejectedExecutionException ignored) {
        // Already stopping: its channels are closed by the shutdown itself.
      }
    }
    var stopped = group.shutdownGracefully(0, CLOSE_WAIT_MS_MAX, TimeUnit.MILLISECONDS);
    if (!inIoThread()) {
      stopped.awaitUninterruptibly(CLOSE_WAIT_MS_MAX + 500);
    }
  }

  // --- Encoding ------------------------------------------------------------------------------

  private static final byte[] HTTP11_HOST = ascii(" HTTP/1.1\r\nhost: ");
  private static final byte[] JSON_LENGTH =
      ascii("\r\ncontent-type: application/json\r\ncontent-length: ");
  private static final byte[] CRLF2 = ascii("\r\n\r\n");

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static final byte[] NO_HEADERS = new byte[0];

  /** {@link #encode(String, String, String, byte[], BodyPart...)} with no extra header. */
  static ByteBuf encode(String method, String node, String path, BodyPart... body) {
    return encode(method, node, path, NO_HEADERS, body);
  }

  /**
   * Encodes a request: {@code method path HTTP/1.1}, {@code host}, {@code headers} (ASCII
   * header lines, each starting with CRLF; may be empty), and with a body its JSON content
   * type and length, then {@code body} (UTF-8 pieces written in order; none: no body).
   * {@code path} must be ASCII (keys are percent-encoded).
   */
  static ByteBuf encode(String method, String node, String path, byte[] headers,
      BodyPart... body) {
    int bodyBytes = 0;
    for (BodyPart p : body) {
      bodyBytes += p.length();
    }
    ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(method.length() + path.length()
        + node.length() + headers.length + 80 + bodyBytes);
    ByteBufUtil.writeAscii(buf, method);
    buf.writeByte(' ');
    ByteBufUtil.writeAscii(buf, path);
    buf.writeBytes(HTTP11_HOST);
    ByteBufUtil.writeAscii(buf, node);
    buf.writeBytes(headers);
    if (body.length == 0) {
      buf.writeBytes(CRLF2);
      return buf;
    }
    buf.writeBytes(JSON_LENGTH);
    ByteBufUtil.writeAscii(buf, Integer.toString(bodyBytes));
    buf.writeBytes(CRLF2);
    for (BodyPart p : body) {
      p.writeTo(buf);
    }
    return buf;
  }

  /** A piece of a request body: bytes as they are, or a string written as UTF-8. */
  static final class BodyPart {
    private final byte[] bytes;
    private final String text;
    private final int length;

    private BodyPart(byte[] bytes, String text, int length) {
      this.bytes = bytes;
      this.text = text;
      this.length = length;
    }

    static BodyPart of(byte[] bytes) {
      return new BodyPart(bytes, null, bytes.length);
    }

    static BodyPart of(String text) {
      return new BodyPart(null, text, ByteBufUtil.utf8Bytes(text));
    }

    int length() {
      return length;
    }

    void writeTo(ByteBuf buf) {
      if (bytes != null) {
        buf.writeBytes(bytes);
      } else {
        ByteBufUtil.reserveAndWriteUtf8(buf, text, length);
      }
    }
  }
}
