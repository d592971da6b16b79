package ringkv.gossip;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.OptionalLong;

/**
 * How far a view change's copy of keys has come: keys and bytes done out of the total, since
 * when, and from that a rate and an estimate of the time left. One per sender; the coordinator
 * adds them up ({@link #plus}).
 *
 * @param keysTotal keys to send (known before the copy starts)
 * @param keysDone keys sent and acknowledged
 * @param bytesDone bytes sent and acknowledged
 * @param startedMs when the copy started (0: not started)
 * @param nowMs when this was measured
 */
public record TransferProgress(long keysTotal, long keysDone, long bytesDone, long startedMs,
    long nowMs) {
  public TransferProgress {
    checkArgument(keysTotal >= 0 && keysDone >= 0 && bytesDone >= 0, "negative progress");
  }

  public static TransferProgress none(long nowMs) {
    return new TransferProgress(0, 0, 0, 0, nowMs);
  }

  /** Keys per second so far (0 before any key or any time passed). */
  public double keysPerSecond() {
    long elapsed = nowMs - startedMs;
    return startedMs <= 0 || elapsed <= 0 ? 0 : keysDone * 1000.0 / elapsed;
  }

  /** Milliseconds left at the rate so far; empty while no rate is known. */
  public OptionalLong etaMs() {
    double rate = keysPerSecond();
    if (keysDone >= keysTotal) {
      return OptionalLong.of(0);
    }
    return rate <= 0 ? OptionalLong.empty()
        : OptionalLong.of((long) Math.ceil((keysTotal - keysDone) * 1000.0 / rate));
  }

  /** The fraction done, 0..1 (1 when there is nothing to send). */
  public double fraction() {
    return keysTotal == 0 ? 1 : Math.min(1, (double) keysDone / keysTotal);
  }

  /** Both senders' progress as one: totals add up, the earliest start counts. */
  public TransferProgress plus(TransferProgress o) {
    long start = startedMs <= 0 ? o.startedMs
        : o.startedMs <= 0 ? startedMs : Math.min(startedMs, o.startedMs);
    return new TransferProgress(keysTotal + o.keysTotal, keysDone + o.keysDone,
        bytesDone + o.bytesDone, start, Math.max(nowMs, o.nowMs));
  }
}
