package ringkv.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Checks of what callers pass ({@code host:port} addresses, keys, JSON values), the
 * percent-encoding of keys, and the wait of the blocking calls. Pure helpers; thread-safe.
 */
final class Requests {
  private Requests() {}

  /** Waits for {@code future}; rethrows its {@link RingKvException} as is. */
  static <T> T join(CompletableFuture<T> future, long timeoutMs) {
    try {
      return future.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted");
    } catch (java.util.concurrent.TimeoutException e) {
      throw new RingKvException(RingKvException.Kind.TIMEOUT, 0, "timeout", null,
          "no answer within " + timeoutMs + " ms", e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    }
  }

  private static Throwable unwrap(Throwable t) {
    Throwable out = t;
    while ((out instanceof CompletionException || out instanceof ExecutionException)
        && out.getCause() != null) {
      out = out.getCause();
    }
    return out;
  }

  /** Percent-encodes a key for the path: UTF-8, every byte but unreserved characters. */
  static String encodeKey(String key) {
    if (isUnreserved(key)) {
      return key; // the usual key needs no encoding
    }
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length + 8);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (isUnreserved(c)) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static boolean isUnreserved(String key) {
    for (int i = 0; i < key.length(); i++) {
      if (!isUnreserved(key.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isUnreserved(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** @throws IllegalArgumentException if {@code key} is empty */
  static String requireKey(String key) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("key must not be empty");
    }
    return key;
  }

  /** @throws IllegalArgumentException if {@code valueJson} is not exactly one JSON value */
  static void requireJsonValue(String valueJson) {
    Objects.requireNonNull(valueJson, "valueJson");
    try (var p = GetResult.EXACT.getFactory().createParser(valueJson)) {
      if (p.nextToken() == null) {
        throw new IllegalArgumentException("value is empty");
      }
      p.skipChildren();
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("value is more than one JSON value: " + valueJson);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("value is not JSON: " + e.getMessage(), e);
    }
  }

  /** @throws IllegalArgumentException if {@code address} is not {@code host:port} */
  static String requireAddress(String address) {
    Objects.requireNonNull(address, "address");
    int colon = address.lastIndexOf(':');
    if (colon < 1 || colon == address.length() - 1) {
      throw new IllegalArgumentException("address must be host:port, got " + address);
    }
    try {
      int port = Integer.parseInt(address.substring(colon + 1));
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("port out of range in " + address);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("address must be host:port, got " + address, e);
    }
    return address;
  }
}
