package ringkv.tests.causal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Checks a recorded client history of a key-value store against causal consistency (SPEC §6),
 * trusting nothing the system says about causality. Pure: a list of {@link Op} records in, a
 * list of {@link Violation}s out.
 *
 * <h2>Model</h2>
 *
 * <ul>
 *   <li><b>Writes.</b> A PUT answered 200/201 and a DELETE answered 200 are acknowledged writes.
 *       A PUT or DELETE that failed with a 5xx or no answer ({@link #NO_ANSWER}) is a
 *       <em>maybe</em> write: it may or may not have taken effect, so reads may return it, but
 *       its client does not know it happened. A 4xx PUT, and a request whose connection was
 *       refused ({@link #REFUSED}), never happened. PUT values must be unique (for example
 *       {@code "c1-17"}), so a read names the write it returns by its value. A DELETE answered
 *       404 and a GET answered 404 observe "not found".
 *   <li><b>Knowledge</b> comes from the history alone, never from the metadata. A client knows
 *       its acknowledged writes; the writes it read; and, transitively, everything the writers
 *       of those writes knew when they issued them (writes-follow-reads). A not-found answer to a
 *       client that knew a value of the key reveals a delete: if exactly one delete can explain
 *       it, the client learns that delete and what its writer knew; if several can, only what
 *       all of them imply.
 *   <li><b>Order of two writes of one key.</b> {@code a} happened before {@code b} if {@code b}'s
 *       writer knew {@code a}. Otherwise, only when both are known, the versions the system
 *       claimed ({@code causal-metadata.keys[key]} in the reply to the write, or to a read that
 *       returned it, {@code [counter, node]}) order them: that is the order last-writer-wins
 *       promises every replica converges to. Unknown versions and no causal relation: no order,
 *       so nothing is claimed (the checker stays sound when metadata is pruned).
 * </ul>
 *
 * <h2>Checks</h2>
 *
 * A read of key {@code k} returning write {@code w} (a value, or "not found") is checked
 * against every write {@code u} of {@code k} its client knew when the read started: {@code w}
 * must not be older than {@code u}. A not-found read needs, for the values it knew, a delete
 * that is not older than any of them and had started before the read ended. The violation is
 * named by how the client knew {@code u}:
 *
 * <ul>
 *   <li>{@link Kind#READ_YOUR_WRITES}: {@code u} is its own acknowledged write;
 *   <li>{@link Kind#MONOTONIC_READS}: it had read {@code u} itself (reads went back in time);
 *   <li>{@link Kind#WRITES_FOLLOW_READS}: it learned {@code u} through a read of another write
 *       of the same key, or it wrote {@code k} with a version below a write of {@code k} it knew
 *       (its write would lose to an older one under last-writer-wins);
 *   <li>{@link Kind#CROSS_KEY}: it learned {@code u} through a read of another key whose writer
 *       had seen {@code u} (the cause of what it read is missing).
 * </ul>
 *
 * Besides: {@link Kind#FABRICATED} (a value no PUT wrote), {@link Kind#FUTURE_READ} (a value
 * whose PUT started after the read ended), {@link Kind#INCONSISTENT_VERSIONS} (one write
 * claimed with two versions, or two writes with one). Each operation reports at most one
 * violation. Operations failing with an error are recorded and otherwise ignored.
 */
public final class CausalChecker {

  public enum OpKind { PUT, GET, DELETE }

  /** Status of a request that got no answer (reset, timed out): a write may have happened. */
  public static final int NO_ANSWER = -1;
  /**
   * Status of a request whose connection was refused: it never reached a node, so a write did
   * not happen (a killed node refuses; a paused one accepts and stays silent: NO_ANSWER).
   */
  public static final int REFUSED = -2;

  /** What went wrong; see the class comment. */
  public enum Kind {
    FABRICATED, FUTURE_READ, READ_YOUR_WRITES, MONOTONIC_READS, WRITES_FOLLOW_READS, CROSS_KEY,
    INCONSISTENT_VERSIONS
  }

  /** A version as the system claims it: {@code [counter, node]}, ordered counter first. */
  public record Version(long counter, String node) implements Comparable<Version> {
    public Version {
      Objects.requireNonNull(node, "node");
    }

    @Override
    public int compareTo(Version o) {
      int c = Long.compare(counter, o.counter);
      return c != 0 ? c : node.compareTo(o.node);
    }

    @Override
    public String toString() {
      return "[" + counter + "," + node + "]";
    }
  }

  /**
   * One operation as a client saw it.
   *
   * @param client   the client (session) id
   * @param kind     PUT, GET or DELETE
   * @param key      the key
   * @param value    PUT: the value written; GET 200: the value returned; else null
   * @param status   the HTTP status, {@link #NO_ANSWER} or {@link #REFUSED}
   * @param sent     the causal metadata sent, as key to version (diagnostics only)
   * @param received the causal metadata of the answer (empty if none)
   * @param startNs  when the request was sent ({@link System#nanoTime()})
   * @param endNs    when the answer (or the failure) came
   */
  public record Op(String client, OpKind kind, String key, String value, int status,
      Map<String, Version> sent, Map<String, Version> received, long startNs, long endNs) {
    public Op {
      Objects.requireNonNull(client, "client");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(key, "key");
      sent = Map.copyOf(sent);
      received = Map.copyOf(received);
      if (endNs < startNs) {
        throw new IllegalArgumentException("op ends before it starts: " + key);
      }
    }

    public boolean acknowledgedWrite() {
      return (kind == OpKind.PUT && (status == 200 || status == 201))
          || (kind == OpKind.DELETE && status == 200);
    }

    public boolean maybeWrite() {
      return kind != OpKind.GET && (status == NO_ANSWER || status >= 500);
    }

    public boolean readsValue() {
      return kind == OpKind.GET && status == 200;
    }

    public boolean readsNotFound() {
      return (kind == OpKind.GET || kind == OpKind.DELETE) && status == 404;
    }

    @Override
    public String toString() {
      return client + " " + kind + " " + key + (value == null ? "" : "=" + value) + " -> "
          + status + (received.isEmpty() ? "" : " " + received);
    }
  }

  /** A violation: its kind, the operation that revealed it and why. */
  public record Violation(Kind kind, Op op, String detail) {
    @Override
    public String toString() {
      return kind + " at " + op + ": " + detail;
    }
  }

  /** How a client came to know a write. */
  private enum Source { OWN_WRITE, READ, VIA }

  private record Reason(Source source, String via) {
    /** The stronger of two reasons (own write, then direct read, then transitive). */
    Reason strongest(Reason other) {
      return other.source.ordinal() < source.ordinal() ? other : this;
    }
  }

  /** A write (acknowledged or maybe) and what its writer knew when it issued it. */
  private static final class Write {
    final String id;
    final Op op;
    Map<String, Reason> knownBefore;

    Write(String id, Op op) {
      this.id = id;
      this.op = op;
    }
  }

  private final Map<String, Write> writes = new LinkedHashMap<>();
  private final Map<Op, Write> writeOf = new HashMap<>();
  private final Map<String, List<Write>> writesOfKey = new HashMap<>();
  private final Map<String, Version> claimed = new HashMap<>();
  private final Map<Version, String> claimedBy = new HashMap<>();
  private final Map<String, Map<String, Reason>> knowledge = new HashMap<>();
  private final List<Violation> violations = new ArrayList<>();

  private CausalChecker() {}

  /** Checks {@code history} (any order; each client's operations must not overlap). */
  public static List<Violation> check(List<Op> history) {
    CausalChecker checker = new CausalChecker();
    checker.run(history);
    return List.copyOf(checker.violations);
  }

  /**
   * Checks {@code history} as {@link #check} does and keeps what the check established about
   * its writes, for checks of the state a history ends in (the chaos suite's lost writes).
   */
  public static Analysis analyze(List<Op> history) {
    CausalChecker checker = new CausalChecker();
    checker.run(history);
    return new Analysis(checker);
  }

  /** The outcome of {@link #analyze}: the violations, and the order it proved among writes. */
  public static final class Analysis {
    private final CausalChecker checker;

    private Analysis(CausalChecker checker) {
      this.checker = checker;
    }

    public List<Violation> violations() {
      return List.copyOf(checker.violations);
    }

    /**
     * Whether write {@code a} is definitely older than write {@code b}, both PUTs or DELETEs of
     * one key in the analysed history, acknowledged or maybe (see the class comment): {@code b}'s
     * writer knew {@code a}, or else the versions the system claimed for both order them.
     */
    public boolean older(Op a, Op b) {
      return checker.older(writeOf(a), writeOf(b));
    }

    /** The version the system claimed for write {@code w}, if any reply named it. */
    public Optional<Version> version(Op w) {
      return Optional.ofNullable(checker.claimed.get(writeOf(w).id));
    }

    private Write writeOf(Op op) {
      Write w = checker.writeOf.get(op);
      if (w == null) {
        throw new IllegalArgumentException("not a write of the analysed history: " + op);
      }
      return w;
    }
  }

  /** A one-line summary: operations, reads, writes, not-found answers and errors by status. */
  public static String summary(List<Op> history) {
    long reads = history.stream().filter(Op::readsValue).count();
    long notFound = history.stream().filter(Op::readsNotFound).count();
    long writes = history.stream().filter(Op::acknowledgedWrite).count();
    Map<Integer, Long> errors = new TreeMap<>();
    for (Op op : history) {
      if (!op.readsValue() && !op.readsNotFound() && !op.acknowledgedWrite()) {
        errors.merge(op.status(), 1L, Long::sum);
      }
    }
    long clients = history.stream().map(Op::client).distinct().count();
    return "ops=" + history.size() + " clients=" + clients + " reads=" + reads + " not-found="
        + notFound + " writes=" + writes + " errors by status=" + errors;
  }

  private void run(List<Op> history) {
    int deletes = 0;
    for (Op op : history) {
      String id = null;
      if (op.kind() == OpKind.PUT && (op.acknowledgedWrite() || op.maybeWrite())) {
        id = "put " + op.key() + "=" + Objects.requireNonNull(op.value(), "PUT value");
      } else if (op.kind() == OpKind.DELETE && (op.acknowledgedWrite() || op.maybeWrite())) {
        id = "delete#" + deletes++ + " " + op.key() + " by " + op.client();
      }
      if (id != null) {
        Write w = new Write(id, op);
        if (writes.putIfAbsent(id, w) != null) {
          throw new IllegalArgumentException("values must be unique per write: " + id);
        }
        writeOf.put(op, w);
        writesOfKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(w);
      }
    }
    for (Op op : history) { // the system's claimed versions, from every reply
      Version v = op.received().get(op.key());
      if (v != null && op.acknowledgedWrite()) {
        claim(writeOf.get(op), v, op);
      } else if (v != null && op.readsValue() && writes.containsKey(putId(op))) {
        claim(writes.get(putId(op)), v, op);
      }
    }
    // In order of completion: everything a read can depend on completed before it ended.
    List<Op> byEnd = new ArrayList<>(history);
    byEnd.sort(Comparator.comparingLong(Op::endNs).thenComparingLong(Op::startNs));
    for (Op op : byEnd) {
      Map<String, Reason> known = knowledge.computeIfAbsent(op.client(), c -> new HashMap<>());
      Write own = writeOf.get(op);
      if (own != null) {
        own.knownBefore = Map.copyOf(known);
      }
      if (op.acknowledgedWrite()) {
        checkWrite(op, own, known);
        known.put(own.id, new Reason(Source.OWN_WRITE, own.id));
      } else if (op.readsValue()) {
        readValue(op, known);
      } else if (op.readsNotFound()) {
        readNotFound(op, known);
      }
    }
  }

  private static String putId(Op op) {
    return "put " + op.key() + "=" + op.value();
  }

  private void claim(Write w, Version v, Op op) {
    Version previous = claimed.putIfAbsent(w.id, v);
    if (previous != null && !previous.equals(v)) {
      violations.add(new Violation(Kind.INCONSISTENT_VERSIONS, op,
          w.id + " was claimed as " + previous + " and now as " + v));
      return;
    }
    String owner = claimedBy.putIfAbsent(v, w.id);
    if (owner != null && !owner.equals(w.id)) {
      violations.add(new Violation(Kind.INCONSISTENT_VERSIONS, op,
          "version " + v + " is claimed by " + owner + " and by " + w.id));
    }
  }

  /** What the writer of {@code w} knew when it issued it. */
  private Map<String, Reason> knownBefore(Write w) {
    if (w.knownBefore == null) {
      // Still in flight: its writer's previous operation ended before it started, so the
      // writer's current knowledge is exactly what it knew then.
      return Map.copyOf(knowledge.getOrDefault(w.op.client(), Map.of()));
    }
    return w.knownBefore;
  }

  /** {@code a} happened before {@code b}: {@code b}'s writer knew {@code a}. */
  private boolean happenedBefore(Write a, Write b) {
    return knownBefore(b).containsKey(a.id);
  }

  /** {@code a} is definitely older than {@code b} (both of one key); see the class comment. */
  private boolean older(Write a, Write b) {
    if (a == b || happenedBefore(b, a)) {
      return false;
    }
    if (happenedBefore(a, b)) {
      return true;
    }
    Version va = claimed.get(a.id);
    Version vb = claimed.get(b.id);
    return va != null && vb != null && va.compareTo(vb) < 0;
  }

  private Kind kindFor(Reason reason, String key) {
    return switch (reason.source()) {
      case OWN_WRITE -> Kind.READ_YOUR_WRITES;
      case READ -> Kind.MONOTONIC_READS;
      case VIA -> writes.get(reason.via()).op.key().equals(key)
          ? Kind.WRITES_FOLLOW_READS : Kind.CROSS_KEY;
    };
  }

  private String because(Write u, Reason reason) {
    String how = switch (reason.source()) {
      case OWN_WRITE -> "it wrote it";
      case READ -> "it had read it";
      case VIA -> "it read " + reason.via() + " whose writer knew it";
    };
    Version v = claimed.get(u.id);
    return u.id + (v == null ? "" : " " + v) + " (" + how + ")";
  }

  /** The client's writes of {@code key} that it knows, with how it knows them. */
  private Map<Write, Reason> knownOfKey(Map<String, Reason> known, String key) {
    Map<Write, Reason> out = new LinkedHashMap<>();
    for (Write w : writesOfKey.getOrDefault(key, List.of())) {
      Reason r = known.get(w.id);
      if (r != null) {
        out.put(w, r);
      }
    }
    return out;
  }

  private void checkWrite(Op op, Write w, Map<String, Reason> known) {
    Version mine = claimed.get(w.id);
    if (mine == null) {
      return;
    }
    for (Map.Entry<Write, Reason> e : knownOfKey(known, op.key()).entrySet()) {
      Version theirs = claimed.get(e.getKey().id);
      if (theirs != null && mine.compareTo(theirs) <= 0) {
        violations.add(new Violation(Kind.WRITES_FOLLOW_READS, op, "its version " + mine
            + " is not above " + because(e.getKey(), e.getValue())));
        return;
      }
    }
  }

  private void readValue(Op op, Map<String, Reason> known) {
    Write w = writes.get(putId(op));
    if (w == null) {
      violations.add(new Violation(Kind.FABRICATED, op, "no PUT wrote " + op.value()));
      return;
    }
    if (w.op.startNs() >= op.endNs()) {
      violations.add(new Violation(Kind.FUTURE_READ, op,
          w.id + " started after this read ended"));
      return;
    }
    for (Map.Entry<Write, Reason> e : knownOfKey(known, op.key()).entrySet()) {
      if (older(w, e.getKey())) {
        violations.add(new Violation(kindFor(e.getValue(), op.key()), op, "returned " + w.id
            + versionOf(w) + ", older than " + because(e.getKey(), e.getValue())));
        break;
      }
    }
    learn(known, w, new Reason(Source.READ, w.id));
  }

  private String versionOf(Write w) {
    Version v = claimed.get(w.id);
    return v == null ? "" : " " + v;
  }

  private void learn(Map<String, Reason> known, Write w, Reason reason) {
    known.merge(w.id, reason, Reason::strongest);
    for (String dep : knownBefore(w).keySet()) {
      known.merge(dep, new Reason(Source.VIA, w.id), Reason::strongest);
    }
  }

  private void readNotFound(Op op, Map<String, Reason> known) {
    Map<Write, Reason> values = new LinkedHashMap<>();
    knownOfKey(known, op.key()).forEach((w, r) -> {
      if (w.op.kind() == OpKind.PUT) {
        values.put(w, r);
      }
    });
    if (values.isEmpty()) {
      return; // the initial state, or a delete it knew: nothing to check or learn
    }
    List<Write> candidates = new ArrayList<>();
    for (Write d : writesOfKey.getOrDefault(op.key(), List.of())) {
      if (d.op.kind() == OpKind.DELETE && d.op.startNs() < op.endNs()
          && values.keySet().stream().noneMatch(u -> older(d, u))) {
        candidates.add(d);
      }
    }
    if (candidates.isEmpty()) {
      Map.Entry<Write, Reason> blocking = values.entrySet().stream()
          .filter(e -> writesOfKey.get(op.key()).stream().noneMatch(
              d -> d.op.kind() == OpKind.DELETE && d.op.startNs() < op.endNs()
                  && !older(d, e.getKey())))
          .findFirst().orElse(values.entrySet().iterator().next());
      violations.add(new Violation(kindFor(blocking.getValue(), op.key()), op,
          "not found, but no delete can have removed " + because(blocking.getKey(),
              blocking.getValue())));
      return;
    }
    if (candidates.size() == 1) {
      learn(known, candidates.get(0), new Reason(Source.READ, candidates.get(0).id));
      return;
    }
    // Several deletes could explain it: learn only what each of them implies.
    Map<String, Integer> count = new HashMap<>();
    for (Write d : candidates) {
      count.merge(d.id, 1, Integer::sum);
      for (String dep : knownBefore(d).keySet()) {
        count.merge(dep, 1, Integer::sum);
      }
    }
    count.forEach((id, n) -> {
      if (n == candidates.size()) {
        Write w = writes.get(id);
        boolean deleteOfKey = w.op.kind() == OpKind.DELETE && w.op.key().equals(op.key());
        known.merge(id, deleteOfKey ? new Reason(Source.READ, id)
            : new Reason(Source.VIA, candidates.get(0).id), Reason::strongest);
      }
    });
  }
}
