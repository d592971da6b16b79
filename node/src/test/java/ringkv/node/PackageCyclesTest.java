package ringkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/*
 * Goal: the packages of node/src/main depend one way: no package uses a package that uses it
 * back, directly or through others (issue 13). A cycle means two packages are one in disguise
 * or a collaborator should be handed in from the composition root.
 * Method: plain text, no ArchUnit: read every source file's package line, its import lines and
 * the fully qualified ringkv.node names in its code (comments skipped), build the graph of
 * package uses, and look for strongly connected components of more than one package (Tarjan).
 * The failure names the packages of each cycle and, for each use, the files that make it.
 */
class PackageCyclesTest {
  private static final Path SOURCES = Path.of("src/main/java");
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;",
      Pattern.MULTILINE);
  /** A use of a type of node: the package is the lower-case segments before the type. */
  private static final Pattern USE =
      Pattern.compile("\\b(ringkv\\.node(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z*]");

  @Test
  void nodePackagesHaveNoCycles() {
    Map<String, Map<String, Set<String>>> uses = uses();
    assertTrue(uses.size() > 5, "read the packages of node: " + uses.keySet());
    List<List<String>> cycles = new Tarjan(uses).cycles();
    StringBuilder why = new StringBuilder();
    for (List<String> cycle : cycles) {
      why.append("\ncycle ").append(cycle);
      for (String from : cycle) {
        for (String to : cycle) {
          Set<String> files = uses.get(from).get(to);
          if (files != null) {
            why.append("\n  ").append(from).append(" -> ").append(to).append(": ").append(files);
          }
        }
      }
    }
    assertEquals(List.of(), cycles, why.toString());
  }

  @Test
  void aCycleIsFound() {
    Map<String, Map<String, Set<String>>> uses = new TreeMap<>();
    uses.put("a", Map.of("b", Set.of("A.java")));
    uses.put("b", Map.of("c", Set.of("B.java")));
    uses.put("c", Map.of("a", Set.of("C.java")));
    uses.put("d", Map.of("a", Set.of("D.java")));
    assertEquals(List.of(List.of("a", "b", "c")), new Tarjan(uses).cycles());
  }

  /** Package -> used package -> files of the first that use the second. */
  private static Map<String, Map<String, Set<String>>> uses() {
    Map<String, Map<String, Set<String>>> uses = new TreeMap<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String source = Files.readString(file);
        Matcher p = PACKAGE.matcher(source);
        if (!p.find()) {
          continue;
        }
        String pkg = p.group(1);
        Map<String, Set<String>> out = uses.computeIfAbsent(pkg, k -> new TreeMap<>());
        for (String line : source.split("\n")) {
          String t = line.strip();
          if (t.startsWith("*") || t.startsWith("//") || t.startsWith("/*")) {
            continue; // javadoc links are not uses
          }
          Matcher m = USE.matcher(t);
          while (m.find()) {
            if (!m.group(1).equals(pkg)) {
              out.computeIfAbsent(m.group(1), k -> new TreeSet<>())
                  .add(file.getFileName().toString());
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return uses;
  }

  /** Strongly connected components of more than one package, each sorted, in name order. */
  private static final class Tarjan {
    private final Map<String, Map<String, Set<String>>> graph;
    private final Map<String, Integer> index = new TreeMap<>();
    private final Map<String, Integer> low = new TreeMap<>();
    private final Deque<String> stack = new ArrayDeque<>();
    private final Set<String> onStack = new TreeSet<>();
    private final List<List<String>> cycles = new ArrayList<>();

    Tarjan(Map<String, Map<String, Set<String>>> graph) {
      this.graph = graph;
    }

    List<List<String>> cycles() {
      for (String v : graph.keySet()) {
        if (!index.containsKey(v)) {
          visit(v);
        }
      }
      cycles.sort((x, y) -> x.get(0).compareTo(y.get(0)));
      return cycles;
    }

    private void visit(String v) {
      index.put(v, index.size());
      low.put(v, index.get(v));
      stack.push(v);
      onStack.add(v);
      for (String w : graph.getOrDefault(v, Map.of()).keySet()) {
        if (!index.containsKey(w)) {
          visit(w);
          low.put(v, Math.min(low.get(v), low.get(w)));
        } else if (onStack.contains(w)) {
          low.put(v, Math.min(low.get(v), index.get(w)));
        }
      }
      if (low.get(v).equals(index.get(v))) {
        List<String> component = new ArrayList<>();
        String w;
        do {
          w = stack.pop();
          onStack.remove(w);
          component.add(w);
        } while (!w.equals(v));
        if (component.size() > 1) {
          component.sort(null);
          cycles.add(component);
        }
      }
    }
  }
}
