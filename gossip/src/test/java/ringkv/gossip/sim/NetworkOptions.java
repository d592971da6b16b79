package ringkv.gossip.sim;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Random;

/**
 * How the simulated network mistreats each message (after partitions, which are separate):
 * dropped with {@code dropProbability}, delivered twice with {@code duplicateProbability}, and
 * delayed uniformly in [{@code delayMsMin}, {@code delayMsMax}]; independent delays reorder
 * messages. With {@code stragglerProbability} a copy is a straggler instead, delayed uniformly
 * in [{@code delayMsMax}, {@code stragglerDelayMsMax}] (a stalled connection or a paused
 * process: a reply that arrives long after the state it describes has moved on). Modelled on
 * TigerBeetle's {@code PacketSimulatorOptions}.
 */
public record NetworkOptions(
    double dropProbability, double duplicateProbability, long delayMsMin, long delayMsMax,
    double stragglerProbability, long stragglerDelayMsMax) {

  public NetworkOptions {
    checkArgument(dropProbability >= 0 && dropProbability < 1, "dropProbability in [0, 1)");
    checkArgument(duplicateProbability >= 0 && duplicateProbability < 1,
        "duplicateProbability in [0, 1)");
    checkArgument(delayMsMin >= 1, "delayMsMin must be >= 1");
    checkArgument(delayMsMax >= delayMsMin, "delayMsMax < delayMsMin");
    checkArgument(stragglerProbability >= 0 && stragglerProbability < 1,
        "stragglerProbability in [0, 1)");
    checkArgument(stragglerDelayMsMax >= delayMsMax, "stragglerDelayMsMax < delayMsMax");
  }

  /** No stragglers. */
  public NetworkOptions(
      double dropProbability, double duplicateProbability, long delayMsMin, long delayMsMax) {
    this(dropProbability, duplicateProbability, delayMsMin, delayMsMax, 0, delayMsMax);
  }

  /** No loss, no duplicates, a fixed 1 ms delay (so no reordering): the healed network. */
  public static NetworkOptions perfect() {
    return new NetworkOptions(0, 0, 1, 1);
  }

  /**
   * A random faulty network: up to 30% loss, 20% duplicates, 300 ms of delay spread, and half
   * the time up to 5% stragglers delayed up to 3 s (the real node's longest wait for a pull).
   */
  public static NetworkOptions random(Random random) {
    if (random.nextInt(4) == 0) {
      return perfect();
    }
    long delayMsMin = 1 + random.nextInt(20);
    long delayMsMax = delayMsMin + random.nextInt(300);
    double stragglers = random.nextBoolean() ? random.nextDouble() * 0.05 : 0;
    return new NetworkOptions(random.nextDouble() * 0.3, random.nextDouble() * 0.2, delayMsMin,
        delayMsMax, stragglers, stragglers == 0 ? delayMsMax : delayMsMax + random.nextInt(3_000));
  }

  @Override
  public String toString() {
    return String.format("drop=%.2f dup=%.2f delay=%d..%dms stragglers=%.3f..%dms",
        dropProbability, duplicateProbability, delayMsMin, delayMsMax, stragglerProbability,
        stragglerDelayMsMax);
  }
}
