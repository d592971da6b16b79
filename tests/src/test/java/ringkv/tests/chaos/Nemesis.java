package ringkv.tests.chaos;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import ringkv.tests.support.Http;

/**
 * Injects faults into a {@link ClusterBackend} on a schedule drawn in advance from a seed, in
 * the spirit of Jepsen's nemesis and TigerBeetle's Vortex: kill -9 and restart, graceful stop
 * (SIGTERM, {@code docker stop}) and restart, pause (SIGSTOP/SIGCONT, {@code docker pause}),
 * partitions where the backend has them, and clock faults where it has those: a node restarted
 * with its wall clock moved by one to five minutes, either way (a broken NTP; an honest node,
 * which must keep working and lose nothing), then restarted with the right clock. With view
 * changes on, the cluster is also resharded twice while the faults go on: into one shard of
 * every node at a third of the run, back to its shards at two thirds (a live node coordinates;
 * a change that cannot finish under the faults rolls back, and the checks hold either way).
 *
 * <p>The schedule ({@link #schedule}) is a pure function of the seed, the shard layout, whether
 * partitions are available and the duration, so a failing run's schedule is replayed by its
 * seed (the timing of requests around it is not). Every fault has its end in the schedule (a
 * restart, a resume, a heal) and lasts 1-6 s; faults start every 0.6-3 s and may overlap; the
 * first is always a kill (so every run kills a node in the middle of the writes), and at most
 * {@link #SKEWS_MAX} are clock faults.
 * <b>Invariant:</b> at every moment of the schedule, at most a minority ({@code (r-1)/2}) of
 * each shard's {@code r} replicas are impaired (killed, stopped, paused, or on the cut-off
 * side of a partition), so every shard keeps a majority of live, connected replicas and the
 * workload makes progress; a shard with fewer than 3 replicas has no minority to spare and is
 * rejected.
 * At most one partition holds at a time (a heal ends all). The invariant, kept for the first
 * layout, holds for the one-shard layout too: with k shards of r, at most k(r-1)/2 nodes are
 * impaired, at most (kr-1)/2.
 *
 * <p>{@link #run} applies the steps in order, each at its offset or, when an earlier step took
 * longer (a restart waits until the node serves), right after it. Applying in order keeps the
 * invariant whatever the delays: after step j the impaired set is the one the schedule has after
 * step j. At the end, or when anything fails, it resumes every paused node, heals the network
 * and restarts every killed or stopped node. Not thread-safe: one thread drives it.
 */
final class Nemesis {
  /** When the first fault starts, and how far apart the starts of two faults are. */
  private static final Span FIRST_FAULT_MS = new Span(1_000, 2_000);
  private static final Span GAP_MS = new Span(600, 3_000);
  /** How long a pause lasts, and any other fault. */
  private static final Span PAUSE_MS = new Span(1_000, 4_000);
  private static final Span DOWN_MS = new Span(1_500, 6_000);
  /** A clock fault moves a node's clock by 1-5 minutes (60 to 300 s), ahead or behind. */
  private static final Span SKEW_S = new Span(60, 301);
  /**
   * Clock faults a run draws at most: each restarts a node under faketime, a restart that the
   * schedule's other faults wait for (about 2 s here with NodeLauncher's libfaketime settings;
   * 12-30 s without them).
   */
  static final int SKEWS_MAX = 2;

  /** What a step does. The first five are faults; the next four end one; RESHARD changes it. */
  enum Action {
    KILL, STOP, PAUSE, PARTITION, SKEW, RESTART, RESUME, HEAL, UNSKEW, RESHARD;

    boolean isFault() {
      return ordinal() <= SKEW.ordinal();
    }
  }

  /**
   * One step: at {@code atMs} after the start, {@code action} on {@code nodes}; a partition cuts
   * {@code nodes} off from {@code others}; a clock fault moves their clocks by
   * {@code clockOffsetS} seconds; a reshard asks for {@code shards} shards.
   */
  record Step(long atMs, Action action, List<Integer> nodes, List<Integer> others,
      long clockOffsetS, int shards) {
    Step {
      nodes = List.copyOf(nodes);
      others = List.copyOf(others);
    }

    Step(long atMs, Action action, List<Integer> nodes, List<Integer> others,
        long clockOffsetS) {
      this(atMs, action, nodes, others, clockOffsetS, 0);
    }

    Step(long atMs, Action action, List<Integer> nodes, List<Integer> others) {
      this(atMs, action, nodes, others, 0, 0);
    }

    static Step reshard(long atMs, int shards) {
      return new Step(atMs, Action.RESHARD, List.of(), List.of(), 0, shards);
    }

    String describe(List<String> addresses) {
      String names = nodes.stream().map(i -> "n" + i + "(" + addresses.get(i) + ")")
          .collect(Collectors.joining(","));
      String rest = others.isEmpty() ? ""
          : " | " + others.stream().map(i -> "n" + i).collect(Collectors.joining(","));
      String clock = action == Action.SKEW ? String.format(" clock %+ds", clockOffsetS)
          : action == Action.RESHARD ? " to " + shards + " shard" + (shards == 1 ? "" : "s") : "";
      return String.format("+%6dms %-9s %s%s%s", atMs, action.name().toLowerCase(), names, rest,
          clock);
    }
  }

  /** The numbers in [min, max), drawn uniformly. */
  private record Span(long min, long max) {
    long draw(Random random) {
      return min + random.nextInt((int) (max - min));
    }
  }

  /** A node impaired during [fromMs, toMs). */
  private record Impaired(int node, long fromMs, long toMs) {
    boolean overlaps(long from, long to) {
      return fromMs < to && from < toMs;
    }
  }

  private final ClusterBackend backend;
  private final List<Step> schedule;
  /** Killed or stopped, not restarted yet. */
  private final Set<Integer> down = new LinkedHashSet<>();
  private final Set<Integer> paused = new LinkedHashSet<>();
  /** Running with a moved clock. */
  private final Set<Integer> skewed = new LinkedHashSet<>();
  private boolean partitioned;
  private final Map<String, Integer> counts = new LinkedHashMap<>();
  /** Reshards under way (each on a thread of its own). */
  private final List<CompletableFuture<Boolean>> reshards = new ArrayList<>();

  Nemesis(ClusterBackend backend, List<Step> schedule) {
    this.backend = backend;
    this.schedule = List.copyOf(schedule);
    for (String kind : List.of("kill", "stop", "pause", "restart", "partition", "skew",
        "reshard", "reshard-not-done")) {
      counts.put(kind, 0);
    }
  }

  /**
   * Draws the faults of {@code durationMs} for a cluster whose shards have the members in
   * {@code shards}; {@code partitions} false leaves partitions out. Every fault ends by
   * {@code durationMs}.
   */
  static List<Step> schedule(long seed, List<List<Integer>> shards, boolean partitions,
      long durationMs) {
    return schedule(seed, shards, partitions, false, durationMs);
  }

  /** As above; {@code clockFaults} adds clock faults (the backend can move a node's clock). */
  static List<Step> schedule(long seed, List<List<Integer>> shards, boolean partitions,
      boolean clockFaults, long durationMs) {
    return schedule(seed, shards, partitions, clockFaults, false, durationMs);
  }

  /** As above; {@code viewChanges} adds the two reshards of the class comment. */
  static List<Step> schedule(long seed, List<List<Integer>> shards, boolean partitions,
      boolean clockFaults, boolean viewChanges, long durationMs) {
    // Nodes by (shard, position in it), not by index: one seed draws the same roles whatever
    // the numbering of the nodes (ports differ from run to run).
    List<Integer> order = new ArrayList<>();
    Map<Integer, Integer> shardOf = new HashMap<>();
    for (int s = 0; s < shards.size(); s++) {
      if (shards.get(s).size() < 3) {
        throw new IllegalArgumentException("shard " + shards.get(s) + " has fewer than 3"
            + " replicas: no minority of it can be taken down");
      }
      for (int node : shards.get(s)) {
        shardOf.put(node, s);
        order.add(node);
      }
    }
    Random random = new Random(seed);
    List<Action> kinds = new ArrayList<>(List.of(Action.KILL, Action.STOP, Action.PAUSE));
    if (partitions) {
      kinds.add(Action.PARTITION);
    }
    if (clockFaults) {
      kinds.add(Action.SKEW);
    }
    List<Impaired> impaired = new ArrayList<>();
    List<long[]> cuts = new ArrayList<>();
    List<Step> steps = new ArrayList<>();
    for (long t = FIRST_FAULT_MS.draw(random); t < durationMs - PAUSE_MS.min();
        t += GAP_MS.draw(random)) {
      // The first fault is always a kill -9 in the middle of the writes: every run covers it.
      Action kind = steps.isEmpty() ? Action.KILL : kinds.get(random.nextInt(kinds.size()));
      long hold = (kind == Action.PAUSE ? PAUSE_MS : DOWN_MS).draw(random);
      long from = t;
      long to = Math.min(t + hold, durationMs);
      List<Integer> free = new ArrayList<>();
      for (int node : order) {
        if (canImpair(node, from, to, impaired, shardOf, shards)) {
          free.add(node);
        }
      }
      Collections.shuffle(free, random);
      List<Integer> chosen = new ArrayList<>();
      if (kind == Action.PARTITION) {
        if (cuts.stream().noneMatch(c -> c[0] < to && from < c[1])) {
          chosen.addAll(minoritySide(free, shardOf, shards, random));
        }
      } else if (!free.isEmpty()) {
        chosen.add(free.get(0));
      }
      if (chosen.isEmpty()) {
        continue; // no room for this fault now: draw the next one
      }
      chosen.sort(Comparator.naturalOrder());
      chosen.forEach(n -> impaired.add(new Impaired(n, from, to)));
      if (kind == Action.PARTITION) {
        cuts.add(new long[] {from, to});
        List<Integer> others = order.stream().filter(n -> !chosen.contains(n)).sorted()
            .toList();
        steps.add(new Step(from, Action.PARTITION, chosen, others));
        steps.add(new Step(to, Action.HEAL, List.of(), List.of()));
      } else if (kind == Action.SKEW) {
        long offsetS = (random.nextBoolean() ? 1 : -1) * SKEW_S.draw(random);
        steps.add(new Step(from, kind, chosen, List.of(), offsetS));
        steps.add(new Step(to, Action.UNSKEW, chosen, List.of()));
        if (steps.stream().filter(x -> x.action() == Action.SKEW).count() >= SKEWS_MAX) {
          kinds.remove(Action.SKEW);
        }
      } else {
        steps.add(new Step(from, kind, chosen, List.of()));
        steps.add(new Step(to, kind == Action.PAUSE ? Action.RESUME : Action.RESTART, chosen,
            List.of()));
      }
    }
    if (viewChanges && shards.size() > 1) {
      steps.add(Step.reshard(durationMs / 3, 1));
      steps.add(Step.reshard(durationMs * 2 / 3, shards.size()));
    }
    // At one instant, ends come before new faults: the invariant was checked that way.
    steps.sort(Comparator.comparingLong(Step::atMs).thenComparing(s -> s.action().isFault()));
    return List.copyOf(steps);
  }

  private static boolean canImpair(int node, long from, long to, List<Impaired> impaired,
      Map<Integer, Integer> shardOf, List<List<Integer>> shards) {
    int shard = shardOf.get(node);
    long alreadyInShard = impaired.stream()
        .filter(i -> shardOf.get(i.node()) == shard && i.overlaps(from, to)).count();
    boolean itself = impaired.stream().anyMatch(i -> i.node() == node && i.overlaps(from, to));
    return !itself && alreadyInShard < (shards.get(shard).size() - 1) / 2;
  }

  /** Up to one free node per shard (at least one node), to be cut off from the rest. */
  private static List<Integer> minoritySide(List<Integer> free, Map<Integer, Integer> shardOf,
      List<List<Integer>> shards, Random random) {
    List<Integer> side = new ArrayList<>();
    Set<Integer> shardsTaken = new LinkedHashSet<>();
    for (int node : free) {
      if (!shardsTaken.contains(shardOf.get(node)) && (side.isEmpty() || random.nextBoolean())) {
        side.add(node);
        shardsTaken.add(shardOf.get(node));
      }
    }
    return side.size() == shardOf.size() ? List.of() : side;
  }

  /** The schedule, one step a line, for the log. */
  static String describe(List<Step> schedule, List<String> addresses) {
    return schedule.stream().map(s -> "  " + s.describe(addresses))
        .collect(Collectors.joining("\n"));
  }

  /** Faults applied so far by kind: kill, stop, pause, restart, partition. */
  Map<String, Integer> counts() {
    return Collections.unmodifiableMap(counts);
  }

  /**
   * Applies the schedule (see the class comment), then ends every fault still in force; when a
   * step fails, ends them too and rethrows.
   */
  void run() {
    try {
      play();
    } catch (RuntimeException | Error e) {
      try {
        restoreAll();
        awaitReshards();
      } catch (RuntimeException | Error r) {
        e.addSuppressed(r);
      }
      throw e;
    }
    restoreAll();
    awaitReshards();
  }

  private void play() {
    long startNs = System.nanoTime();
    for (Step step : schedule) {
      waitUntil(startNs + TimeUnit.MILLISECONDS.toNanos(step.atMs()));
      long appliedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
      apply(step);
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs) - appliedMs;
      System.out.printf("[chaos] applied at +%dms (took %d ms): %s%n", appliedMs, tookMs,
          step.describe(backend.addresses()).strip());
    }
  }

  /**
   * Parks the nemesis thread until the wall clock reaches a step's offset. This is a timetable,
   * not a synchronization: nothing in the cluster or the workload is awaited (the schedule says
   * when a fault happens, whatever the cluster does), so there is no condition to poll for.
   * {@code parkNanos} may return early; the loop parks again until the deadline.
   */
  private static void waitUntil(long deadlineNs) {
    for (long left = deadlineNs - System.nanoTime(); left > 0;
        left = deadlineNs - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("nemesis interrupted");
      }
    }
  }

  /** Does {@code fault} to each node of the step, notes the node in {@code marked}, counts it. */
  private void fault(Step step, String name, IntConsumer fault, Set<Integer> marked) {
    step.nodes().forEach(n -> {
      fault.accept(n);
      marked.add(n);
      counts.merge(name, 1, Integer::sum);
    });
  }

  private void apply(Step step) {
    switch (step.action()) {
      case KILL -> fault(step, "kill", backend::kill, down);
      case STOP -> fault(step, "stop", backend::stop, down);
      case RESTART -> step.nodes().forEach(this::restart);
      case PAUSE -> fault(step, "pause", backend::pause, paused);
      case RESUME -> step.nodes().forEach(n -> {
        backend.resume(n);
        paused.remove(n);
      });
      case PARTITION -> {
        partitioned = true; // before the call: a half-applied partition is healed too
        backend.partition(step.nodes(), step.others());
        counts.merge("partition", 1, Integer::sum);
      }
      case HEAL -> {
        backend.heal();
        partitioned = false;
      }
      case SKEW -> step.nodes().forEach(n -> {
        skewed.add(n); // before the call: a half-applied skew is undone too
        backend.restartWithClockOffset(n, step.clockOffsetS());
        counts.merge("skew", 1, Integer::sum);
      });
      case UNSKEW -> step.nodes().forEach(this::unskew);
      case RESHARD -> reshard(step.shards());
      default -> throw new IllegalStateException("unknown action " + step.action());
    }
  }

  /**
   * Asks a node that is up, running and not skewed to reshard, on a thread of its own (the
   * schedule goes on: a change waits for its participants, and a paused one is resumed by a
   * later step). A change the faults do not let finish rolls back; both outcomes are fine, the
   * checks after the run decide. {@link #run} waits for it at the end.
   */
  private void reshard(int shards) {
    int coordinator = -1;
    for (int n = 0; n < backend.size() && coordinator < 0; n++) {
      if (!down.contains(n) && !paused.contains(n) && !skewed.contains(n)) {
        coordinator = n;
      }
    }
    if (coordinator < 0) {
      counts.merge("reshard-not-done", 1, Integer::sum);
      return;
    }
    int via = coordinator;
    reshards.add(CompletableFuture.supplyAsync(() -> {
      // As an operator would: a change that failed and changed nothing (a participant the
      // coordinator still took for live was down) is tried again, for a while, so some commit
      // amid the faults rather than all aborting.
      Http.Reply[] answer = {null};
      int[] attempts = {0};
      try {
        await().pollDelay(Duration.ZERO).pollInterval(RESHARD_RETRY_EVERY).atMost(RESHARD_RETRYING)
            .until(() -> {
              attempts[0]++;
              try {
                answer[0] = backend.reshard(via, shards);
              } catch (AssertionError e) {
                answer[0] = null; // no answer (a partition, a timeout): it may or may not be in
              }
              return answer[0] == null || !(answer[0].status() == 503
                  && answer[0].raw().contains("nothing was changed"));
            });
      } catch (ConditionTimeoutException e) {
        // still failing: the last answer says why
      }
      Http.Reply a = answer[0];
      System.out.printf("[chaos] reshard to %d via n%d (%d attempts): %s%n", shards, via,
          attempts[0], a == null ? "no answer" : a.status() + " " + a.raw().strip());
      return a != null && a.status() == 200;
    }));
  }

  /** How long a failed reshard is tried again, and how often. */
  private static final Duration RESHARD_RETRYING = Duration.ofSeconds(12);
  private static final Duration RESHARD_RETRY_EVERY = Duration.ofSeconds(2);

  /** Waits for the reshards started (each bounded by the backend's request timeout). */
  private void awaitReshards() {
    for (CompletableFuture<Boolean> r : reshards) {
      counts.merge(r.join() ? "reshard" : "reshard-not-done", 1, Integer::sum);
    }
    reshards.clear();
  }

  private void unskew(int node) {
    backend.restartWithClockOffset(node, 0);
    skewed.remove(node);
  }

  private void restart(int node) {
    backend.start(node);
    down.remove(node);
    counts.merge("restart", 1, Integer::sum);
  }

  /** Resumes, heals and restarts whatever is still impaired; the first failure is rethrown. */
  private void restoreAll() {
    List<Runnable> ends = new ArrayList<>();
    for (int n : List.copyOf(paused)) {
      ends.add(() -> {
        backend.resume(n);
        paused.remove(n);
      });
    }
    if (partitioned) {
      ends.add(() -> {
        backend.heal();
        partitioned = false;
      });
    }
    for (int n : List.copyOf(down)) {
      ends.add(() -> restart(n));
    }
    for (int n : List.copyOf(skewed)) {
      ends.add(() -> unskew(n));
    }
    RuntimeException failure = null;
    for (Runnable end : ends) {
      try {
        end.run();
      } catch (RuntimeException | AssertionError e) {
        if (failure == null) {
          failure = new IllegalStateException("the nemesis could not end every fault", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
