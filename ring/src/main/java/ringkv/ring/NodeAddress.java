package ringkv.ring;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A node's {@code host:port} address.
 *
 * <p>Invariants: {@code host} is an IPv4 literal (four decimal octets 0..255) or a DNS-style
 * hostname (letters, digits, '.' and '-', no empty label, labels of at most 63 characters, at most
 * 253 characters, not made of digits and dots only); {@code port} is in 1..65535.
 *
 * <p>Order: IPv4 literals compare numerically octet by octet; hostnames compare
 * lexicographically; an IPv4 literal sorts before any hostname (comparing a literal with a
 * hostname as text would break transitivity, e.g. 9.0.0.1 &lt; 10.0.0.1 &lt; "5x" &lt; 9.0.0.1);
 * ties are broken by port. The order is total and consistent with {@code equals}.
 *
 * <p>Immutable; thread-safe.
 */
public record NodeAddress(String host, int port) implements Comparable<NodeAddress> {
  public static final int PORT_MIN = 1;
  public static final int PORT_MAX = 65535;
  public static final int HOST_CHARS_MAX = 253;
  public static final int LABEL_CHARS_MAX = 63;
  public static final int ADDRESSES_PER_LIST_MAX = 4096;

  public NodeAddress {
    Preconditions.checkNotNull(host, "host");
    Preconditions.checkArgument(isValidHost(host), "invalid host '%s'", host);
    Preconditions.checkArgument(port >= PORT_MIN && port <= PORT_MAX,
        "port must be in %s..%s, got %s", PORT_MIN, PORT_MAX, port);
  }

  /**
   * Parses {@code "host:port"}.
   *
   * @throws IllegalArgumentException naming {@code text} when it is not a valid address
   */
  public static NodeAddress parse(String text) {
    Preconditions.checkArgument(text != null, "node address is missing");
    int colon = text.indexOf(':');
    Preconditions.checkArgument(colon > 0 && colon == text.lastIndexOf(':'),
        "invalid node address '%s': expected host:port", text);
    String host = text.substring(0, colon);
    String portText = text.substring(colon + 1);
    Preconditions.checkArgument(isValidHost(host), "invalid node address '%s': bad host '%s'",
        text, host);
    Preconditions.checkArgument(isDecimal(portText, 5),
        "invalid node address '%s': port must be a number in %s..%s", text, PORT_MIN, PORT_MAX);
    int port = Integer.parseInt(portText);
    Preconditions.checkArgument(port >= PORT_MIN && port <= PORT_MAX,
        "invalid node address '%s': port must be a number in %s..%s", text, PORT_MIN, PORT_MAX);
    return new NodeAddress(host, port);
  }

  /**
   * Parses a comma-separated list of addresses, trimming blanks around items, keeping the given
   * order.
   *
   * @throws IllegalArgumentException for an empty list, an empty item, a bad item or a duplicate
   */
  public static List<NodeAddress> parseList(String csv) {
    Preconditions.checkArgument(csv != null && !csv.isBlank(), "address list is empty");
    String[] items = csv.split(",", -1);
    Preconditions.checkArgument(items.length <= ADDRESSES_PER_LIST_MAX,
        "address list has %s items, more than %s", items.length, ADDRESSES_PER_LIST_MAX);
    List<NodeAddress> result = new ArrayList<>(items.length);
    Set<NodeAddress> seen = new HashSet<>();
    for (String item : items) {
      String trimmed = item.strip();
      Preconditions.checkArgument(!trimmed.isEmpty(), "address list '%s' has an empty item", csv);
      NodeAddress address = parse(trimmed);
      Preconditions.checkArgument(seen.add(address),
          "address list '%s' names %s twice", csv, address);
      result.add(address);
    }
    return List.copyOf(result);
  }

  @Override
  public int compareTo(NodeAddress other) {
    int[] mine = ipv4Octets(host);
    int[] theirs = ipv4Octets(other.host);
    int byHost;
    if (mine != null && theirs != null) {
      byHost = Arrays.compare(mine, theirs);
    } else if (mine != null) {
      byHost = -1;
    } else if (theirs != null) {
      byHost = 1;
    } else {
      byHost = host.compareTo(other.host);
    }
    return byHost != 0 ? byHost : Integer.compare(port, other.port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }

  private static boolean isValidHost(String host) {
    if (host.isEmpty() || host.length() > HOST_CHARS_MAX) {
      return false;
    }
    boolean digitsAndDotsOnly = true;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      boolean digit = c >= '0' && c <= '9';
      if (!letter && !digit && c != '.' && c != '-') {
        return false;
      }
      digitsAndDotsOnly &= digit || c == '.';
    }
    if (digitsAndDotsOnly) {
      return ipv4Octets(host) != null;
    }
    for (String label : host.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > LABEL_CHARS_MAX) {
        return false;
      }
    }
    return true;
  }

  /** Returns the four octets of an IPv4 literal, or null when {@code host} is not one. */
  private static int[] ipv4Octets(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    int[] octets = new int[4];
    for (int i = 0; i < 4; i++) {
      if (!isDecimal(parts[i], 3)) {
        return null;
      }
      octets[i] = Integer.parseInt(parts[i]);
      if (octets[i] > 255) {
        return null;
      }
    }
    return octets;
  }

  private static boolean isDecimal(String text, int digitsMax) {
    if (text.isEmpty() || text.length() > digitsMax) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
