package ringkv.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The words of a command line, read option by option: {@code --name value} or
 * {@code --name=value}; the one reader {@link BenchOptions} and {@link CompareOptions} share.
 * Not thread-safe.
 */
final class OptionWords {
  private final List<String> rest;
  private String inlineValue;

  OptionWords(String... args) {
    this.rest = new ArrayList<>(List.of(args));
  }

  boolean hasNext() {
    return !rest.isEmpty();
  }

  /** The next option's name, without the {@code =value} it may carry. */
  String next() {
    String option = rest.remove(0);
    inlineValue = null;
    int eq = option.indexOf('=');
    if (option.startsWith("--") && eq > 0) {
      inlineValue = option.substring(eq + 1);
      option = option.substring(0, eq);
    }
    return option;
  }

  /** The value of {@code option}, the one {@link #next} read: after its '=', or the next word. */
  String value(String option) {
    if (inlineValue != null) {
      return inlineValue;
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return rest.remove(0);
  }

  /** {@code --node-jvm-flags}: the flags, split at white space (none when blank). */
  static List<String> jvmFlags(String value) {
    return value.isBlank() ? List.of() : List.of(value.trim().split("\\s+"));
  }
}
