package ringkv.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import ringkv.node.engine.ClusterState;
import ringkv.node.engine.PeerLiveness;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Every kind of view change an operator asks for, turned into the configuration it installs: the
 * course routes of both dialects (which plan and commit at once) and the admin routes (which can
 * plan first) build changes here, so a change means the same whichever route asked for it.
 * Bad requests are 400s; a reshard without two live nodes per shard is the shard dialect's
 * "Not enough nodes".
 */
final class Proposals {
  /**
   * A change: the configuration it installs, nodes that take part though no detector tracks
   * them yet (a node joining), and what it is, for logs and plans.
   */
  record Proposal(ClusterConfig next, Set<NodeAddress> extra, String description) {}

  private Proposals() {}

  /** The proposal a request body names by its {@code "kind"} (the admin routes' form). */
  static Proposal of(ObjectNode body, ClusterState state, PeerLiveness liveness) {
    JsonNode kind = body.get("kind");
    String k = kind == null || !kind.isTextual() ? "" : kind.asText();
    return switch (k) {
      case "reshard" -> reshard(body, state, liveness);
      case "add-member" -> addMember(shardId(body.get("shard-id")), socketAddress(body), state);
      case "add-node" -> addNode(socketAddress(body), state);
      case "remove-node" -> removeNode(socketAddress(body), state);
      case "view-change" -> viewChange(body, state);
      default -> throw new KvException(ErrorCode.BAD_REQUEST, "\"kind\" must be one of "
          + "reshard, add-member, add-node, remove-node, view-change");
    };
  }

  static Proposal reshard(ObjectNode body, ClusterState state, PeerLiveness liveness) {
    JsonNode raw = body.get("shard-count");
    if (raw == null || !raw.canConvertToInt() || !raw.isIntegralNumber() || raw.asInt() < 1) {
      throw new KvException(ErrorCode.BAD_REQUEST, "\"shard-count\" must be a positive integer");
    }
    int count = raw.asInt();
    ClusterConfig c = state.current();
    List<NodeAddress> live = liveness.live(c.view());
    if (live.size() < 2L * count) { // long: 2 * count overflows for counts past 2^30
      throw new KvException(ErrorCode.NOT_ENOUGH_NODES);
    }
    return build(() -> c.reshard(live, count), Set.of(), "reshard to " + count + " shards");
  }

  static Proposal addMember(int shardId, NodeAddress node, ClusterState state) {
    ClusterConfig c = state.current();
    if (!c.ring().shardIds().contains(shardId)) {
      throw new KvException(ErrorCode.UNKNOWN_SHARD, "shard " + shardId + " does not exist");
    }
    return build(() -> c.withMember(shardId, node), Set.of(node),
        "add " + node + " to shard " + shardId);
  }

  static Proposal addNode(NodeAddress node, ClusterState state) {
    ClusterConfig c = state.current();
    if (c.view().contains(node)) {
      throw new KvException(ErrorCode.ADDRESS_EXISTS);
    }
    List<NodeAddress> view = new ArrayList<>(c.view());
    view.add(node);
    return build(() -> c.withView(view), Set.of(node), "add " + node + " to the view");
  }

  static Proposal removeNode(NodeAddress node, ClusterState state) {
    ClusterConfig c = state.current();
    if (!c.view().contains(node)) {
      throw new KvException(ErrorCode.ADDRESS_UNKNOWN);
    }
    List<NodeAddress> view = new ArrayList<>(c.view());
    view.remove(node);
    return build(() -> c.withView(view), Set.of(), "remove " + node + " from the view");
  }

  static Proposal viewChange(ObjectNode body, ClusterState state) {
    List<NodeAddress> view = parseView(body.get("view"));
    int factor = parseFactor(body.get("repl-factor"));
    if (view.size() % factor != 0) {
      throw new KvException(ErrorCode.BAD_REQUEST, "the " + view.size()
          + " nodes of the view are not a multiple of repl-factor " + factor);
    }
    ClusterConfig current = state.current();
    Set<NodeAddress> newcomers = new TreeSet<>(view);
    newcomers.removeAll(current.view());
    return build(() -> current.withViewAndReplication(view, factor), newcomers,
        "view of " + view.size() + " nodes, repl-factor " + factor);
  }

  private static Proposal build(java.util.function.Supplier<ClusterConfig> next,
      Set<NodeAddress> extra, String description) {
    try {
      return new Proposal(next.get(), extra, description);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
  }

  static NodeAddress socketAddress(ObjectNode body) {
    JsonNode raw = body.get("socket-address");
    if (raw == null || !raw.isTextual()) {
      throw new KvException(ErrorCode.BAD_REQUEST, "\"socket-address\" (host:port) is missing");
    }
    try {
      return NodeAddress.parse(raw.asText());
    } catch (IllegalArgumentException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
  }

  private static int shardId(JsonNode raw) {
    if (raw != null && raw.isIntegralNumber() && raw.canConvertToInt()) {
      return raw.asInt();
    }
    if (raw != null && raw.isTextual()) {
      return Requests.shardId(raw.asText());
    }
    throw new KvException(ErrorCode.BAD_REQUEST, "\"shard-id\" is missing");
  }

  /** {@code "a:p,b:p"} (or a JSON array of addresses); 400 when missing or malformed. */
  static List<NodeAddress> parseView(JsonNode raw) {
    String csv;
    if (raw != null && raw.isTextual()) {
      csv = raw.asText();
    } else if (raw != null && raw.isArray()) {
      List<String> items = new ArrayList<>();
      for (JsonNode item : raw) {
        if (!item.isTextual()) {
          throw new KvException(ErrorCode.BAD_REQUEST, "\"view\" lists a non-string " + item);
        }
        items.add(item.asText());
      }
      csv = String.join(",", items);
    } else {
      throw new KvException(ErrorCode.BAD_REQUEST,
          "\"view\" (comma-separated host:port addresses) is missing");
    }
    try {
      return NodeAddress.parseList(csv);
    } catch (IllegalArgumentException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, e.getMessage());
    }
  }

  static int parseFactor(JsonNode raw) {
    if (raw != null && raw.isIntegralNumber() && raw.canConvertToInt() && raw.asInt() >= 1) {
      return raw.asInt();
    }
    if (raw != null && raw.isTextual() && raw.asText().trim().matches("[0-9]{1,9}")) {
      int factor = Integer.parseInt(raw.asText().trim());
      if (factor >= 1) {
        return factor;
      }
    }
    throw new KvException(ErrorCode.BAD_REQUEST, "\"repl-factor\" must be a positive integer");
  }
}
