package ringkv.gossip.sim;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Models an unreliable network between simulated nodes: a priority queue of deliveries ordered by
 * (delivery time, sequence number), so runs are reproducible. Each send may be dropped,
 * duplicated, delayed and made a straggler according to the current {@link NetworkOptions};
 * independent delays reorder messages. Partitions are a set of blocked directed links
 * (symmetric partitions block both directions, asymmetric ones a single direction); a blocked
 * link loses what is sent on it and what was in flight on it when it is delivered.
 * {@link #heal()} unblocks every link. All randomness comes from the simulation's one seeded
 * {@link Random}. Modelled on etcd's raft test {@code network} and TigerBeetle's packet
 * simulator.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
public final class SimNetwork {

  /** One message due at {@code atMs}; {@code seq} breaks ties in send order. */
  public record Delivery(long atMs, long seq, String from, String to, SimMessage message) {}

  /** A directed link. */
  public record Link(String from, String to) {}

  /** Counters over the whole run. */
  public record Counters(long sent, long dropped, long duplicated, long cut, long delivered) {}

  private final Random random;
  private final SimClock clock;
  private final PriorityQueue<Delivery> deliveries = new PriorityQueue<>(
      Comparator.comparingLong(Delivery::atMs).thenComparingLong(Delivery::seq));
  private final Set<Link> blocked = new HashSet<>();
  private NetworkOptions options = NetworkOptions.perfect();
  private long nextSeq;
  private long sent;
  private long dropped;
  private long duplicated;
  private long cut;
  private long delivered;

  public SimNetwork(Random random, SimClock clock) {
    this.random = Objects.requireNonNull(random, "random");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public NetworkOptions options() {
    return options;
  }

  public void setOptions(NetworkOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  /** Blocks the directed link {@code from -> to} (an asymmetric partition). */
  public void block(String from, String to) {
    checkArgument(!from.equals(to), "a node always reaches itself");
    blocked.add(new Link(from, to));
  }

  /** Blocks every link between {@code side} and the rest of {@code all}, both ways. */
  public void partition(Collection<String> side, Collection<String> all) {
    for (String inside : side) {
      for (String outside : all) {
        if (!side.contains(outside)) {
          block(inside, outside);
          block(outside, inside);
        }
      }
    }
  }

  /** Unblocks every link; messages already lost stay lost. */
  public void heal() {
    blocked.clear();
  }

  public boolean isBlocked(String from, String to) {
    return blocked.contains(new Link(from, to));
  }

  /** Hands {@code message} to the network: it arrives zero, one or two times, later. */
  public void send(String from, String to, SimMessage message) {
    sent++;
    if (isBlocked(from, to) || random.nextDouble() < options.dropProbability()) {
      dropped++;
      return;
    }
    schedule(from, to, message);
    if (random.nextDouble() < options.duplicateProbability()) {
      duplicated++;
      schedule(from, to, message);
    }
  }

  private void schedule(String from, String to, SimMessage message) {
    boolean straggler = options.stragglerProbability() > 0
        && random.nextDouble() < options.stragglerProbability();
    long min = straggler ? options.delayMsMax() : options.delayMsMin();
    long spread = (straggler ? options.stragglerDelayMsMax() : options.delayMsMax()) - min;
    long delay = min + (spread == 0 ? 0 : random.nextLong(spread + 1));
    deliveries.add(new Delivery(clock.nowMs() + delay, nextSeq++, from, to, message));
  }

  /** The next delivery due by now whose link is open, or null; cut deliveries are dropped. */
  public Delivery poll() {
    while (!deliveries.isEmpty() && deliveries.peek().atMs() <= clock.nowMs()) {
      Delivery next = deliveries.poll();
      if (isBlocked(next.from(), next.to())) {
        cut++;
        continue;
      }
      delivered++;
      return next;
    }
    return null;
  }

  /**
   * Drops every message in flight from or to {@code node}: its process died, and with it its
   * connections (what it had not sent yet, and what was on its way to it).
   */
  public void purge(String node) {
    deliveries.removeIf(d -> d.from().equals(node) || d.to().equals(node));
  }

  /** Messages scheduled but not yet delivered (or cut). */
  public int inFlight() {
    return deliveries.size();
  }

  public Counters counters() {
    return new Counters(sent, dropped, duplicated, cut, delivered);
  }

  /** One status line: options, blocked links, messages in flight. */
  public String describe() {
    Set<String> links = new TreeSet<>();
    blocked.forEach(l -> links.add(l.from() + "->" + l.to()));
    return "network " + options + " inFlight=" + deliveries.size() + " blocked=" + links;
  }
}
