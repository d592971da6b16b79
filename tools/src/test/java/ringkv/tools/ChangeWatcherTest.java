package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Goal: the progress line of a running change says how far it is and how long is left. Method:
 * answers of GET /admin/view-change as the node sends them, and the line for each.
 */
class ChangeWatcherTest {
  @Test
  void aCopyShowsCopiesDoneOfTheTotalRateAndEta() throws Exception {
    JsonNode status = Json.MAPPER.readTree("{\"status\":\"copying\",\"epoch\":2,\"started-ms\":1,"
        + "\"progress\":{\"keys-total\":1200,\"keys-done\":600,\"bytes-done\":86176,"
        + "\"fraction\":0.5,\"keys-per-second\":1415,\"eta-ms\":424},\"participants\":{}}");
    assertEquals(Optional.of("copying (epoch 2): 600/1200 key copies (50%), 1415 keys/s, "
        + "ETA 0.4 s"), ChangeWatcher.describe(status));
  }

  @Test
  void anUnknownEtaAStartAnEndAndAnIdleNode() throws Exception {
    JsonNode early = Json.MAPPER.readTree("{\"status\":\"copying\",\"epoch\":7,\"progress\":"
        + "{\"keys-total\":10,\"keys-done\":0,\"keys-per-second\":0,\"eta-ms\":null}}");
    assertEquals(Optional.of("copying (epoch 7): 0/10 key copies (0%), 0 keys/s, ETA unknown"),
        ChangeWatcher.describe(early));
    JsonNode start = Json.MAPPER.readTree("{\"status\":\"copying\",\"epoch\":7,\"progress\":"
        + "{\"keys-total\":0,\"keys-done\":0,\"keys-per-second\":0,\"eta-ms\":0}}");
    assertEquals(Optional.of("copying (epoch 7): finding the keys to copy"),
        ChangeWatcher.describe(start));
    JsonNode stop = Json.MAPPER.readTree("{\"status\":\"committing\",\"epoch\":7,"
        + "\"progress\":{\"keys-total\":10,\"keys-done\":10,\"eta-ms\":0}}");
    assertEquals(Optional.of("committing (epoch 7): 10/10 key copies (100%), the copy is over"),
        ChangeWatcher.describe(stop));
    assertEquals(Optional.empty(),
        ChangeWatcher.describe(Json.MAPPER.readTree("{\"status\":\"idle\"}")));
  }
}
