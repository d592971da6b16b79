package ringkv.ring;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.common.base.Preconditions;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Which replica of a shard serves a key when a request must be sent to one of them (a forwarding
 * node, a ring-aware client): rendezvous (highest random weight) hashing. Every member gets a
 * weight {@code murmur3_128(key, member)}; members are tried in decreasing weight. So the same
 * key always goes to the same member while it is live, a client going through one node reads
 * its own writes even without metadata, and when that member is down only its keys move to
 * their next choice.
 *
 * <p>The node and the client library both call this class, so they pick the same replica.
 *
 * <p>Stateless; thread-safe.
 */
public final class Rendezvous {
  private Rendezvous() {}

  /** The weight of {@code member} for {@code key}; higher is preferred. */
  public static long weight(String key, String member) {
    Preconditions.checkNotNull(key, "key");
    Preconditions.checkNotNull(member, "member");
    Hasher h = Hashing.murmur3_128().newHasher();
    h.putInt(key.length()).putString(key, UTF_8).putString(member, UTF_8);
    return h.hash().asLong();
  }

  /**
   * {@code members} in the order a request for {@code key} tries them: decreasing weight, ties
   * (practically impossible) broken by the members' own order as given. Does not change the
   * argument.
   */
  public static <T> List<T> order(String key, List<T> members, Function<T, String> name) {
    List<T> out = new ArrayList<>(members);
    if (out.size() > 1) {
      List<Long> weights = new ArrayList<>(out.size());
      for (T m : out) {
        weights.add(weight(key, name.apply(m)));
      }
      List<Integer> index = new ArrayList<>();
      for (int i = 0; i < out.size(); i++) {
        index.add(i);
      }
      index.sort(Comparator.comparing((Integer i) -> weights.get(i)).reversed()
          .thenComparing(i -> i));
      List<T> sorted = new ArrayList<>(out.size());
      for (int i : index) {
        sorted.add(out.get(i));
      }
      return sorted;
    }
    return out;
  }

  /** {@link #order} for addresses. */
  public static List<NodeAddress> order(String key, List<NodeAddress> members) {
    return order(key, members, NodeAddress::toString);
  }

  /** {@link #order} for addresses written as {@code host:port} strings. */
  public static List<String> orderNames(String key, List<String> members) {
    return order(key, members, s -> s);
  }
}
