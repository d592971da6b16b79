package ringkv.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./kvs get|put|delete}: the shard dialect's key-value requests
 * ({@code /key-value-store/<key>}) with the causal metadata of a {@link Session} file: sent with
 * each request, replaced by what the answer carries. Key requests carry {@code CLIENT_TOKEN}.
 */
final class KeyValueCommands {
  static final String PREFIX = "/key-value-store/";

  private KeyValueCommands() {}

  /**
   * What every key-value command shares: the connection, the session file, the key, and
   * {@code --help} and {@code --version} (picocli applies this class's {@code @Command} to
   * every subclass).
   */
  @Command(mixinStandardHelpOptions = true)
  abstract static class KeyCommand implements Callable<Integer> {
    @Mixin
    Connection connection;

    @Option(names = "--session", paramLabel = "FILE",
        description = "Causal session file (default: $KVS_SESSION, else "
            + "~/.ringkv/session.json).")
    Path sessionFile;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    /** Sends {@code method} with {@code body} plus the session's metadata; saves the answer's. */
    Reply send(String method, ObjectNode body) {
      if (key.isEmpty()) {
        throw new CliException(ExitCode.USAGE, "the key is empty");
      }
      Session session = Session.load(Session.path(sessionFile, connection.env()));
      body.set(Session.FIELD, session.metadata());
      NodeClient.Request r = new NodeClient.Request(method, PREFIX + encode(key), body,
          NodeClient.Credential.CLIENT, null);
      Reply reply = connection.send(r);
      if (reply.json().isObject()) {
        session.save(reply.json()); // a 404 carries the metadata of the causes it waited for
      }
      return reply;
    }
  }

  @Command(name = "get",
      description = "Print the value of KEY (strings as they are, other values as JSON). "
          + "Exits 1 if the key does not exist.")
  static final class Get extends KeyCommand {
    @Override
    public Integer call() {
      Reply r = send("GET", Json.object()).expectOk();
      JsonNode value = r.json().path("value");
      return connection.output().result(() -> Json.object().put("key", key).set("value", value),
          value.isTextual() ? value.asText() : Json.compact(value));
    }
  }

  @Command(name = "put",
      description = "Store VALUE (a string; with --json-value, any JSON value) under KEY.")
  static final class Put extends KeyCommand {
    @Parameters(index = "1", paramLabel = "VALUE")
    private String value;

    @Option(names = "--json-value", description = "VALUE is JSON (a number, object, ...).")
    private boolean jsonValue;

    @Override
    public Integer call() {
      ObjectNode body = Json.object();
      body.set("value", parseValue(value, jsonValue));
      Reply r = send("PUT", body).expectOk();
      JsonNode shard = r.json().path("shard-id");
      return connection.output().result(() -> Json.object().put("key", key)
              .put("created", r.status() == 201)
              .put("shard-id", shard.isMissingNode() ? null : RingSnapshot.shardId(shard)),
          (r.status() == 201 ? "Added " : "Updated ") + key
              + (shard.isMissingNode() ? "" : " (shard " + shard.asText() + ")"));
    }
  }

  @Command(name = "delete",
      description = "Delete KEY. Exits 1 if the key does not exist.")
  static final class Delete extends KeyCommand {
    @Override
    public Integer call() {
      send("DELETE", Json.object()).expectOk();
      return connection.output().result(
          () -> Json.object().put("key", key).put("deleted", true), "Deleted " + key);
    }
  }

  static JsonNode parseValue(String value, boolean json) {
    if (!json) {
      return TextNode.valueOf(value);
    }
    try {
      JsonNode parsed = Json.MAPPER.readTree(value);
      if (parsed == null || parsed.isMissingNode()) {
        throw new CliException(ExitCode.USAGE, "--json-value: the value is empty");
      }
      return parsed;
    } catch (JsonProcessingException e) {
      throw new CliException(ExitCode.USAGE, "--json-value: " + value + " is not JSON: "
          + e.getOriginalMessage());
    }
  }

  /** Percent-encodes a key for one path segment (every byte but unreserved characters). */
  static String encode(String key) {
    StringBuilder b = new StringBuilder();
    for (byte x : key.getBytes(StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~') {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return b.toString();
  }
}
