package ringkv.tools;

import java.util.Optional;

/** Reads one sample out of Prometheus text ({@code GET /metrics}); nothing more is needed. */
final class MetricsText {
  private MetricsText() {}

  /**
   * The value of the first sample of {@code family} (with or without labels), if there is one
   * and it is a number.
   */
  static Optional<Double> value(String text, String family) {
    for (String line : text.split("\n")) {
      if (!line.startsWith(family)) {
        continue;
      }
      String rest = line.substring(family.length());
      if (rest.startsWith("{")) {
        int close = rest.lastIndexOf('}');
        if (close < 0) {
          continue;
        }
        rest = rest.substring(close + 1);
      } else if (!rest.startsWith(" ")) {
        continue; // another family whose name starts with this one
      }
      String[] parts = rest.strip().split("\\s+");
      try {
        return Optional.of(Double.parseDouble(parts[0]));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }
}
