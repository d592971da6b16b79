package ringkv.node.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import ringkv.gossip.EpochBound;
import ringkv.gossip.ShardMap;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The one owner of a node's configuration state: the configuration installed, the view change
 * being prepared ({@link ViewChangeParticipant}), and whether this replica is still copying its
 * shard's data (catching up). Others read it; only {@link ViewChanges} installs a configuration
 * and only {@link CatchUp} starts and ends a catch-up.
 *
 * <p>Not thread-safe; confine to the node's event loop.
 */
public final class ClusterState {
  private final NodeAddress self;
  private final EpochBound epochs;
  private final ViewChangeParticipant participant;
  private ClusterConfig current;
  private boolean catchingUp;
  /** Live keys held for shards this node does not serve yet (copied for a view change). */
  private long foreignLive;

  public ClusterState(NodeAddress self, ClusterConfig initial, EpochBound epochs) {
    this.self = Objects.requireNonNull(self, "self");
    this.current = Objects.requireNonNull(initial, "initial");
    this.epochs = Objects.requireNonNull(epochs, "epochs");
    this.participant = new ViewChangeParticipant(epochs);
  }

  /** Which epochs this node accepts after its own (EPOCH_AHEAD_MAX). */
  public EpochBound epochs() {
    return epochs;
  }

  public NodeAddress self() {
    return self;
  }

  public ClusterConfig current() {
    return current;
  }

  /**
   * The configuration being installed by a view change once its stop began (key-value requests
   * are refused until it commits or aborts).
   */
  public Optional<ClusterConfig> pending() {
    return participant.pending();
  }

  /** The configuration a view change under way (copying or stopped) installs. */
  public Optional<ClusterConfig> underWay() {
    return participant.underWay();
  }

  /** Live keys this node holds for shards it does not serve yet (a view change's copies). */
  public long foreignLive() {
    return foreignLive;
  }

  void addForeignLive(long delta) {
    foreignLive = Math.max(0, foreignLive + delta);
  }

  void clearForeignLive() {
    foreignLive = 0;
  }

  ViewChangeParticipant participant() {
    return participant;
  }

  /** Installs {@code next}; returns the configuration it replaces. */
  ClusterConfig install(ClusterConfig next) {
    ClusterConfig previous = current;
    current = Objects.requireNonNull(next, "next");
    participant.onInstalled(next);
    return previous;
  }

  public boolean catchingUp() {
    return catchingUp;
  }

  void startCatchingUp() {
    catchingUp = true;
  }

  void endCatchingUp() {
    catchingUp = false;
  }

  /** Whether this node holds {@code key} under {@code c}. */
  public boolean owns(ClusterConfig c, String key) {
    return c.membersOf(c.shardOf(key)).contains(self);
  }

  /**
   * Whether peers' replicated writes are applied now: not once this node's transfer began, until
   * the change ends ({@link ViewChangeParticipant#takesReplicatedWrites}).
   */
  public boolean takesReplicatedWrites() {
    return participant().takesReplicatedWrites();
  }

  /** Whether a peer's write of {@code key} belongs here now or after the change prepared. */
  public boolean acceptsReplicated(String key) {
    return owns(current, key) || pending().map(p -> owns(p, key)).orElse(false);
  }

  /** The other members of this node's shard. */
  public List<NodeAddress> shardPeers() {
    OptionalInt shard = current.shardOfNode(self);
    return shard.isEmpty() ? List.of() : current.membersOf(shard.getAsInt()).stream()
        .filter(m -> !m.equals(self)).toList();
  }

  /** The other nodes of the view. */
  public List<NodeAddress> others() {
    return current.view().stream().filter(a -> !a.equals(self)).toList();
  }

  /** The configuration as the protocol core sees it. */
  public static ShardMap shardMap(ClusterConfig c) {
    return new ConfigShardMap(c);
  }

  /**
   * {@link ShardMap} over a configuration; node ids are addresses as text. Immutable; the
   * lookups the protocol core makes on every request (a shard's members, a node's shard, the
   * view) are answered from tables built once, at layout install.
   */
  private static final class ConfigShardMap implements ShardMap {
    private final ClusterConfig c;
    private final List<String> nodes;
    private final Map<String, Integer> shardOfNode = new HashMap<>();
    private final Map<Integer, List<String>> members = new HashMap<>();

    ConfigShardMap(ClusterConfig c) {
      this.c = c;
      this.nodes = c.view().stream().map(NodeAddress::toString).toList();
      for (NodeAddress a : c.view()) {
        c.shardOfNode(a).ifPresent(s -> shardOfNode.put(a.toString(), s));
      }
      for (int s : c.layout().shardIds()) {
        members.put(s, c.membersOf(s).stream().map(NodeAddress::toString).toList());
      }
    }

    @Override
    public int shardOf(String key) {
      return c.shardOf(key);
    }

    @Override
    public List<String> membersOf(int shard) {
      return members.getOrDefault(shard, List.of());
    }

    @Override
    public OptionalInt shardOfNode(String node) {
      Integer s = shardOfNode.get(node);
      return s == null ? OptionalInt.empty() : OptionalInt.of(s);
    }

    @Override
    public List<String> nodes() {
      return nodes;
    }
  }
}
