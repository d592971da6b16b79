package ringkv.gossip.sim;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import ringkv.gossip.Entry;
import ringkv.gossip.Version;

/**
 * The checker's model of every write ever acknowledged to a client: its entry and the
 * dependencies the <em>model</em> assigns it (everything its client had observed, computed by the
 * checker, not the context the code carried). A version names exactly one write.
 *
 * <p>Not thread-safe; a simulation runs in one thread.
 */
final class History {

  /** One acknowledged write and what its client had observed before it. */
  record Write(Entry entry, Map<String, Version> modelDeps) {
    Write {
      Objects.requireNonNull(entry, "entry");
      modelDeps = Map.copyOf(modelDeps);
    }

    /** Same key, value and version: the data a replica may hold for this write. */
    boolean sameData(Entry other) {
      return other.key().equals(entry.key()) && Objects.equals(other.value(), entry.value())
          && other.version().equals(entry.version());
    }
  }

  private final Map<Version, Write> writes = new HashMap<>();
  private final Map<String, Version> newest = new HashMap<>();

  void record(Entry entry, Map<String, Version> modelDeps) {
    Write previous = writes.putIfAbsent(entry.version(), new Write(entry, modelDeps));
    if (previous != null) {
      throw new SimViolation("version-reuse",
          entry + " reuses the version of " + previous.entry());
    }
    newest.merge(entry.key(), entry.version(), Version::max);
  }

  /** The write named {@code version}, or null if no client was ever acknowledged one. */
  Write write(Version version) {
    return writes.get(version);
  }

  /** The newest acknowledged version of {@code key}, the last-writer-wins winner. */
  Version newest(String key) {
    return newest.getOrDefault(key, Version.ZERO);
  }

  int size() {
    return writes.size();
  }
}
