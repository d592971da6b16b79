package ringkv.node.time;

/**
 * The node's one source of wall-clock time. Every reading of "now" in the node goes through it,
 * so a test can run the node on a clock it moves itself; timers still run on Vert.x.
 */
@FunctionalInterface
public interface Clock {
  /** Milliseconds since the epoch. */
  long millis();

  /** The machine's clock. */
  Clock SYSTEM = System::currentTimeMillis;
}
