package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * HTTP(S) to the nodes of one cluster: every request has a timeout, carries the bearer token its
 * route needs ({@code ADMIN_TOKEN} for everything but key-value requests, which carry
 * {@code CLIENT_TOKEN}) when the environment has one, and comes back as a {@link Reply} or as a
 * {@link CliException} that says why no answer came. Thread-safe.
 */
final class NodeClient {
  /** Which token a request carries. */
  enum Credential { ADMIN, CLIENT }

  /** One request: method, path (already encoded), JSON body or null, token, timeout. */
  record Request(String method, String path, JsonNode body, Credential credential,
      Duration timeout) {
    static Request get(String path) {
      return admin("GET", path, null);
    }

    /** A request with the admin token and the default timeout. */
    static Request admin(String method, String path, JsonNode body) {
      return new Request(method, path, body, Credential.ADMIN, null);
    }

    Request withTimeout(Duration t) {
      return new Request(method, path, body, credential, t);
    }
  }

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  private final HttpClient http;
  private final String scheme;
  private final Map<String, String> env;
  private final Duration timeout;

  NodeClient(String scheme, SSLContext tls, Map<String, String> env, Duration timeout) {
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout.compareTo(CONNECT_TIMEOUT) < 0 ? timeout : CONNECT_TIMEOUT);
    if (tls != null) {
      b.sslContext(tls);
    }
    this.http = b.build();
    this.scheme = scheme;
    this.env = Map.copyOf(env);
    this.timeout = timeout;
  }

  String scheme() {
    return scheme;
  }

  /** Sends {@code r} to the node at {@code address} (host:port) and waits for its answer. */
  Reply send(String address, Request r) {
    try {
      return sendAsync(address, r).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof CliException c ? c : e;
    }
  }

  /** Like {@link #send}, without waiting; fails with a {@link CliException}. */
  CompletableFuture<Reply> sendAsync(String address, Request r) {
    URI uri = URI.create(scheme + "://" + address + r.path());
    HttpRequest.Builder b = HttpRequest.newBuilder(uri)
        .timeout(r.timeout() == null ? timeout : r.timeout())
        .header("Accept", "application/json")
        .method(r.method(), r.body() == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(Json.compact(r.body())));
    if (r.body() != null) {
      b.header("Content-Type", "application/json");
    }
    String token = env.get(r.credential() == Credential.CLIENT ? "CLIENT_TOKEN" : "ADMIN_TOKEN");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
        .handle((response, error) -> {
          if (error != null) {
            throw new CompletionException(unreachable(address, r, error));
          }
          return new Reply(address, r.method(), r.path(), response.statusCode(),
              parse(response.body()), response.body());
        });
  }

  private static JsonNode parse(String body) {
    try {
      return body.isBlank() ? MissingNode.getInstance() : Json.MAPPER.readTree(body);
    } catch (IOException e) {
      return MissingNode.getInstance();
    }
  }

  private CliException unreachable(String address, Request r, Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
    String what = r.method() + " " + scheme + "://" + address + r.path();
    String why;
    if (e instanceof HttpTimeoutException) {
      why = "no answer within " + describe(r.timeout() == null ? timeout : r.timeout());
    } else if (e instanceof ConnectException) {
      why = "connection refused or unreachable";
    } else if (e instanceof SSLException) {
      why = "TLS failed (" + e.getMessage() + "): does the node serve HTTPS, and is --cacert "
          + "the CA of its certificate?";
    } else if (e instanceof IOException && !"https".equals(scheme)
        && String.valueOf(e.getMessage()).contains("header parser")) {
      why = "not an HTTP answer (does the node serve HTTPS? use --tls or https://)";
    } else {
      why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
    return new CliException(ExitCode.UNREACHABLE, what + ": " + why, e);
  }

  static String describe(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
