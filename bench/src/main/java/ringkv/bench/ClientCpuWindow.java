package ringkv.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import ringkv.client.RingKvClient;

/**
 * A window around a measured phase that also records the CPU time the bench's own JVM used
 * during it: the whole process (load generator, client library, GC, JIT: what driving the
 * load cost this machine) and, apart, the client library's event loop threads (the transport:
 * encoding, sockets, decoding, and the completions that run on them). Divided by the phase's
 * operations, these say whether the load generator or the server limits a run.
 *
 * <p>Called from the runner's thread only; not thread-safe.
 */
final class ClientCpuWindow implements LoadRunner.MeasureWindow {
  /** CPU the bench JVM used in a phase, in ns; -1 where the JVM cannot tell. */
  record Used(long processNanos, long ioThreadNanos) {
    static final Used UNKNOWN = new Used(-1, -1);
  }

  private final LoadRunner.MeasureWindow inner;
  private long processStart = -1;
  private long ioStart = -1;
  private Used used = Used.UNKNOWN;

  ClientCpuWindow(LoadRunner.MeasureWindow inner) {
    this.inner = inner;
  }

  @Override
  public void open() {
    processStart = processCpuNanos();
    ioStart = ioThreadCpuNanos();
    inner.open();
  }

  @Override
  public void close() {
    inner.close();
    long processEnd = processCpuNanos();
    long ioEnd = ioThreadCpuNanos();
    used = new Used(processStart < 0 || processEnd < 0 ? -1 : processEnd - processStart,
        ioStart < 0 || ioEnd < 0 ? -1 : ioEnd - ioStart);
  }

  @Override
  public String progress() {
    return inner.progress();
  }

  Used used() {
    return used;
  }

  /** CPU time (user + system) of this JVM so far, or -1. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /**
   * CPU time of the client library's event loop threads alive now, or -1. The loops live as
   * long as their client, which spans the measured phase.
   */
  static long ioThreadCpuNanos() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (!threads.isThreadCpuTimeSupported()) {
      return -1;
    }
    if (!threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(RingKvClient.IO_THREAD_NAME_PREFIX)) {
        long ns = threads.getThreadCpuTime(t.getId());
        if (ns > 0) {
          sum += ns;
        }
      }
    }
    return sum;
  }
}
