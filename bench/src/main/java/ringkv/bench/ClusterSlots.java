package ringkv.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Redis Cluster's key placement, so the load generator sends every command straight to the
 * master that owns its key (no {@code -MOVED}): a key's slot is CRC16 (XMODEM: polynomial
 * 0x1021, initial value 0) of the key — or of its hash tag, the non-empty text between the first
 * {@code '{'} and the next {@code '}'} — modulo 16384; {@code CLUSTER SLOTS} says which master
 * serves which slot range.
 *
 * <p>Invariant: every one of the 16384 slots has a master. Immutable; thread-safe.
 */
final class ClusterSlots {
  static final int SLOTS = 16384;
  private static final int[] TABLE = table();

  private final String[] masterBySlot;

  private ClusterSlots(String[] masterBySlot) {
    this.masterBySlot = masterBySlot;
  }

  /** CRC16/XMODEM of {@code bytes}, as Redis's {@code crc16()} computes it. */
  static int crc16(byte[] bytes, int from, int to) {
    int crc = 0;
    for (int i = from; i < to; i++) {
      crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ (bytes[i] & 0xff)) & 0xff]) & 0xffff;
    }
    return crc;
  }

  /** The slot of {@code key} (UTF-8), honouring a hash tag as Redis's {@code keyHashSlot}. */
  static int slotOf(String key) {
    byte[] b = key.getBytes(StandardCharsets.UTF_8);
    int open = -1;
    for (int i = 0; i < b.length; i++) {
      if (b[i] == '{') {
        open = i;
        break;
      }
    }
    if (open >= 0) {
      for (int close = open + 1; close < b.length; close++) {
        if (b[close] == '}') {
          if (close > open + 1) {
            return crc16(b, open + 1, close) & (SLOTS - 1);
          }
          break;
        }
      }
    }
    return crc16(b, 0, b.length) & (SLOTS - 1);
  }

  /**
   * Parses a {@code CLUSTER SLOTS} reply (as {@link Resp#read} returns it): an array of {@code
   * [start, end, [host, port, id...], replicas...]}.
   *
   * @throws IllegalArgumentException if the reply is not that shape or leaves a slot unserved
   */
  static ClusterSlots fromReply(Object reply) {
    if (!(reply instanceof List<?> ranges)) {
      throw new IllegalArgumentException("CLUSTER SLOTS: not an array: " + reply);
    }
    String[] bySlot = new String[SLOTS];
    for (Object r : ranges) {
      if (!(r instanceof List<?> range) || range.size() < 3
          || !(range.get(0) instanceof Long start) || !(range.get(1) instanceof Long end)
          || !(range.get(2) instanceof List<?> master) || master.size() < 2) {
        throw new IllegalArgumentException("CLUSTER SLOTS: bad range " + r);
      }
      if (start < 0 || end >= SLOTS || start > end) {
        throw new IllegalArgumentException("CLUSTER SLOTS: bad range " + start + "-" + end);
      }
      String address = master.get(0) + ":" + master.get(1);
      Arrays.fill(bySlot, start.intValue(), end.intValue() + 1, address);
    }
    for (int s = 0; s < SLOTS; s++) {
      if (bySlot[s] == null) {
        throw new IllegalArgumentException("CLUSTER SLOTS: slot " + s + " has no master");
      }
    }
    return new ClusterSlots(bySlot);
  }

  /** Replicas listed per range of a {@code CLUSTER SLOTS} reply, as {@code host:port}. */
  static List<String> replicas(Object reply) {
    List<String> out = new ArrayList<>();
    if (reply instanceof List<?> ranges) {
      for (Object r : ranges) {
        if (r instanceof List<?> range) {
          for (int i = 3; i < range.size(); i++) {
            if (range.get(i) instanceof List<?> node && node.size() >= 2) {
              out.add(node.get(0) + ":" + node.get(1));
            }
          }
        }
      }
    }
    return out;
  }

  /** The master ({@code host:port}) that serves {@code key}. */
  String masterOf(String key) {
    return masterBySlot[slotOf(key)];
  }

  /** Every master, in slot order. */
  List<String> masters() {
    Set<String> out = new LinkedHashSet<>(Arrays.asList(masterBySlot));
    return List.copyOf(out);
  }

  private static int[] table() {
    int[] t = new int[256];
    for (int i = 0; i < 256; i++) {
      int crc = i << 8;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
      }
      t[i] = crc & 0xffff;
    }
    return t;
  }
}
