package ringkv.tests.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A minimal HTTP/1.1 client over a Unix domain socket, for nodes that live in a network namespace
 * the test JVM cannot reach over TCP (see {@link NetnsCluster}): a bridge inside the namespace
 * relays the socket to the node's TCP address. One request per connection
 * ({@code Connection: close}): request line, headers with {@code Content-Length}, body; then the
 * status line, headers and the body up to end of stream (de-chunked if the server chunked it).
 *
 * <p>Every call is bounded by {@link Http#REQUEST_TIMEOUT_MS}: a watchdog closes the channel at
 * the deadline, which ends a blocked read. Transport failures (no bridge, the bridge could not
 * reach the node, timeout) throw {@link AssertionError}, as {@link Http} does. Thread-safe.
 */
public final class UnixHttp {
  /** Largest response read; a node's bodies are far smaller. */
  private static final int RESPONSE_BYTES_MAX = 16 << 20;
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ringkv-unix-http-watchdog");
        t.setDaemon(true);
        return t;
      });

  private UnixHttp() {}

  /**
   * Sends {@code method path} with {@code rawBody} (null: no body) through {@code socket};
   * {@code host} is the Host header (the node's address).
   */
  public static Http.Reply send(Path socket, String host, String method, String path,
      String rawBody) {
    return send(socket, host, method, path, rawBody, Duration.ofMillis(Http.REQUEST_TIMEOUT_MS));
  }

  static Http.Reply send(Path socket, String host, String method, String path, String rawBody,
      Duration timeout) {
    String what = method + " " + path + " via " + socket;
    byte[] body = rawBody == null ? new byte[0] : rawBody.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder()
        .append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host).append("\r\n")
        .append("Connection: close\r\n")
        .append("Content-Length: ").append(body.length).append("\r\n");
    if (rawBody != null) {
      head.append("Content-Type: application/json\r\n");
    }
    head.append("\r\n");
    byte[] response;
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> closeQuietly(channel),
          timeout.toMillis(), TimeUnit.MILLISECONDS);
      try {
        channel.connect(UnixDomainSocketAddress.of(socket));
        writeFully(channel, head.toString().getBytes(StandardCharsets.US_ASCII));
        writeFully(channel, body);
        response = readToEnd(channel, what);
      } finally {
        watchdog.cancel(false);
      }
    } catch (IOException e) {
      throw new AssertionError(what + " failed (or took over " + timeout.toMillis() + " ms): "
          + e, e);
    }
    return parse(response, what);
  }

  private static void writeFully(SocketChannel channel, byte[] bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  private static byte[] readToEnd(SocketChannel channel, String what) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (channel.read(buffer) >= 0) {
      out.write(buffer.array(), 0, buffer.position());
      buffer.clear();
      if (out.size() > RESPONSE_BYTES_MAX) {
        throw new AssertionError(what + ": response over " + RESPONSE_BYTES_MAX + " bytes");
      }
    }
    return out.toByteArray();
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Kept by the watchdog's future; the blocked reader fails on the closed channel anyway.
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Http.Reply parse(byte[] response, String what) {
    int end = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    if (end < 0) {
      // Not a byte (an EOFException cause): the bridge could not connect to the node, or the
      // connection died; callers that know the node lived throughout tell the two apart.
      throw new AssertionError(what + ": no HTTP response (" + response.length
          + " bytes; the node is not listening?)", response.length == 0
          ? new EOFException("closed without a byte of response") : null);
    }
    String[] lines = new String(response, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      throw new AssertionError(what + ": bad status line " + lines[0]);
    }
    Map<String, List<String>> headers = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            k -> new ArrayList<>()).add(lines[i].substring(colon + 1).trim());
      }
    }
    byte[] rest = java.util.Arrays.copyOfRange(response, end + 4, response.length);
    List<String> encoding = headers.getOrDefault("transfer-encoding", List.of());
    List<String> length = headers.getOrDefault("content-length", List.of());
    byte[] body;
    if (encoding.stream().anyMatch(e -> e.equalsIgnoreCase("chunked"))) {
      body = dechunk(rest, what);
    } else if (!length.isEmpty()) {
      int n = Integer.parseInt(length.get(0));
      if (rest.length < n) {
        throw new AssertionError(what + ": body cut at " + rest.length + " of " + n + " bytes");
      }
      body = java.util.Arrays.copyOf(rest, n);
    } else {
      body = rest;
    }
    String text = new String(body, StandardCharsets.UTF_8);
    return new Http.Reply(Integer.parseInt(status[1]), parseJson(text), headers, text);
  }

  private static byte[] dechunk(byte[] data, String what) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (true) {
      int lineEnd = indexOf(data, at, "\r\n".getBytes(StandardCharsets.US_ASCII));
      if (lineEnd < 0) {
        throw new AssertionError(what + ": truncated chunked body");
      }
      String size = new String(data, at, lineEnd - at, StandardCharsets.US_ASCII).split(";")[0];
      int n = Integer.parseInt(size.trim(), 16);
      if (n == 0) {
        return out.toByteArray();
      }
      if (lineEnd + 2 + n > data.length) {
        throw new AssertionError(what + ": truncated chunk");
      }
      out.write(data, lineEnd + 2, n);
      at = lineEnd + 2 + n + 2;
    }
  }

  private static JsonNode parseJson(String text) {
    if (text.isBlank()) {
      return null;
    }
    try {
      return Http.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static int indexOf(byte[] data, byte[] pattern) {
    return indexOf(data, 0, pattern);
  }

  private static int indexOf(byte[] data, int from, byte[] pattern) {
    outer:
    for (int i = from; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
