package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * The causal session of {@code ./kvs get/put/delete}: the causal metadata the last answer
 * carried, kept in a file ({@code {"causal-metadata": M}}) and sent with the next request, so
 * a sequence of CLI runs reads its own writes and never goes back in time (SPEC §6). The
 * metadata is opaque: stored exactly as the node sent it. A missing file is an empty session;
 * the file is replaced atomically, so an interrupted run leaves the old one or the new one.
 *
 * @param file the session file
 * @param metadata the metadata to send: JSON null when the session has no history yet
 */
record Session(Path file, JsonNode metadata) {
  static final String FIELD = "causal-metadata";

  /**
   * {@code --session}, else {@code $KVS_SESSION}, else {@code ~/.ringkv/session.json} with
   * {@code ~} from {@code $HOME} as a shell has it (else the JVM's {@code user.home}).
   */
  static Path path(Path option, Map<String, String> env) {
    if (option != null) {
      return option;
    }
    String fromEnv = env.get("KVS_SESSION");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return Path.of(fromEnv);
    }
    String home = env.getOrDefault("HOME", "");
    return Path.of(home.isBlank() ? System.getProperty("user.home") : home, ".ringkv",
        "session.json");
  }

  static Session load(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      JsonNode root = Json.MAPPER.readTree(text);
      if (root == null || !root.isObject()) {
        throw new IOException("not a JSON object");
      }
      return new Session(file, root.path(FIELD).isMissingNode() ? NullNode.getInstance()
          : root.get(FIELD));
    } catch (NoSuchFileException e) {
      return new Session(file, NullNode.getInstance());
    } catch (IOException e) {
      throw new CliException(ExitCode.USAGE, "session file " + file + " is unreadable ("
          + e.getMessage() + "); remove it to start a new session");
    }
  }

  /** Stores {@code next} as the session's metadata, if the answer carried any. */
  Session save(JsonNode answer) {
    JsonNode next = answer.get(FIELD);
    if (next == null) {
      return this;
    }
    ObjectNode root = Json.object();
    root.set(FIELD, next);
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".session", ".tmp");
      try {
        Files.writeString(tmp, Json.compact(root) + "\n", StandardCharsets.UTF_8);
        move(tmp, file);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new CliException(ExitCode.USAGE, "cannot write session file " + file + ": " + e);
    }
    return new Session(file, next);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
