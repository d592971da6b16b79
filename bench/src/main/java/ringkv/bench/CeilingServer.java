package ringkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import ringkv.ring.Ring;

/**
 * The "ceiling" of the bench: about the least an HTTP/1.1 server on this machine can do for a
 * key-value request. It speaks just enough of the shard dialect for the client library (a
 * one-shard {@code GET /ring} naming itself, {@code GET /health/ready}) and answers every
 * key-value request with a fixed small JSON body (a GET's carries a value of the bench's value
 * size) once it has read the request. No storage, no routing, no causality, no allocation per
 * request beyond the connection's buffers.
 *
 * <p>A minimal NIO server: one acceptor thread and {@link #LOOPS} selector loops (one per
 * core, as Vert.x sizes its event loops by cores), keep-alive, TCP_NODELAY, pipelining-safe.
 * It understands request lines, {@code Content-Length} bodies and {@code Connection: close};
 * anything else (chunked bodies, headers over {@link #HEAD_BYTES_MAX}) closes the connection.
 *
 * <p>Each connection is confined to its loop's thread. The bench runs it as a separate process
 * with the node's JVM flags: {@code java -cp kvs-bench.jar ringkv.bench.CeilingServer PORT SIZE}.
 */
public final class CeilingServer implements AutoCloseable {
  /** Selector loops: the machine's cores. */
  public static final int LOOPS = Math.max(1, Runtime.getRuntime().availableProcessors());
  /** A request head (request line and headers) longer than this closes the connection. */
  static final int HEAD_BYTES_MAX = 16 * 1024;
  /** A request body longer than this closes the connection. */
  static final int BODY_BYTES_MAX = 2 * 1024 * 1024;
  private static final int BUFFER_BYTES = 16 * 1024;

  private final ServerSocketChannel server;
  private final List<Loop> loops = new ArrayList<>();
  private final Thread acceptor;
  private final byte[] ring;
  private final byte[] readyAnswer;
  private final byte[] read;
  private final byte[] write;
  private final byte[] notFound;
  private volatile boolean closed;

  /** Serves on {@code address} (port 0: any free port) until {@link #close()}. */
  public CeilingServer(InetSocketAddress address, int valueSize) throws IOException {
    server = ServerSocketChannel.open();
    server.bind(address, 1024);
    String self = "127.0.0.1:" + port();
    ring = response(200, ringJson(self));
    readyAnswer = response(200, "{\"status\":\"ready\"}");
    read = response(200, "{\"message\":\"Retrieved successfully\",\"causal-metadata\":{},"
        + "\"value\":\"" + "x".repeat(valueSize) + "\"}");
    write = response(200, "{\"message\":\"Updated successfully\",\"causal-metadata\":{},"
        + "\"shard-id\":1}");
    notFound = response(404, "{\"error\":\"Not found\",\"message\":\"Error\"}");
    for (int i = 0; i < LOOPS; i++) {
      Loop loop = new Loop(Selector.open());
      loops.add(loop);
      Thread t = new Thread(loop::run, "ceiling-loop-" + i);
      t.setDaemon(true);
      t.start();
    }
    acceptor = new Thread(this::accept, "ceiling-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code CeilingServer PORT VALUE_SIZE}: serves on 127.0.0.1:PORT until killed. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: CeilingServer PORT VALUE_SIZE");
      System.exit(2);
    }
    CeilingServer s = new CeilingServer(new InetSocketAddress("127.0.0.1",
        Integer.parseInt(args[0])), Integer.parseInt(args[1]));
    System.out.println("ceiling server on 127.0.0.1:" + s.port() + ", " + LOOPS + " loops");
    try {
      s.acceptor.join(); // serve until killed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public int port() {
    try {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] response(int status, String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + (status == 200 ? " OK" : " Not Found")
        + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[h.length + b.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(b, 0, out, h.length, b.length);
    return out;
  }

  /** A one-shard ring of 20 tokens whose only member is {@code self}. */
  static String ringJson(String self) {
    Ring ring = Ring.initial(1, Ring.DEFAULT_VNODES_PER_SHARD);
    String tokens = ring.tokens().stream()
        .map(t -> "{\"token\":" + t.token() + ",\"shard-id\":" + t.shardId() + "}")
        .collect(Collectors.joining(","));
    return "{\"epoch\":1,\"hash-function\":\"murmur3_128\",\"vnodes-per-shard\":"
        + ring.vnodesPerShard() + ",\"shards\":[{\"shard-id\":1,\"members\":[\"" + self
        + "\"],\"live-members\":[\"" + self + "\"],\"key-count\":0,\"owned-fraction\":1.0}],"
        + "\"tokens\":[" + tokens + "]}";
  }

  private void accept() {
    int next = 0;
    while (!closed) {
      try {
        SocketChannel c = server.accept();
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.configureBlocking(false);
        loops.get(next++ % loops.size()).adopt(c);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // Closing a listening socket loses nothing.
    }
    loops.forEach(Loop::close);
  }

  /** One selector thread and the connections it owns. */
  private final class Loop {
    private final Selector selector;
    private final Queue<SocketChannel> incoming = new ConcurrentLinkedQueue<>();

    Loop(Selector selector) {
      this.selector = selector;
    }

    void adopt(SocketChannel c) {
      incoming.add(c);
      selector.wakeup();
    }

    void close() {
      try {
        selector.wakeup();
        for (SelectionKey k : selector.keys()) {
          k.channel().close();
        }
        selector.close();
      } catch (IOException | java.nio.channels.ClosedSelectorException e) {
        // Shutting down: nothing to save.
      }
    }

    void run() {
      try {
        while (!closed) {
          selector.select();
          SocketChannel c;
          while ((c = incoming.poll()) != null) {
            try {
              c.register(selector, SelectionKey.OP_READ, new Connection(c));
            } catch (ClosedChannelException e) {
              // The peer went away before we saw it.
            }
          }
          for (SelectionKey key : selector.selectedKeys()) {
            Connection conn = (Connection) key.attachment();
            try {
              if (key.isValid() && key.isWritable()) {
                conn.flush(key);
              }
              if (key.isValid() && key.isReadable()) {
                conn.read(key);
              }
            } catch (IOException | RuntimeException e) {
              key.cancel();
              conn.channel.close();
            }
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException | java.nio.channels.ClosedSelectorException e) {
        // The server is closing.
      }
    }
  }

  /** One keep-alive connection: its input buffer, parse state and pending output. */
  private final class Connection {
    final SocketChannel channel;
    ByteBuffer in = ByteBuffer.allocate(BUFFER_BYTES);
    ByteBuffer out;
    boolean closeAfterWrite;

    Connection(SocketChannel channel) {
      this.channel = channel;
    }

    void read(SelectionKey key) throws IOException {
      int n = channel.read(in);
      if (n < 0) {
        key.cancel();
        channel.close();
        return;
      }
      in.flip();
      while (out == null && serveOne()) {
        // Pipelined requests: serve every complete one in the buffer.
      }
      in.compact();
      if (out != null) {
        flush(key);
      }
    }

    /** Serves the complete request at the head of {@code in}, if there is one. */
    private boolean serveOne() throws IOException {
      int headEnd = indexOfHeadEnd(in);
      if (headEnd < 0) {
        if (in.remaining() >= HEAD_BYTES_MAX) {
          throw new IOException("request head too long");
        }
        growIfFull();
        return false;
      }
      String head = StandardCharsets.ISO_8859_1.decode(
          in.duplicate().limit(in.position() + headEnd)).toString();
      long length = 0;
      boolean close = false;
      String[] lines = head.split("\r\n");
      for (int i = 1; i < lines.length; i++) {
        String line = lines[i].toLowerCase(Locale.ROOT);
        if (line.startsWith("content-length:")) {
          length = Long.parseLong(line.substring(15).strip());
        } else if (line.startsWith("transfer-encoding:")) {
          throw new IOException("chunked bodies are not supported");
        } else if (line.startsWith("connection:") && line.contains("close")) {
          close = true;
        }
      }
      if (length < 0 || length > BODY_BYTES_MAX) {
        throw new IOException("body too large");
      }
      int total = headEnd + 4 + (int) length;
      if (in.remaining() < total) {
        growTo(total);
        return false;
      }
      in.position(in.position() + total);
      String[] requestLine = lines[0].split(" ");
      String method = requestLine[0];
      String path = requestLine.length > 1 ? requestLine[1] : "/";
      byte[] answer;
      if (path.startsWith("/key-value-store/")) {
        answer = "GET".equals(method) ? read : write;
      } else if (path.equals("/ring")) {
        answer = ring;
      } else if (path.equals("/health/ready")) {
        answer = readyAnswer;
      } else {
        answer = notFound;
      }
      out = ByteBuffer.wrap(answer);
      closeAfterWrite = close;
      return true;
    }

    /** Grows {@code in} (read mode) when unconsumed data fills it entirely. */
    private void growIfFull() {
      if (in.remaining() == in.capacity()) {
        growTo(in.capacity() * 2);
      }
    }

    /**
     * Makes room for a request of {@code bytes} (in is in read mode). The caller compacts
     * {@code in} afterwards, which moves the unconsumed data to its start.
     */
    private void growTo(int bytes) {
      if (in.capacity() >= bytes) {
        return;
      }
      ByteBuffer bigger = ByteBuffer.allocate(bytes + BUFFER_BYTES);
      bigger.put(in);
      bigger.flip();
      in = bigger;
    }

    void flush(SelectionKey key) throws IOException {
      channel.write(out);
      if (out.hasRemaining()) {
        key.interestOps(SelectionKey.OP_WRITE);
        return;
      }
      out = null;
      if (closeAfterWrite) {
        key.cancel();
        channel.close();
        return;
      }
      key.interestOps(SelectionKey.OP_READ);
      in.flip();
      while (out == null && serveOne()) {
        // Requests that arrived while we were writing.
      }
      in.compact();
      if (out != null) {
        flush(key);
      }
    }
  }

  /** Index (from position) of the CRLFCRLF ending the head, or -1. */
  static int indexOfHeadEnd(ByteBuffer b) {
    int start = b.position();
    for (int i = start; i + 3 < b.limit(); i++) {
      if (b.get(i) == '\r' && b.get(i + 1) == '\n' && b.get(i + 2) == '\r'
          && b.get(i + 3) == '\n') {
        return i - start;
      }
    }
    return -1;
  }
}
