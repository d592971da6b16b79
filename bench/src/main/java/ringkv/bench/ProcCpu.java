package ringkv.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * CPU time of processes and of their threads, read from Linux's {@code /proc}: the sum of
 * {@code utime} and {@code stime} (fields 14 and 15 of {@code /proc/<pid>/stat}, in clock
 * ticks) — what {@code top} and {@code ps} show. A process's figure includes its threads that
 * already exited; a thread's figure is its own ({@code /proc/<pid>/task/<tid>/stat}).
 *
 * <p>Threads are grouped by name with a trailing number dropped ({@code GC Thread#1} and
 * {@code GC Thread#0} are one group {@code GC Thread}), so a phase's CPU reads as "event loops,
 * JIT compilers, GC, timers". Linux cuts thread names to 15 characters ({@code
 * vert.x-eventloo}).
 *
 * <p>The parsers are pure; {@link #snapshot} reads files. Stateless; thread-safe.
 */
final class ProcCpu {
  /** Clock ticks per second when {@code getconf CLK_TCK} does not answer (Linux's USER_HZ). */
  static final long CLOCK_TICKS_PER_SECOND_DEFAULT = 100;

  private static volatile long clockTicksPerSecond = -1;

  private ProcCpu() {}

  /**
   * CPU used by processes (by pid) and by thread groups (by name), and the part of the
   * processes' CPU spent in the kernel ({@code stime}), all in one unit: clock ticks in a
   * {@link Snapshot}, nanoseconds in a {@link Usage}.
   */
  record Cpu(Map<Long, Long> processes, Map<String, Long> groups, long system) {
    Cpu {
      processes = Map.copyOf(processes);
      groups = Map.copyOf(groups);
    }

    /** Sum over every process. */
    long total() {
      return processes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Thread groups by decreasing CPU. */
    Map<String, Long> groupsByCpu() {
      Map<String, Long> out = new LinkedHashMap<>();
      groups.entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed()
              .thenComparing(Map.Entry.comparingByKey()))
          .forEach(e -> out.put(e.getKey(), e.getValue()));
      return out;
    }
  }

  /**
   * CPU of processes and thread groups at one instant, in ticks; and how many times their
   * threads were given a CPU (timeslices, from {@code schedstat}: roughly the wake-ups), or -1
   * where the kernel does not say.
   */
  record Snapshot(long atNanos, Cpu ticks, long timeslices) {}

  /**
   * What processes and thread groups used between two snapshots, in nanoseconds;
   * {@code timeslices} -1 when unknown.
   */
  record Usage(double seconds, Cpu nanos, long timeslices) {}

  /**
   * {@code utime + stime} of one {@code stat} line. The command name (field 2) is between
   * parentheses and may itself hold spaces and parentheses, so fields are counted from the
   * last {@code ')'}.
   *
   * @throws IllegalArgumentException if the line is not a stat line
   */
  static long cpuTicks(String statLine) {
    int close = statLine.lastIndexOf(')');
    if (close < 0 || close + 2 > statLine.length()) {
      throw new IllegalArgumentException("not a /proc stat line: " + statLine);
    }
    String[] fields = statLine.substring(close + 2).trim().split(" +");
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    if (fields.length < 13) {
      throw new IllegalArgumentException("short /proc stat line: " + statLine);
    }
    try {
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad utime/stime in: " + statLine, e);
    }
  }

  /** {@code stime} alone (field 15): CPU spent in the kernel for the task (system calls). */
  static long systemTicks(String statLine) {
    return cpuTicks(statLine) - userTicks(statLine);
  }

  private static long userTicks(String statLine) {
    String[] fields = statLine.substring(statLine.lastIndexOf(')') + 2).trim().split(" +");
    return Long.parseLong(fields[11]);
  }

  /** The command (thread) name of one {@code stat} line: between the first '(' and last ')'. */
  static String comm(String statLine) {
    int open = statLine.indexOf('(');
    int close = statLine.lastIndexOf(')');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("not a /proc stat line: " + statLine);
    }
    return statLine.substring(open + 1, close);
  }

  /**
   * Timeslices of one {@code schedstat} line ({@code "<ns on cpu> <ns waiting> <slices>"}),
   * or -1 if it is not one.
   */
  static long timeslices(String schedstatLine) {
    String[] f = schedstatLine.trim().split(" +");
    try {
      return f.length == 3 ? Long.parseLong(f[2]) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A thread's group: its name without a trailing number ({@code "GC Thread#0"} → GC Thread). */
  static String group(String threadName) {
    String g = threadName.replaceFirst("[#\\-_ ]?\\d+$", "");
    return g.isEmpty() ? threadName : g;
  }

  /** Ticks to nanoseconds. */
  static long ticksToNanos(long ticks, long ticksPerSecond) {
    return ticks * TimeUnit.SECONDS.toNanos(1) / ticksPerSecond;
  }

  /** The differences {@code end - start}, in nanoseconds (processes absent at the start: all). */
  static Usage usage(Snapshot start, Snapshot end, long ticksPerSecond) {
    Cpu from = start.ticks();
    Cpu to = end.ticks();
    Map<Long, Long> processes = new TreeMap<>();
    to.processes().forEach((pid, t) -> processes.put(pid,
        ticksToNanos(t - from.processes().getOrDefault(pid, 0L), ticksPerSecond)));
    Map<String, Long> groups = new TreeMap<>();
    to.groups().forEach((g, t) -> {
      long d = t - from.groups().getOrDefault(g, 0L);
      if (d > 0) {
        groups.put(g, ticksToNanos(d, ticksPerSecond));
      }
    });
    long slices = start.timeslices() < 0 || end.timeslices() < 0 ? -1
        : end.timeslices() - start.timeslices();
    return new Usage((end.atNanos() - start.atNanos()) / 1e9, new Cpu(processes, groups,
        ticksToNanos(to.system() - from.system(), ticksPerSecond)), slices);
  }

  /**
   * Reads the CPU of {@code pids} and of their threads now. A process that has exited counts
   * 0 ticks (and no thread).
   */
  static Snapshot snapshot(Collection<Long> pids) {
    long at = System.nanoTime();
    Map<Long, Long> processes = new TreeMap<>();
    Map<String, Long> groups = new TreeMap<>();
    long slices = 0;
    long system = 0;
    for (long pid : pids) {
      Path dir = Path.of("/proc", Long.toString(pid));
      String stat = read(dir.resolve("stat"));
      processes.put(pid, stat == null ? 0 : cpuTicks(stat));
      system += stat == null ? 0 : systemTicks(stat);
      if (stat == null) {
        continue;
      }
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(dir.resolve("task"))) {
        for (Path task : tasks) {
          String t = read(task.resolve("stat"));
          if (t != null) {
            groups.merge(group(comm(t)), cpuTicks(t), Long::sum);
          }
          String sched = read(task.resolve("schedstat"));
          long n = sched == null ? -1 : timeslices(sched);
          slices = slices < 0 || n < 0 ? -1 : slices + n;
        }
      } catch (IOException e) {
        // The process exited while its threads were listed: its total above still counts.
      }
    }
    return new Snapshot(at, new Cpu(processes, groups, system), slices);
  }

  /** CPU ticks of this process (the load generator's JVM) now. */
  static long selfTicks() {
    String stat = read(Path.of("/proc/self/stat"));
    return stat == null ? -1 : cpuTicks(stat);
  }

  /** Whether /proc is there to read (Linux). */
  static boolean available() {
    return Files.isReadable(Path.of("/proc/self/stat"));
  }

  /** {@code getconf CLK_TCK}, once; 100 when it does not answer. */
  static long clockTicksPerSecond() {
    long t = clockTicksPerSecond;
    if (t > 0) {
      return t;
    }
    t = CLOCK_TICKS_PER_SECOND_DEFAULT;
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
          .trim();
      if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 && out.matches("\\d+")) {
        t = Long.parseLong(out);
      }
    } catch (IOException e) {
      // No getconf: keep Linux's USER_HZ.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    clockTicksPerSecond = t;
    return t;
  }

  /** The 1, 5 and 15 minute load averages from /proc/loadavg, or "?" where unreadable. */
  static String loadAverage() {
    String s = read(Path.of("/proc/loadavg"));
    if (s == null) {
      return "?";
    }
    String[] f = s.trim().split(" +");
    return f.length >= 3 ? String.format(Locale.ROOT, "%s %s %s", f[0], f[1], f[2]) : "?";
  }

  /** The 1-minute load average, or -1. */
  static double loadAverage1() {
    String s = loadAverage();
    try {
      return Double.parseDouble(s.split(" ")[0]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }
}
