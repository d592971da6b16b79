package ringkv.node.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/*
 * Goal: time reaches node/src/main through one door, ringkv.node.time.Clock (issue 13), so a
 * test can hand every part of a node a fake clock. A class that reads the system clock itself
 * escapes it (Admission's read deadlines did until session 15).
 * Method: plain text: every main source file but Clock.java, comments left out, must not name
 * a system clock reading (System.currentTimeMillis/nanoTime, Instant.now, ...).
 */
class ClockReadsTest {
  private static final Path SOURCES = Path.of("src/main/java");
  private static final Pattern READS = Pattern.compile("System\\s*(\\.|::)\\s*"
      + "(currentTimeMillis|nanoTime)|Instant\\s*\\.\\s*now|LocalDate(Time)?\\s*\\.\\s*now"
      + "|java\\.time\\.Clock\\s*\\.\\s*system|new\\s+java\\.util\\.Date\\s*\\(\\s*\\)");
  private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*",
      Pattern.DOTALL);

  @Test
  void onlyTheClockReadsTheSystemClock() throws IOException {
    List<String> readers = new ArrayList<>();
    int files;
    try (Stream<Path> all = Files.walk(SOURCES)) {
      List<Path> sources = all.filter(p -> p.toString().endsWith(".java")).toList();
      files = sources.size();
      for (Path p : sources) {
        if (p.endsWith(Path.of("ringkv/node/time/Clock.java"))) {
          continue;
        }
        String code = COMMENTS.matcher(Files.readString(p)).replaceAll("");
        if (READS.matcher(code).find()) {
          readers.add(SOURCES.relativize(p).toString());
        }
      }
    }
    assertTrue(files > 50, "read node's sources: " + files);
    assertEquals(List.of(), readers, "read the system clock instead of ringkv.node.time.Clock");
  }

  @Test
  void thePatternSeesEveryKindOfRead() {
    for (String read : List.of("long t = System.nanoTime();", "f(System::nanoTime)",
        "System.currentTimeMillis()", "Instant.now()", "java.time.Clock.systemUTC()")) {
      assertTrue(READS.matcher(read).find(), read);
    }
  }
}
