package ringkv.gossip.sim;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Random;

/**
 * How the simulated network mistreats each message (after partitions, which are separate):
 * dropped with {@code dropProbability}, delivered twice with {@code duplicateProbability}, and
 * delayed uniformly in [{@code delayMsMin}, {@code delayMsMax}]; independent delays reorder
 * messages. Modelled on TigerBeetle's {@code PacketSimulatorOptions}.
 */
public record NetworkOptions(
    double dropProbability, double duplicateProbability, long delayMsMin, long delayMsMax) {

  public NetworkOptions {
    checkArgument(dropProbability >= 0 && dropProbability < 1, "dropProbability in [0, 1)");
    checkArgument(duplicateProbability >= 0 && duplicateProbability < 1,
        "duplicateProbability in [0, 1)");
    checkArgument(delayMsMin >= 1, "delayMsMin must be >= 1");
    checkArgument(delayMsMax >= delayMsMin, "delayMsMax < delayMsMin");
  }

  /** No loss, no duplicates, a fixed 1 ms delay (so no reordering): the healed network. */
  public static NetworkOptions perfect() {
    return new NetworkOptions(0, 0, 1, 1);
  }

  /** A random faulty network: up to 30% loss, 20% duplicates, 300 ms of delay spread. */
  public static NetworkOptions random(Random random) {
    if (random.nextInt(4) == 0) {
      return perfect();
    }
    long delayMsMin = 1 + random.nextInt(20);
    long delayMsMax = delayMsMin + random.nextInt(300);
    return new NetworkOptions(
        random.nextDouble() * 0.3, random.nextDouble() * 0.2, delayMsMin, delayMsMax);
  }

  @Override
  public String toString() {
    return String.format("drop=%.2f dup=%.2f delay=%d..%dms",
        dropProbability, duplicateProbability, delayMsMin, delayMsMax);
  }
}
