package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Goal: the session file keeps exactly the causal metadata the last answer carried. Method:
 * load, save and reload in a temporary directory; a corrupt file and the default path.
 */
class SessionTest {
  @TempDir
  Path dir;

  @Test
  void aMissingFileIsAnEmptySession() {
    Session s = Session.load(dir.resolve("none.json"));
    assertTrue(s.metadata().isNull());
    assertFalse(Files.exists(dir.resolve("none.json")));
  }

  @Test
  void theMetadataOfAnAnswerIsStoredAsSentAndReadBack() throws Exception {
    Path file = dir.resolve("sub/dir/session.json");
    JsonNode answer = Json.MAPPER.readTree("{\"message\":\"Added successfully\","
        + "\"causal-metadata\":{\"keys\":{\"a\":[17,\"127.0.0.1:8082\"]}},\"shard-id\":1}");
    Session.load(file).save(answer);
    Session again = Session.load(file);
    assertEquals(answer.get("causal-metadata"), again.metadata());
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertEquals(1, files.count(), "no temporary file is left behind");
    }
  }

  @Test
  void anAnswerWithoutMetadataKeepsTheSession() throws Exception {
    Path file = dir.resolve("s.json");
    Files.writeString(file, "{\"causal-metadata\":{\"keys\":{}}}");
    Session s = Session.load(file).save(Json.MAPPER.readTree("{\"message\":\"x\"}"));
    assertEquals("{\"keys\":{}}", Json.compact(s.metadata()));
    assertEquals("{\"causal-metadata\":{\"keys\":{}}}", Files.readString(file));
  }

  @Test
  void aCorruptFileIsAUsageErrorThatNamesIt() throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{not json");
    CliException e = assertThrows(CliException.class, () -> Session.load(file));
    assertEquals(ExitCode.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void theFileComesFromTheOptionThenTheEnvironmentThenHome() {
    Path option = dir.resolve("o.json");
    assertEquals(option, Session.path(option, Map.of("KVS_SESSION", "/x")));
    assertEquals(Path.of("/x"), Session.path(null, Map.of("KVS_SESSION", "/x")));
    assertEquals(Path.of("/home/op/.ringkv/session.json"),
        Session.path(null, Map.of("HOME", "/home/op")));
    assertEquals(Path.of(System.getProperty("user.home"), ".ringkv", "session.json"),
        Session.path(null, Map.of()));
  }
}
