package ringkv.client;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a client test opened — the nodes that play the cluster and the clients under test —
 * closed after each test, the clients first. Registered with {@code @RegisterExtension}.
 *
 * @param <N> the kind of node the test plays the cluster with
 */
final class Opened<N extends AutoCloseable> implements AfterEachCallback {
  private final List<N> nodes = new ArrayList<>();
  private final List<RingKvClient> clients = new ArrayList<>();

  /** Closes {@code node} after the test; returns it. */
  N node(N node) {
    nodes.add(node);
    return node;
  }

  /** Every node opened so far, in order. */
  List<N> nodes() {
    return nodes;
  }

  /** Builds a client that is closed after the test. */
  RingKvClient client(RingKvClient.Builder builder) {
    RingKvClient client = builder.build();
    clients.add(client);
    return client;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    clients.forEach(RingKvClient::close);
    for (N node : nodes) {
      node.close();
    }
  }
}
