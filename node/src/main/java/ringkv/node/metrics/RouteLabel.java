package ringkv.node.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;

/**
 * The {@code route} and {@code dialect} labels of a request: the route's template
 * ({@code /key-value-store/{key}}), never the raw path, so the label set is bounded by the routes
 * the node serves (plus {@code other} for paths it does not serve). Every label is built once,
 * here; a request finds its label with a few prefix checks and no string building.
 */
public final class RouteLabel {
  private static final List<RouteLabel> ALL = new ArrayList<>();
  private static final Map<String, RouteLabel> EXACT = new HashMap<>();
  /** Templates whose last segment is a parameter: {@code prefix} then the parameter. */
  private static final List<RouteLabel> PREFIXED = new ArrayList<>();

  public static final RouteLabel SHARD_KEY =
      prefixed("/key-value-store/", "{key}", Dialects.SHARD, true);
  public static final RouteLabel KVS_KEY = prefixed("/kvs/keys/", "{key}", Dialects.KVS, true);
  public static final RouteLabel OTHER = new RouteLabel("other", Dialects.OTHER);

  static {
    EXACT.put("/key-value-store", SHARD_KEY); // an empty key: answered by the key route
    exact("/key-value-store-view", Dialects.SHARD);
    exact("/key-value-store-shard/shard-ids", Dialects.SHARD);
    exact("/key-value-store-shard/node-shard-id", Dialects.SHARD);
    exact("/key-value-store-shard/reshard", Dialects.SHARD);
    prefixed("/key-value-store-shard/shard-id-members/", "{id}", Dialects.SHARD, false);
    prefixed("/key-value-store-shard/shard-id-key-count/", "{id}", Dialects.SHARD, false);
    prefixed("/key-value-store-shard/add-member/", "{id}", Dialects.SHARD, false);
    exact("/kvs/key-count", Dialects.KVS);
    exact("/kvs/shards", Dialects.KVS);
    exact("/kvs/view-change", Dialects.KVS);
    prefixed("/kvs/shards/", "{id}", Dialects.KVS, false);
    exact("/ring", Dialects.COMMON);
    prefixed("/ring/key/", "{key}", Dialects.COMMON, true);
    exact("/health/live", Dialects.COMMON);
    exact("/health/ready", Dialects.COMMON);
    exact("/metrics", Dialects.COMMON);
    exact("/ui", Dialects.COMMON);
    prefixed("/ui/", "{asset}", Dialects.COMMON, true);
    for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
      exact(route.path(), Dialects.INTERNAL);
    }
  }

  /** Label values of the {@code dialect} label. */
  static final class Dialects {
    static final String SHARD = "shard";
    static final String KVS = "view-change";
    static final String INTERNAL = "internal";
    static final String COMMON = "common";
    static final String OTHER = "other";

    private Dialects() {}
  }

  private final String template;
  private final String dialect;
  private final int index;
  private final String prefix;
  /** Whether the parameter may span several segments (keys may hold '/'). */
  private final boolean anyRest;

  private RouteLabel(String template, String dialect) {
    this(template, dialect, null, false);
  }

  private RouteLabel(String template, String dialect, String prefix, boolean anyRest) {
    this.template = template;
    this.dialect = dialect;
    this.prefix = prefix;
    this.anyRest = anyRest;
    this.index = ALL.size();
    ALL.add(this);
  }

  private static RouteLabel exact(String path, String dialect) {
    RouteLabel label = new RouteLabel(path, dialect);
    EXACT.put(path, label);
    return label;
  }

  private static RouteLabel prefixed(String prefix, String parameter, String dialect,
      boolean anyRest) {
    RouteLabel label = new RouteLabel(prefix + parameter, dialect, prefix, anyRest);
    PREFIXED.add(label);
    return label;
  }

  /** The label of a request for {@code path} (the raw path, query excluded). */
  public static RouteLabel of(String path) {
    String p = path.length() > 1 && path.endsWith("/")
        ? path.substring(0, path.length() - 1) : path;
    RouteLabel exact = EXACT.get(p);
    if (exact != null) {
      return exact;
    }
    for (RouteLabel r : PREFIXED) {
      if (p.length() > r.prefix.length() && p.startsWith(r.prefix)
          && (r.anyRest || p.indexOf('/', r.prefix.length()) < 0)) {
        return r;
      }
    }
    return OTHER;
  }

  /** Every label, in index order. */
  public static List<RouteLabel> all() {
    return Collections.unmodifiableList(ALL);
  }

  public String template() {
    return template;
  }

  public String dialect() {
    return dialect;
  }

  int index() {
    return index;
  }

  @Override
  public String toString() {
    return template;
  }
}
