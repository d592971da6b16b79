package ringkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The command-line shape {@code ./kvs bench} and {@code ./kvs bench --compare} share: parse the
 * options (exit 2 and the message when they are bad, the usage when help was asked), run, print
 * the report as text and, with {@code --json}, write it as JSON too (exit 1 when the run could
 * not be done, else 0).
 *
 * <p>Stateless; called once from a {@code main}.
 */
final class BenchMain {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** A report both commands print and may write as JSON. */
  interface Printable {
    String text();

    JsonNode json();

    /** Writes {@link #json} to {@code path} (indented), creating its directory. */
    default void writeJson(Path path) throws IOException {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      JSON.writeValue(path.toFile(), json());
    }
  }

  /** Parses the arguments: null when help was asked; IllegalArgumentException when bad. */
  interface Parser<O> {
    O parse(String[] args);
  }

  /** Does the run the options ask for. */
  interface Run<O> {
    Printable run(O options) throws IOException;
  }

  private BenchMain() {
  }

  /**
   * Runs one command and exits the JVM (but returns after printing the usage).
   *
   * @param name how error lines start, e.g. {@code bench}
   * @param json where the options ask for the JSON report, or null
   */
  static <O> void run(String name, String[] args, Parser<O> parser, String usage,
      Function<O, Path> json, Run<O> run) {
    O options;
    try {
      options = parser.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(name + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.println(usage);
      return;
    }
    try {
      Printable report = run.run(options);
      System.out.print(report.text());
      Path file = json.apply(options);
      if (file != null) {
        report.writeJson(file);
        System.out.println("JSON written to " + file);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println(name + ": " + e);
      System.exit(1);
    }
    System.exit(0);
  }
}
