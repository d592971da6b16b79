package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/*
 * Goal: the comparison's load generator does what its figures claim: the load phase writes
 * every key exactly once, on the server that owns it; measured phases send only the phase's
 * operation, each to its key's server, and count expected answers apart from errors; a server
 * that answers wrongly or hangs up ends in counted errors, never in a hang.
 *
 * Method: small fake Redis servers (a thread per connection, blocking sockets) that record what
 * they receive; the generator drives them for short phases. No assertion on speed.
 */
class LoadGeneratorTest {
  /** A fake server: SET answers +OK, GET answers the given reply; counts commands per key. */
  private static final class FakeRedis implements AutoCloseable {
    final ServerSocket socket;
    final Map<String, AtomicInteger> sets = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> gets = new ConcurrentHashMap<>();
    final List<Socket> accepted = new ArrayList<>();
    final String getReply;
    final int closeAfter;

    FakeRedis(String getReply, int closeAfter) throws IOException {
      this.getReply = getReply;
      this.closeAfter = closeAfter;
      socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
      Thread t = new Thread(this::accept, "fake-redis-accept");
      t.setDaemon(true);
      t.start();
    }

    String address() {
      return "127.0.0.1:" + socket.getLocalPort();
    }

    private void accept() {
      try {
        while (true) {
          Socket s = socket.accept();
          synchronized (accepted) {
            accepted.add(s);
          }
          Thread t = new Thread(() -> serve(s), "fake-redis");
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException closed) {
        // The test is over.
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        for (int n = 0; n < closeAfter; n++) {
          List<?> command = (List<?>) Resp.read(in);
          String key = (String) command.get(1);
          if (command.get(0).equals("SET")) {
            sets.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            out.write("+OK\r\n".getBytes(StandardCharsets.US_ASCII));
          } else {
            gets.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            out.write(getReply.getBytes(StandardCharsets.US_ASCII));
          }
          out.flush();
        }
      } catch (IOException e) {
        // The generator closed the connection.
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      synchronized (accepted) {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private FakeRedis fake(String getReply, int closeAfter) throws IOException {
    FakeRedis f = new FakeRedis(getReply, closeAfter);
    toClose.add(f);
    return f;
  }

  /** Keys k0..k{n-1}: even ones on {@code a}, odd ones on {@code b}. */
  private LoadGenerator generator(FakeRedis a, FakeRedis b, int keys, int connections,
      int threads) throws IOException {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      names.add("k" + i);
    }
    List<LoadGenerator.Target> targets = RedisCompare.targets(names,
        List.of(a.address(), b.address()),
        k -> Integer.parseInt(k.substring(1)) % 2 == 0 ? a.address() : b.address());
    LoadGenerator.Requests[] requests = new LoadGenerator.Requests[keys];
    for (int i = 0; i < keys; i++) {
      requests[i] = new LoadGenerator.Requests(Resp.command("GET", names.get(i)),
          Resp.command("SET", names.get(i), "abc"));
    }
    LoadGenerator g = new LoadGenerator(targets, requests, connections, threads,
        () -> new Resp.ReplyParser(3), 1);
    toClose.add(g);
    return g;
  }

  /** A fake server that answers every GET with "abc" and never hangs up. */
  private FakeRedis serving() throws IOException {
    return fake("$3\r\nabc\r\n", Integer.MAX_VALUE);
  }

  /** The keys server a got are even-numbered and those b got odd, as generator() routes them. */
  private static void assertOwners(java.util.Set<String> onA, java.util.Set<String> onB) {
    onA.forEach(k -> assertTrue(Integer.parseInt(k.substring(1)) % 2 == 0, k));
    onB.forEach(k -> assertTrue(Integer.parseInt(k.substring(1)) % 2 == 1, k));
  }

  /** A phase run by a generator over two servers that answer every GET. */
  private record Phase(FakeRedis a, FakeRedis b, LoadGenerator generator,
      LoadGenerator.PhaseResult result) {}

  private Phase onTwoServing(int keys, int connections, int threads, LoadGenerator.Mode mode,
      long durationMs) throws IOException {
    FakeRedis a = serving();
    FakeRedis b = serving();
    LoadGenerator g = generator(a, b, keys, connections, threads);
    return new Phase(a, b, g, g.run(mode, durationMs, done -> { }));
  }

  @Test
  void theLoadPhaseWritesEveryKeyOnceOnItsServer() throws IOException {
    Phase p = onTwoServing(101, 7, 2, LoadGenerator.Mode.LOAD, 0);
    assertEquals(101, p.result().ops());
    assertEquals(0, p.result().errors());
    assertEquals(101, p.result().latencyNanos().getTotalCount());
    assertEquals(51, p.a().sets.size());
    assertEquals(50, p.b().sets.size());
    assertOwners(p.a().sets.keySet(), p.b().sets.keySet());
    p.a().sets.values().forEach(n -> assertEquals(1, n.get()));
    p.b().sets.values().forEach(n -> assertEquals(1, n.get()));
  }

  @Test
  void aGetPhaseSendsOnlyGetsToTheOwners() throws IOException {
    Phase p = onTwoServing(20, 4, 1, LoadGenerator.Mode.GET, 200);
    assertTrue(p.result().ops() > 0);
    assertEquals(0, p.result().errors(), p.result().errorsByKind().toString());
    assertTrue(p.a().sets.isEmpty() && p.b().sets.isEmpty());
    int received = p.a().gets.values().stream().mapToInt(AtomicInteger::get).sum()
        + p.b().gets.values().stream().mapToInt(AtomicInteger::get).sum();
    assertEquals(p.result().ops(), received);
    assertOwners(p.a().gets.keySet(), p.b().gets.keySet());
    assertEquals(4, p.generator().openConnections());
  }

  @Test
  void aMixedPhaseSendsBoth() throws IOException {
    Phase p = onTwoServing(20, 2, 1, LoadGenerator.Mode.MIX, 300);
    assertEquals(0, p.result().errors());
    assertTrue(!p.a().gets.isEmpty() || !p.b().gets.isEmpty());
    assertTrue(!p.a().sets.isEmpty() || !p.b().sets.isEmpty());
  }

  @Test
  void wrongAnswersAreCountedAsErrorsByKind() throws IOException {
    FakeRedis a = fake("$-1\r\n", Integer.MAX_VALUE);
    FakeRedis b = fake("-MOVED 1 127.0.0.1:1\r\n", Integer.MAX_VALUE);
    LoadGenerator g = generator(a, b, 4, 2, 1);
    LoadGenerator.PhaseResult r = g.run(LoadGenerator.Mode.GET, 100, done -> { });
    assertEquals(0, r.ops());
    assertTrue(r.errors() > 0);
    assertEquals(java.util.Set.of("nil", "-MOVED"), r.errorsByKind().keySet());
    assertEquals(0, r.latencyNanos().getTotalCount());
  }

  @Test
  void aServerThatHangsUpEndsThePhaseWithErrors() throws IOException {
    FakeRedis a = fake("$3\r\nabc\r\n", 3);
    FakeRedis b = serving();
    LoadGenerator g = generator(a, b, 10, 2, 1);
    LoadGenerator.PhaseResult r = g.run(LoadGenerator.Mode.GET, 300, done -> { });
    assertEquals(1, r.errors());
    assertEquals(Map.of("connection closed by the server", 1L), r.errorsByKind());
    assertEquals(1, g.openConnections());
    // The next phase runs on the connection that is left.
    assertTrue(g.run(LoadGenerator.Mode.PUT, 100, done -> { }).ops() > 0);
  }
}
