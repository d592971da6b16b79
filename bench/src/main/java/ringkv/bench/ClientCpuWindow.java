package ringkv.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import ringkv.client.RingKvClient;

/**
 * A window around a measured phase that also records the CPU time the bench's own JVM used
 * during it: the whole process (load generator, client library, GC, JIT: what driving the
 * load cost this machine) and, apart, the client library's event loop threads (the transport:
 * encoding, sockets, decoding, and the completions that run on them). Divided by the phase's
 * operations, these say whether the load generator or the server limits a run. The JIT's and
 * the collector's own times for the phase tell what the rest of the JVM's CPU went to (a
 * 10 s warm-up on a loaded machine can leave the C2 compiler busy well into the measure).
 *
 * <p>Called from the runner's thread only; not thread-safe.
 */
final class ClientCpuWindow extends SampledWindow {
  /**
   * CPU the bench JVM used in a phase, in ns, and the time its JIT compilers and its garbage
   * collector reported for the phase, in ms; -1 where the JVM cannot tell.
   */
  record Used(long processNanos, long ioThreadNanos, long jitMs, long gcMs) {
    static final Used UNKNOWN = new Used(-1, -1, -1, -1);

    Used(long processNanos, long ioThreadNanos) {
      this(processNanos, ioThreadNanos, -1, -1);
    }
  }

  private long processStart = -1;
  private long ioStart = -1;
  private long jitStart = -1;
  private long gcStart = -1;
  private Used used = Used.UNKNOWN;

  ClientCpuWindow(LoadRunner.MeasureWindow inner) {
    super(inner);
  }

  @Override
  void sampleAtOpen() {
    processStart = processCpuNanos();
    ioStart = ioThreadCpuNanos();
    jitStart = jitMs();
    gcStart = gcMs();
  }

  @Override
  void sampleAtClose() {
    long processEnd = processCpuNanos();
    long ioEnd = ioThreadCpuNanos();
    long jitEnd = jitMs();
    long gcEnd = gcMs();
    used = new Used(delta(processStart, processEnd), delta(ioStart, ioEnd),
        delta(jitStart, jitEnd), delta(gcStart, gcEnd));
  }

  Used used() {
    return used;
  }

  /** Time the JIT compilers spent so far (the JVM's approximate total), or -1. */
  static long jitMs() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported()
        ? jit.getTotalCompilationTime() : -1;
  }

  /** Time the garbage collectors reported so far (pauses and concurrent work), or -1. */
  static long gcMs() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      long t = gc.getCollectionTime();
      if (t < 0) {
        return -1;
      }
      sum += t;
    }
    return sum;
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
