package ringkv.node.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Goal: with {@code LOG_FORMAT=json} every log line is one JSON object with time, level, logger,
 * message, node, epoch and the request id when there is one; messages with quotes, newlines and
 * stack traces stay on one line. Method: lay out hand-made logging events in a private logback
 * context and parse each line with Jackson; check request ids are validated and generated.
 */
class JsonLayoutTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Test
  void oneObjectPerLineWithNodeEpochAndRequestId() throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    context.putProperty(LogFields.NODE, "127.0.0.1:8085");
    context.putProperty(LogFields.EPOCH, "7");
    JsonLayout layout = new JsonLayout();
    layout.setContext(context);
    layout.start();
    Logger logger = context.getLogger("ringkv.node.engine.ViewChanges");
    LoggingEvent event = new LoggingEvent("fqcn", logger, Level.INFO,
        "event=x quote=\"{}\"\nsecond line", new IllegalStateException("boom"),
        new Object[] {"q"});
    event.setMDCPropertyMap(Map.of(RequestIds.MDC_KEY, "abc-123"));
    String line = layout.doLayout(event);
    assertTrue(line.endsWith("\n"), line);
    assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
    JsonNode json = MAPPER.readTree(line);
    assertTrue(json.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), line);
    assertEquals("INFO", json.get("level").asText());
    assertEquals("ringkv.node.engine.ViewChanges", json.get("logger").asText());
    assertEquals("event=x quote=\"q\"\nsecond line", json.get("message").asText());
    assertEquals("127.0.0.1:8085", json.get("node").asText());
    assertEquals(7, json.get("epoch").asLong());
    assertEquals("abc-123", json.get("request-id").asText());
    assertTrue(json.get("exception").asText().contains("IllegalStateException: boom"));

    LoggingEvent plain = new LoggingEvent("fqcn", logger, Level.DEBUG, "plain", null, null);
    JsonNode p = MAPPER.readTree(layout.doLayout(plain));
    assertFalse(p.has("request-id"));
    assertFalse(p.has("exception"));
  }

  @Test
  void requestIdsAreSaneTokens() {
    assertTrue(RequestIds.isValid("abc-123_x.y:z"));
    assertFalse(RequestIds.isValid(""));
    assertFalse(RequestIds.isValid(null));
    assertFalse(RequestIds.isValid("a b"));
    assertFalse(RequestIds.isValid("a\r\nX-Injected: 1"));
    assertFalse(RequestIds.isValid("x".repeat(RequestIds.CHARS_MAX + 1)));
    String id = RequestIds.newId();
    assertTrue(RequestIds.isValid(id) && id.length() == 16, id);
  }
}
