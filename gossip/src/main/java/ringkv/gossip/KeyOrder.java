package ringkv.gossip;

import java.util.Comparator;

/**
 * The order of keys in every {@link Store}: unsigned lexicographic order of their UTF-8 bytes,
 * which is the order of their Unicode code points. It is not {@link String#compareTo} (UTF-16
 * code units): that puts U+E000..U+FFFF after the supplementary characters (emoji), UTF-8 puts
 * them before. Both stores must agree because replicas page through each other's data with
 * {@link Store#scan} cursors, and the durable store's order is RocksDB's byte order.
 *
 * <p>A lone surrogate (not valid Unicode, but a Java string may hold one) counts as its own code
 * unit value, U+D800..U+DFFF, which is where its 3-byte generalized UTF-8 (WTF-8) encoding sorts.
 *
 * <p>Stateless; thread-safe.
 */
public final class KeyOrder {

  /** Compares keys by code point, i.e. by their UTF-8 bytes. Consistent with equals. */
  public static final Comparator<String> COMPARATOR = KeyOrder::compare;

  private KeyOrder() {}

  /** Negative, zero or positive as {@code a} sorts before, with or after {@code b}. */
  public static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char ca = a.charAt(i);
      char cb = b.charAt(j);
      if (ca == cb && !Character.isSurrogate(ca)) { // the common case: one equal code point
        i++;
        j++;
        continue;
      }
      int pa = a.codePointAt(i);
      int pb = b.codePointAt(j);
      if (pa != pb) {
        return Integer.compare(pa, pb);
      }
      i += Character.charCount(pa);
      j += Character.charCount(pb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
