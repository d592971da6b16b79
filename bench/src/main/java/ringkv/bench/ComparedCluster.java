package ringkv.bench;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One side of {@code --compare redis}: a local cluster the comparison starts, routes requests
 * into (each key straight to the server that serves it) and stops. Not thread-safe: the
 * comparison's main thread uses it.
 */
interface ComparedCluster extends AutoCloseable {
  /** {@code "ringkv"} or {@code "redis"}, as in the report's JSON. */
  String name();

  /** One line: what runs (processes, flags, versions). */
  String describe();

  /**
   * Where the requests of a started cluster go: {@code targets}, the servers, in a fixed order,
   * and {@code ownerOf}, the one of them a request for a key goes to.
   */
  record Routes(List<String> targets, UnaryOperator<String> ownerOf) {}

  /**
   * Starts the servers and returns, once the cluster serves with every replica in place, where
   * requests go.
   */
  Routes start() throws IOException;

  /** Every server process, pid to a label ({@code "127.0.0.1:7001 master"}). */
  Map<Long, String> servers();

  /** The GET and PUT/SET of {@code key} as sent to {@code owner}. */
  LoadGenerator.Requests requests(String owner, String key, String value);

  /** A reply checker for one connection; GET answers carry {@code valueBytes} of value. */
  LoadGenerator.ReplyParser newParser(int valueBytes);

  /** Stops every process it started. Idempotent. */
  @Override
  void close();
}
