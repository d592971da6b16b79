package ringkv.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A node for transport tests, on plain blocking sockets so that a test controls the bytes on
 * the wire: it counts the connections it accepted, records each request with the connection
 * that carried it, and answers each by a {@link Script} the test chooses (raw bytes, then
 * keep the connection, close it, or answer nothing). {@code GET /ring} is answered with
 * {@link #ringJson}. One thread accepts; one thread per connection reads requests in order
 * (so pipelined requests are answered in order, as HTTP/1.1 requires).
 *
 * <p>Thread-safe; {@link #close} stops every thread and closes every socket.
 */
final class ScriptedNode implements AutoCloseable {
  /** A request as received: its connection (1, 2, ...), method, path and body. */
  record Request(int connection, String method, String path, String body) {}

  /** What to do with one request. */
  record Script(byte[] answer, After after) {
    enum After { KEEP_OPEN, CLOSE, SILENCE }

    static Script json(int status, String body) {
      return new Script(ScriptedNode.answer(status, body, ""), After.KEEP_OPEN);
    }

    static Script bytes(String raw, After after) {
      return new Script(raw.getBytes(StandardCharsets.UTF_8), after);
    }

    /** Read the request, answer nothing, keep the connection open until the node closes. */
    static Script silence() {
      return new Script(new byte[0], After.SILENCE);
    }
  }

  /** An HTTP/1.1 answer with a JSON body and extra header lines (each ending in CRLF). */
  static byte[] answer(int status, String body, String extraHeaders) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " X\r\ncontent-type: application/json\r\n"
        + "content-length: " + b.length + "\r\n" + extraHeaders + "\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[h.length + b.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(b, 0, out, h.length, b.length);
    return out;
  }

  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Socket> sockets = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  final AtomicInteger connections = new AtomicInteger();
  /** Connections the client closed (end of stream seen by the node). */
  final AtomicInteger closedByClient = new AtomicInteger();
  final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
  volatile String ringJson = "{}";
  volatile Function<Request, Script> script = r -> Script.json(404,
      "{\"error\":\"no script\",\"message\":\"Error\"}");

  ScriptedNode() {
    try {
      server = new ServerSocket(0, 64, InetAddress.getByName("127.0.0.1"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    acceptor = new Thread(this::accept, "scripted-node-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        s.setTcpNoDelay(true);
        int id = connections.incrementAndGet();
        Thread t = new Thread(() -> serve(s, id), "scripted-node-conn-" + id);
        t.setDaemon(true);
        synchronized (sockets) {
          if (server.isClosed()) {
            s.close();
            return;
          }
          sockets.add(s);
          threads.add(t);
        }
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket, int id) {
    try (socket; InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream()) {
      while (true) {
        Request r = read(in, id);
        if (r == null) {
          closedByClient.incrementAndGet();
          return;
        }
        Script s;
        if (r.path().equals("/ring")) {
          s = Script.json(200, ringJson);
        } else {
          requests.add(r);
          s = script.apply(r);
        }
        out.write(s.answer());
        out.flush();
        if (s.after() == Script.After.CLOSE) {
          return;
        }
        if (s.after() == Script.After.SILENCE) {
          while (in.read() >= 0) { // until the client gives up and closes
            continue;
          }
          closedByClient.incrementAndGet();
          return;
        }
      }
    } catch (IOException e) {
      // Closed by close() or reset by the client: the connection is over.
    }
  }

  /** Reads one request (headers and a Content-Length body); null at the end of stream. */
  private static Request read(InputStream in, int id) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        return null;
      }
      head.write(c);
      matched = (c == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    String[] requestLine = lines[0].split(" ");
    int length = 0;
    for (String l : lines) {
      if (l.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(l.substring(15).strip());
      }
    }
    byte[] body = in.readNBytes(length);
    return new Request(id, requestLine[0], requestLine[1],
        new String(body, StandardCharsets.UTF_8));
  }

  /** Blocks a script (or a {@link FakeNode}'s handler) until {@code release} (10 s at most). */
  static void hold(CountDownLatch release) {
    try {
      release.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A script that answers as {@code then}, but holds the answer to a request for {@code path}
   * until {@code release} ({@link #hold}).
   */
  static Function<Request, Script> holding(String path, CountDownLatch release,
      Function<Request, Script> then) {
    return r -> {
      if (r.path().equals(path)) {
        hold(release);
      }
      return then.apply(r);
    };
  }

  @Override
  public void close() {
    List<Thread> all;
    synchronized (sockets) {
      try {
        server.close();
      } catch (IOException e) {
        // Closing: nothing else to do with it.
      }
      for (Socket s : sockets) {
        try {
          s.close();
        } catch (IOException e) {
          // Closing: nothing else to do with it.
        }
      }
      all = new ArrayList<>(threads);
    }
    all.add(acceptor);
    for (Thread t : all) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
