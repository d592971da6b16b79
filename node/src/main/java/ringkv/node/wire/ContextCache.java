package ringkv.node.wire;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import ringkv.gossip.CausalContext;

/**
 * The contexts read lately from clients' texts, by their exact bytes: a session sends the same
 * metadata again and again (an answer that taught it nothing hands its metadata back as sent),
 * and finding its text here costs a hash and a comparison of the bytes where reading it costs a
 * map, a string and a version per entry. A direct-mapped table of {@link #SLOTS} entries: a new
 * text takes its slot from whatever held it. Holds only what {@link ContextJson#readPlain} read,
 * with its highest counter, so that a hit is checked against the clock limit of its moment.
 *
 * <p>Not thread-safe: one per thread ({@link #forThisThread}).
 */
public final class ContextCache {
  /** Slots of the table: a power of two. */
  static final int SLOTS = 64;
  /** Longest text kept (longer ones are read each time). */
  static final int TEXT_BYTES_MAX = 4_096;
  private static final ThreadLocal<ContextCache> PER_THREAD =
      ThreadLocal.withInitial(ContextCache::new);
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * A context and its text.
   *
   * @param text the exact bytes it was read from (never changed)
   * @param context what they read as
   * @param maxCounter its highest counter
   */
  public record Entry(byte[] text, CausalContext context, long maxCounter) {}

  private final Entry[] slots = new Entry[SLOTS];

  ContextCache() {}

  /** The calling thread's cache. */
  public static ContextCache forThisThread() {
    return PER_THREAD.get();
  }

  /** The entry whose text is {@code bytes[from, to)}, or null. */
  public Entry find(byte[] bytes, int from, int to) {
    if (to - from > TEXT_BYTES_MAX || to <= from) {
      return null;
    }
    Entry e = slots[slot(bytes, from, to)];
    return e != null && Arrays.equals(e.text, 0, e.text.length, bytes, from, to) ? e : null;
  }

  /** Keeps {@code context}, read from {@code text}, which nobody changes afterwards. */
  public Entry keep(byte[] text, CausalContext context) {
    Entry e = new Entry(text, context, context.maxCounter());
    if (text.length > 0 && text.length <= TEXT_BYTES_MAX) {
      slots[slot(text, 0, text.length)] = e;
    }
    return e;
  }

  private static int slot(byte[] b, int from, int to) {
    long h = to - from;
    int i = from;
    for (; i + 8 <= to; i += 8) {
      h = (h ^ (long) LONGS.get(b, i)) * 0x9E3779B97F4A7C15L;
    }
    for (; i < to; i++) {
      h = (h ^ b[i]) * 0x9E3779B97F4A7C15L;
    }
    return (int) (h ^ (h >>> 29) ^ (h >>> 47)) & (SLOTS - 1);
  }
}
