package ringkv.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of Redis's protocol (RESP2) the comparison speaks: commands as arrays of bulk
 * strings, a whole-reply reader for control commands ({@code CLUSTER SLOTS}, {@code ROLE}), and
 * the load generator's reply check for {@code GET}/{@code SET}, which allocates nothing when the
 * reply is the expected one.
 *
 * <p>Stateless; thread-safe.
 */
final class Resp {
  /** A RESP error reply ({@code -ERR ...}, {@code -MOVED 3999 127.0.0.1:7001}). */
  record Error(String message) {}

  /** Longest reply line (simple string, error, length) the generator accepts. */
  static final int LINE_BYTES_MAX = 1024;

  private Resp() {}

  /** {@code args} as a RESP array of bulk strings (UTF-8). */
  static byte[] command(String... args) {
    byte[][] b = new byte[args.length][];
    for (int i = 0; i < args.length; i++) {
      b[i] = args[i].getBytes(StandardCharsets.UTF_8);
    }
    return command(b);
  }

  /** {@code args} as a RESP array of bulk strings. */
  static byte[] command(byte[]... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ascii(out, "*" + args.length + "\r\n");
    for (byte[] a : args) {
      ascii(out, "$" + a.length + "\r\n");
      out.write(a, 0, a.length);
      ascii(out, "\r\n");
    }
    return out.toByteArray();
  }

  private static void ascii(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    out.write(b, 0, b.length);
  }

  /**
   * Reads one whole reply: a simple string as {@code String}, an error as {@link Error}, an
   * integer as {@code Long}, a bulk string as {@code String} (UTF-8), an array as {@code
   * List<Object>}, a nil as {@code null}.
   *
   * @throws IOException on a closed stream or bytes that are not RESP
   */
  static Object read(InputStream in) throws IOException {
    int type = in.read();
    if (type < 0) {
      throw new EOFException("connection closed before a reply");
    }
    String line = line(in);
    switch (type) {
      case '+':
        return line;
      case '-':
        return new Error(line);
      case ':':
        return number(line);
      case '$': {
        long n = number(line);
        if (n < 0) {
          return null;
        }
        byte[] data = in.readNBytes((int) n);
        if (data.length != n || in.read() != '\r' || in.read() != '\n') {
          throw new IOException("truncated bulk string");
        }
        return new String(data, StandardCharsets.UTF_8);
      }
      case '*': {
        long n = number(line);
        if (n < 0) {
          return null;
        }
        List<Object> items = new ArrayList<>();
        for (long i = 0; i < n; i++) {
          items.add(read(in));
        }
        return items;
      }
      default:
        throw new IOException("not a RESP reply: type byte " + type);
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed inside a reply line");
      }
      if (c == '\r') {
        if (in.read() != '\n') {
          throw new IOException("CR without LF in a reply line");
        }
        return b.toString(StandardCharsets.UTF_8);
      }
      b.write(c);
      if (b.size() > LINE_BYTES_MAX) {
        throw new IOException("reply line longer than " + LINE_BYTES_MAX + " bytes");
      }
    }
  }

  private static long number(String line) throws IOException {
    try {
      return Long.parseLong(line);
    } catch (NumberFormatException e) {
      throw new IOException("not a number in a reply: " + line, e);
    }
  }

  /**
   * The load generator's reply parser: a {@code GET} succeeds on a bulk string of the value's
   * length, a {@code SET} on {@code +OK}; anything else is a failure named by {@link
   * #failure()} ({@code "nil"}, {@code "-MOVED"}, ...). Keeps the last failure only; confine
   * to one connection.
   */
  static final class ReplyParser implements LoadGenerator.ReplyParser {
    private final int valueBytes;
    private String failure = "";

    ReplyParser(int valueBytes) {
      this.valueBytes = valueBytes;
    }

    @Override
    public int parse(ByteBuffer in, LoadGenerator.Operation op) {
      int start = in.position();
      int limit = in.limit();
      if (start >= limit) {
        return INCOMPLETE;
      }
      int lineEnd = crlf(in, start + 1, limit);
      if (lineEnd < 0) {
        return limit - start > LINE_BYTES_MAX ? protocolError("reply line too long")
            : INCOMPLETE;
      }
      byte type = in.get(start);
      int next = lineEnd + 2;
      switch (type) {
        case '+': {
          boolean ok = op == LoadGenerator.Operation.PUT && lineEnd - start == 3
              && in.get(start + 1) == 'O' && in.get(start + 2) == 'K';
          in.position(next);
          return ok ? SUCCESS : failure("+" + text(in, start + 1, lineEnd));
        }
        case '-': {
          String message = text(in, start + 1, lineEnd);
          in.position(next);
          int space = message.indexOf(' ');
          return failure("-" + (space < 0 ? message : message.substring(0, space)));
        }
        case ':':
          in.position(next);
          return failure(":integer");
        case '$': {
          long n = parseLong(in, start + 1, lineEnd);
          if (n == Long.MIN_VALUE) {
            return protocolError("bad bulk length");
          }
          if (n < 0) {
            in.position(next);
            return failure("nil");
          }
          long end = next + n + 2;
          if (end > limit) {
            return n + 2 + (next - start) > in.capacity() ? protocolError("bulk too large")
                : INCOMPLETE;
          }
          in.position((int) end);
          return op == LoadGenerator.Operation.GET && n == valueBytes ? SUCCESS
              : failure("$" + n);
        }
        default:
          return protocolError("unexpected reply type " + (char) type);
      }
    }

    @Override
    public String failure() {
      return failure;
    }

    private int failure(String what) {
      failure = what;
      return FAILURE;
    }

    private int protocolError(String what) {
      failure = "protocol: " + what;
      return PROTOCOL_ERROR;
    }
  }

  /**
   * A blocking connection for control commands ({@code PING}, {@code CLUSTER SLOTS}), with
   * connect and read timeouts. Not thread-safe.
   */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Connection(String hostPort, int timeoutMs) throws IOException {
      int colon = hostPort.lastIndexOf(':');
      socket = new Socket();
      try {
        socket.connect(new InetSocketAddress(hostPort.substring(0, colon),
            Integer.parseInt(hostPort.substring(colon + 1))), timeoutMs);
        socket.setSoTimeout(timeoutMs);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
      } catch (IOException | RuntimeException e) {
        socket.close();
        throw e;
      }
    }

    /** Sends one command and returns its reply (see {@link Resp#read}). */
    Object call(String... args) throws IOException {
      out.write(command(args));
      out.flush();
      return read(in);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Index of the first CR of a CRLF in {@code [from, limit)}, or -1. */
  static int crlf(ByteBuffer b, int from, int limit) {
    for (int i = from; i + 1 < limit; i++) {
      if (b.get(i) == '\r' && b.get(i + 1) == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** The decimal number in {@code [from, to)}, or {@code Long.MIN_VALUE} if it is not one. */
  static long parseLong(ByteBuffer b, int from, int to) {
    if (from >= to || to - from > 19) {
      return Long.MIN_VALUE;
    }
    boolean negative = b.get(from) == '-';
    int i = negative ? from + 1 : from;
    if (i >= to) {
      return Long.MIN_VALUE;
    }
    long n = 0;
    for (; i < to; i++) {
      int d = b.get(i) - '0';
      if (d < 0 || d > 9) {
        return Long.MIN_VALUE;
      }
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }

  private static String text(ByteBuffer b, int from, int to) {
    byte[] out = new byte[Math.min(to - from, 200)];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(from + i);
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
