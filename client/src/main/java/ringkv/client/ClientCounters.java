package ringkv.client;

import java.util.concurrent.atomic.LongAdder;

/** The counters behind {@link RingKvClient#stats()}. Thread-safe. */
final class ClientCounters {
  final LongAdder attempts = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder viewChangeRetries = new LongAdder();
  final LongAdder unreachable = new LongAdder();
  final LongAdder timeouts = new LongAdder();
  final LongAdder ringRefreshes = new LongAdder();
  final LongAdder epochChanges = new LongAdder();
  final LongAdder misrouted = new LongAdder();

  RingKvClient.Stats snapshot() {
    return new RingKvClient.Stats(attempts.sum(), retries.sum(), viewChangeRetries.sum(),
        unreachable.sum(), timeouts.sum(), ringRefreshes.sum(), epochChanges.sum(),
        misrouted.sum());
  }
}
