package ringkv.gossip;

import java.util.List;
import java.util.OptionalInt;
import java.util.function.ToIntFunction;

/** A test layout: shard {@code i} is {@code members.get(i)}, keys placed by {@code shardOf}. */
record ListLayout(List<List<String>> members, ToIntFunction<String> placement)
    implements ShardMap {
  @Override
  public int shardOf(String key) {
    return placement.applyAsInt(key);
  }

  @Override
  public List<String> membersOf(int shard) {
    return shard >= 0 && shard < members.size() ? members.get(shard) : List.of();
  }

  @Override
  public OptionalInt shardOfNode(String node) {
    for (int s = 0; s < members.size(); s++) {
      if (members.get(s).contains(node)) {
        return OptionalInt.of(s);
      }
    }
    return OptionalInt.empty();
  }

  @Override
  public List<String> nodes() {
    return members.stream().flatMap(List::stream).toList();
  }
}
