package ringkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;

/**
 * The comparison's load generator, one design for both servers: plain NIO, closed loop, one
 * request outstanding per connection (no pipelining, as wrk and {@code redis-benchmark -P 1}),
 * every connection tied to one server and drawing its keys (uniformly) from the keys that server
 * owns — smart routing, so no request is forwarded or redirected. Requests are built once per
 * key; the hot path allocates nothing (direct buffers, a reply check that reads in place), so
 * the generator's own CPU per operation stays small and is measured ({@link PhaseResult} does
 * not, the caller reads /proc/self around a phase).
 *
 * <p>Connections are spread over {@code threads} selector threads; each thread owns its
 * connections, random source and histogram, so nothing is shared on the hot path but one
 * counter per thread for progress lines. A phase runs on fresh threads and ends when every
 * connection has its last answer; {@link #run} is called from one thread at a time.
 */
final class LoadGenerator implements AutoCloseable {
  /** The two operations: a read, and an insert-or-update of the whole value. */
  enum Operation { GET, PUT }

  /** What a phase sends. LOAD writes every key once; MIX is half GETs, half PUTs. */
  enum Mode { LOAD, MIX, GET, PUT }

  /** Checks replies on one connection. */
  interface ReplyParser {
    int INCOMPLETE = -1;
    int FAILURE = 0;
    int SUCCESS = 1;
    /** The reply cannot be delimited: the connection is dropped. */
    int PROTOCOL_ERROR = -2;

    /**
     * Consumes one reply to {@code op} from {@code in} (position to limit) and says whether it
     * is the expected answer; {@link #INCOMPLETE} (nothing consumed) when more bytes are needed.
     */
    int parse(ByteBuffer in, Operation op);

    /** Names the last failure or protocol error ({@code "HTTP 503"}, {@code "-MOVED"}). */
    String failure();
  }

  /** One server and the keys it owns: indexes into the key list given to the constructor. */
  record Target(String address, int[] keys) {
    Target {
      keys = keys.clone();
    }
  }

  /** Requests of one key: built by the caller for the key's server. */
  record Requests(byte[] get, byte[] put) {}

  /**
   * What a phase did: {@code ops} expected answers (their latency, in nanoseconds from sending
   * the request to its whole reply, is in the histogram) and {@code errors} other answers or
   * requests lost with a dropped connection, by kind.
   */
  record PhaseResult(Mode mode, long ops, long errors, double seconds, Histogram latencyNanos,
      Map<String, Long> errorsByKind) {
    PhaseResult {
      errorsByKind = Map.copyOf(errorsByKind);
    }

    double throughput() {
      return seconds > 0 ? ops / seconds : 0;
    }
  }

  static final int READ_BUFFER_BYTES = 64 * 1024;
  static final long LATENCY_NANOS_MAX = TimeUnit.SECONDS.toNanos(60);
  static final long CONNECT_TIMEOUT_MS = 5_000;
  private static final long SELECT_TIMEOUT_MS = 100;

  private final List<Worker> workers = new ArrayList<>();
  private final List<Connection> connections = new ArrayList<>();

  /**
   * Opens {@code connections} connections spread over the targets (as evenly as possible, in
   * target order), and gives each its share of its target's keys for the LOAD phase.
   *
   * @param requests requests by key index, built for the key's target
   * @param parsers a new reply parser per connection
   */
  LoadGenerator(List<Target> targets, Requests[] requests, int connections, int threads,
      java.util.function.Supplier<ReplyParser> parsers, long seed) throws IOException {
    if (targets.isEmpty() || connections < targets.size() || threads < 1) {
      throw new IllegalArgumentException("need >= 1 target, a connection per target and a"
          + " thread; got " + targets.size() + " targets, " + connections + " connections, "
          + threads + " threads");
    }
    for (int t = 0; t < threads; t++) {
      workers.add(new Worker(t, Selector.open(), seed + t));
    }
    int[] perTarget = split(connections, targets.size());
    int next = 0;
    try {
      for (int t = 0; t < targets.size(); t++) {
        Target target = targets.get(t);
        for (int c = 0; c < perTarget[t]; c++) {
          Worker w = workers.get(next++ % threads);
          Connection conn = new Connection(target, requests, parsers.get(), c, perTarget[t]);
          conn.open(w.selector);
          this.connections.add(conn);
          w.connections.add(conn);
        }
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** {@code total} split into {@code parts} shares that differ by at most one, larger first. */
  static int[] split(int total, int parts) {
    int[] out = new int[parts];
    for (int i = 0; i < parts; i++) {
      out[i] = total / parts + (i < total % parts ? 1 : 0);
    }
    return out;
  }

  /**
   * Runs one phase: {@code mode} for {@code durationMs} (LOAD: until every key is written once),
   * recording latencies. Calls {@code progress} about once a second with the operations done so
   * far.
   *
   * @throws IOException if a selector fails (a connection the server closes is an error, not
   *     an exception)
   */
  PhaseResult run(Mode mode, long durationMs, LongConsumer progress) throws IOException {
    long start = System.nanoTime();
    long deadline = mode == Mode.LOAD ? Long.MAX_VALUE
        : start + TimeUnit.MILLISECONDS.toNanos(durationMs);
    List<Thread> threads = new ArrayList<>();
    for (Worker w : workers) {
      w.prepare(mode, deadline);
      Thread t = new Thread(w, "loadgen-" + w.index);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    try {
      for (Thread t : threads) {
        while (t.isAlive()) {
          t.join(1000);
          if (t.isAlive()) {
            progress.accept(workers.stream().mapToLong(w -> w.done.get()).sum());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.forEach(w -> w.stop = true);
      throw new IOException("interrupted during a phase", e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Histogram merged = new Histogram(LATENCY_NANOS_MAX, 3);
    long ops = 0;
    long errors = 0;
    Map<String, Long> kinds = new TreeMap<>();
    for (Worker w : workers) {
      if (w.failure != null) {
        throw new IOException("load generator thread failed", w.failure);
      }
      merged.add(w.histogram);
      ops += w.ops;
      errors += w.errors;
      w.errorsByKind.forEach((k, v) -> kinds.merge(k, v, Long::sum));
    }
    if (connections.stream().noneMatch(c -> c.open)) {
      kinds.merge("every connection closed", 1L, Long::sum);
    }
    return new PhaseResult(mode, ops, errors, seconds, merged, kinds);
  }

  /** Connections still open. */
  long openConnections() {
    return connections.stream().filter(c -> c.open).count();
  }

  @Override
  public void close() {
    for (Connection c : connections) {
      c.close();
    }
    for (Worker w : workers) {
      try {
        w.selector.close();
      } catch (IOException e) {
        // Closing: nothing left to do with it.
      }
    }
  }

  /** One selector thread and its connections. Confined to the phase's thread. */
  private static final class Worker implements Runnable {
    final int index;
    final Selector selector;
    final List<Connection> connections = new ArrayList<>();
    final SplittableRandom random;
    final AtomicLong done = new AtomicLong();
    Histogram histogram = new Histogram(LATENCY_NANOS_MAX, 3);
    Map<String, Long> errorsByKind = new TreeMap<>();
    Mode mode;
    long deadline;
    long ops;
    long errors;
    int active;
    volatile boolean stop;
    volatile Throwable failure;

    Worker(int index, Selector selector, long seed) {
      this.index = index;
      this.selector = selector;
      this.random = new SplittableRandom(seed);
    }

    void prepare(Mode mode, long deadline) {
      this.mode = mode;
      this.deadline = deadline;
      histogram = new Histogram(LATENCY_NANOS_MAX, 3);
      errorsByKind = new TreeMap<>();
      ops = 0;
      errors = 0;
      done.set(0);
      stop = false;
      failure = null;
    }

    @Override
    public void run() {
      try {
        active = 0;
        for (Connection c : connections) {
          c.loadNext = c.loadFirst;
          if (c.open) {
            try {
              if (sendNext(c)) {
                active++;
              }
            } catch (IOException e) {
              c.busy = false;
              drop(c, "io: " + e.getClass().getSimpleName());
            }
          }
        }
        while (active > 0 && !stop) {
          selector.select(this::ready, SELECT_TIMEOUT_MS);
        }
      } catch (IOException | RuntimeException e) {
        failure = e;
      }
    }

    private void ready(SelectionKey key) {
      Connection c = (Connection) key.attachment();
      try {
        if (key.isValid() && key.isWritable()) {
          c.flush();
        }
        if (key.isValid() && key.isReadable()) {
          readable(c);
        }
      } catch (IOException e) {
        drop(c, "io: " + e.getClass().getSimpleName());
      }
    }

    private void readable(Connection c) throws IOException {
      int n = c.channel.read(c.in);
      if (n < 0) {
        drop(c, "connection closed by the server");
        return;
      }
      if (!c.busy) {
        if (c.in.position() > 0) {
          drop(c, "reply without a request");
        }
        return;
      }
      c.in.flip();
      int r = c.parser.parse(c.in, c.op);
      c.in.compact();
      if (r == ReplyParser.INCOMPLETE) {
        return;
      }
      if (r == ReplyParser.PROTOCOL_ERROR) {
        drop(c, c.parser.failure());
        return;
      }
      long now = System.nanoTime();
      if (r == ReplyParser.SUCCESS) {
        ops++;
        histogram.recordValue(Math.min(now - c.sentAtNanos, LATENCY_NANOS_MAX));
      } else {
        errors++;
        errorsByKind.merge(c.parser.failure(), 1L, Long::sum);
      }
      done.lazySet(ops + errors);
      c.busy = false;
      if (c.in.position() > 0) {
        drop(c, "bytes after a reply");
        active--;
        return;
      }
      if (now - deadline >= 0 || stop || !sendNext(c)) {
        active--;
      }
    }

    /** Sends the connection's next request; false when it has none (LOAD done). */
    private boolean sendNext(Connection c) throws IOException {
      int key;
      Operation op;
      switch (mode) {
        case LOAD -> {
          if (c.loadNext >= c.target.keys().length) {
            return false;
          }
          key = c.target.keys()[c.loadNext];
          c.loadNext += c.loadStride;
          op = Operation.PUT;
        }
        case MIX -> {
          key = c.target.keys()[random.nextInt(c.target.keys().length)];
          op = random.nextBoolean() ? Operation.GET : Operation.PUT;
        }
        case GET -> {
          key = c.target.keys()[random.nextInt(c.target.keys().length)];
          op = Operation.GET;
        }
        default -> {
          key = c.target.keys()[random.nextInt(c.target.keys().length)];
          op = Operation.PUT;
        }
      }
      c.send(op, key);
      return true;
    }

    private void drop(Connection c, String why) {
      errorsByKind.merge(why, 1L, Long::sum);
      if (c.busy) {
        errors++;
        c.busy = false;
        active--;
      }
      c.close();
    }
  }

  /** One kept-alive connection. Confined to its worker's thread during a phase. */
  private static final class Connection {
    final Target target;
    final Requests[] requests;
    final ReplyParser parser;
    final int loadFirst;
    final int loadStride;
    final ByteBuffer in = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
    ByteBuffer out = ByteBuffer.allocateDirect(1024);
    SocketChannel channel;
    SelectionKey key;
    boolean open;
    boolean busy;
    Operation op;
    long sentAtNanos;
    int loadNext;

    Connection(Target target, Requests[] requests, ReplyParser parser, int index, int of) {
      this.target = target;
      this.requests = requests;
      this.parser = parser;
      this.loadFirst = index;
      this.loadStride = of;
    }

    void open(Selector selector) throws IOException {
      String a = target.address();
      int colon = a.lastIndexOf(':');
      SocketChannel ch = SocketChannel.open();
      try {
        ch.socket().connect(new InetSocketAddress(a.substring(0, colon),
            Integer.parseInt(a.substring(colon + 1))), (int) CONNECT_TIMEOUT_MS);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.configureBlocking(false);
        key = ch.register(selector, SelectionKey.OP_READ, this);
      } catch (IOException e) {
        ch.close();
        throw new IOException("cannot connect to " + a + ": " + e.getMessage(), e);
      }
      channel = ch;
      open = true;
    }

    void send(Operation op, int keyIndex) throws IOException {
      byte[] bytes = op == Operation.GET ? requests[keyIndex].get() : requests[keyIndex].put();
      if (bytes.length > out.capacity()) {
        out = ByteBuffer.allocateDirect(Math.max(bytes.length, 2 * out.capacity()));
      }
      out.clear();
      out.put(bytes).flip();
      this.op = op;
      busy = true;
      sentAtNanos = System.nanoTime();
      flush();
    }

    void flush() throws IOException {
      channel.write(out);
      int wanted = out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
          : SelectionKey.OP_READ;
      if (key.interestOps() != wanted) {
        key.interestOps(wanted);
      }
    }

    void close() {
      open = false;
      if (key != null) {
        key.cancel();
      }
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          // Closing: nothing left to do with it.
        }
      }
    }
  }
}
