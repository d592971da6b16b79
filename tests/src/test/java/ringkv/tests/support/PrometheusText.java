package ringkv.tests.support;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format, version 0.0.4, for tests. No Java
 * library at hand parses it (the Prometheus Java client 1.x ships writers only:
 * {@code prometheus-metrics-exposition-textformats} has no parser), so this one follows the
 * format's specification and refuses anything it does not allow:
 *
 * <ul>
 *   <li>lines are {@code # HELP name text}, {@code # TYPE name type}, other comments, blank
 *       lines, or samples {@code name{label="value",...} value [timestamp]};
 *   <li>metric and label names match their grammars; label values use only the escapes
 *       {@code \\}, {@code \"} and {@code \n}; a label appears once per sample;
 *   <li>values are Go floats ({@code NaN}, {@code +Inf}, {@code -Inf} included);
 *   <li>a family's TYPE comes before its samples and once only; its samples are contiguous; a
 *       sample belongs to the family declared last (histograms: {@code _bucket} with {@code le},
 *       {@code _count}, {@code _sum}; summaries: {@code quantile}, {@code _count}, {@code _sum});
 *   <li>no two samples share a name and label set; a histogram's buckets are cumulative, end with
 *       {@code le="+Inf"}, and that bucket equals {@code _count}.
 * </ul>
 */
public final class PrometheusText {
  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final List<String> TYPES =
      List.of("counter", "gauge", "histogram", "summary", "untyped");

  /** One sample: its full name (with suffix), labels and value. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  /** One family: name, type, help text and samples in order. */
  public record Family(String name, String type, String help, List<Sample> samples) {
    /** The samples called {@code name} whose labels include {@code labels}. */
    public List<Sample> find(String name, Map<String, String> labels) {
      List<Sample> out = new ArrayList<>();
      for (Sample s : samples) {
        if (s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())) {
          out.add(s);
        }
      }
      return out;
    }

    /** The sum of the values of {@link #find}. */
    public double sum(String name, Map<String, String> labels) {
      return find(name, labels).stream().mapToDouble(Sample::value).sum();
    }
  }

  private PrometheusText() {}

  /** Parses {@code text}; throws {@link IllegalArgumentException} naming the line at fault. */
  public static Map<String, Family> parse(String text) {
    Map<String, Family> families = new LinkedHashMap<>();
    Map<String, String> help = new TreeMap<>();
    Family current = null;
    java.util.Set<String> seen = new java.util.HashSet<>();
    String[] lines = text.split("\n", -1);
    if (!text.isEmpty() && !text.endsWith("\n")) {
      throw new IllegalArgumentException("the text does not end with a line feed");
    }
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n];
      String where = "line " + (n + 1) + " \"" + line + "\": ";
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        String[] parts = line.split(" ", 4);
        if (parts.length >= 3 && parts[1].equals("HELP")) {
          check(METRIC_NAME.matcher(parts[2]).matches(), where + "bad metric name");
          check(help.put(parts[2], parts.length == 4 ? parts[3] : "") == null,
              where + "HELP twice");
        } else if (parts.length >= 3 && parts[1].equals("TYPE")) {
          check(parts.length == 4 && TYPES.contains(parts[3]), where + "bad TYPE line");
          check(METRIC_NAME.matcher(parts[2]).matches(), where + "bad metric name");
          check(!families.containsKey(parts[2]), where + "TYPE twice");
          current = new Family(parts[2], parts[3], null, new ArrayList<>());
          families.put(parts[2], current);
        }
        continue;
      }
      Sample s = sample(line, where);
      check(current != null && belongs(s, current), where + "sample outside its family "
          + (current == null ? "(no TYPE yet)" : current.name()));
      check(seen.add(s.name() + s.labels()), where + "duplicate sample");
      current.samples().add(s);
    }
    Map<String, Family> out = new LinkedHashMap<>();
    for (Family f : families.values()) {
      if (f.type().equals("histogram")) {
        checkHistogram(f);
      }
      out.put(f.name(), new Family(f.name(), f.type(), help.get(f.name()),
          Collections.unmodifiableList(f.samples())));
    }
    return Collections.unmodifiableMap(out);
  }

  private static boolean belongs(Sample s, Family f) {
    String n = s.name();
    switch (f.type()) {
      case "histogram":
        return n.equals(f.name() + "_bucket") && s.labels().containsKey("le")
            || n.equals(f.name() + "_count") || n.equals(f.name() + "_sum");
      case "summary":
        return n.equals(f.name()) && s.labels().containsKey("quantile")
            || n.equals(f.name() + "_count") || n.equals(f.name() + "_sum");
      default:
        return n.equals(f.name());
    }
  }

  private static Sample sample(String line, String where) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    check(METRIC_NAME.matcher(name).matches(), where + "bad metric name");
    Map<String, String> labels = new TreeMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        check(eq > i, where + "bad label");
        String label = line.substring(i, eq);
        check(LABEL_NAME.matcher(label).matches(), where + "bad label name " + label);
        check(eq + 1 < line.length() && line.charAt(eq + 1) == '"', where + "unquoted value");
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (;; j++) {
          check(j < line.length(), where + "unterminated label value");
          char c = line.charAt(j);
          if (c == '"') {
            break;
          }
          if (c == '\\') {
            check(j + 1 < line.length(), where + "dangling escape");
            char e = line.charAt(++j);
            check(e == '\\' || e == '"' || e == 'n', where + "bad escape \\" + e);
            value.append(e == 'n' ? '\n' : e);
          } else {
            value.append(c);
          }
        }
        check(labels.put(label, value.toString()) == null, where + "label twice: " + label);
        i = j + 1;
        check(i < line.length(), where + "unterminated labels");
        if (line.charAt(i) == ',') {
          i++;
        } else {
          check(line.charAt(i) == '}', where + "expected , or }");
        }
      }
      i++;
    }
    check(i < line.length() && line.charAt(i) == ' ', where + "no value");
    String[] rest = line.substring(i + 1).split(" ");
    check(rest.length == 1 || rest.length == 2, where + "bad value and timestamp");
    if (rest.length == 2) {
      check(rest[1].matches("-?[0-9]+"), where + "bad timestamp");
    }
    return new Sample(name, Collections.unmodifiableMap(labels), value(rest[0], where));
  }

  private static double value(String text, String where) {
    switch (text) {
      case "NaN":
        return Double.NaN;
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      default:
        check(text.matches("[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?"),
            where + "bad value " + text);
        return Double.parseDouble(text);
    }
  }

  private static void checkHistogram(Family f) {
    Map<Map<String, String>, List<Sample>> series = new LinkedHashMap<>();
    Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
    for (Sample s : f.samples()) {
      Map<String, String> key = new TreeMap<>(s.labels());
      key.remove("le");
      if (s.name().endsWith("_bucket")) {
        series.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
      } else if (s.name().endsWith("_count")) {
        counts.put(key, s.value());
      }
    }
    for (Map.Entry<Map<String, String>, List<Sample>> e : series.entrySet()) {
      double previous = 0;
      double previousLe = Double.NEGATIVE_INFINITY;
      for (Sample b : e.getValue()) {
        double le = value(b.labels().get("le"), f.name() + ": ");
        check(le > previousLe, f.name() + e.getKey() + ": buckets out of order");
        check(b.value() >= previous, f.name() + e.getKey() + ": buckets not cumulative");
        previous = b.value();
        previousLe = le;
      }
      check(previousLe == Double.POSITIVE_INFINITY, f.name() + e.getKey() + ": no +Inf bucket");
      Double count = counts.get(e.getKey());
      check(count != null && count == previous, f.name() + e.getKey()
          + ": +Inf bucket " + previous + " differs from _count " + count);
    }
  }

  /** The names of the families whose name passes {@code filter}. */
  public static List<String> names(Map<String, Family> families, Predicate<String> filter) {
    return families.keySet().stream().filter(filter).sorted().toList();
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
