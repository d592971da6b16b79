package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.function.Supplier;

/**
 * Where a command writes: results to stdout (a table for people, or JSON with {@code --json}),
 * errors and progress to stderr, so {@code ./kvs ... --json | jq} sees JSON only.
 */
record Output(PrintWriter out, PrintWriter err, boolean json) {

  void line(String s) {
    out.println(s);
    out.flush();
  }

  void json(JsonNode node) {
    out.println(Json.pretty(node));
    out.flush();
  }

  /**
   * A command's result: {@code json} with {@code --json}, otherwise the {@code table} lines
   * (made only then); returns the code of {@link ExitCode#OK} for the command to exit with.
   */
  int result(Supplier<JsonNode> json, Supplier<List<String>> table) {
    if (this.json) {
      json(json.get());
    } else {
      table.get().forEach(this::line);
    }
    return ExitCode.OK.code();
  }

  /**
   * A command's one-line result: {@code json} with {@code --json}, otherwise {@code line};
   * returns the code of {@link ExitCode#OK} for the command to exit with.
   */
  int result(Supplier<JsonNode> json, String line) {
    return result(json, () -> List.of(line));
  }

  /** A progress line for people: on stderr, never with {@code --json}. */
  void progress(String s) {
    if (!json) {
      err.println(s);
      err.flush();
    }
  }
}
