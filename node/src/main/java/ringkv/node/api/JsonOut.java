package ringkv.node.api;
import ringkv.node.json.Json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Version;

/**
 * One JSON object answer written field by field straight to bytes: the key-value answers are
 * rendered on every request, and a tree plus {@code ObjectMapper.writeValueAsBytes} costs more
 * than the request's own work. The text is what the tree would give (compact, same escaping,
 * fields in call order).
 *
 * <p>Not thread-safe; one per answer.
 */
final class JsonOut {
  private final ByteArrayBuilder out = new ByteArrayBuilder(256);
  private final JsonGenerator g;

  JsonOut() {
    try {
      g = Json.MAPPER.getFactory().createGenerator(out);
      g.writeStartObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  JsonOut text(String name, String value) {
    try {
      g.writeStringField(name, value);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  JsonOut bool(String name, boolean value) {
    try {
      g.writeBooleanField(name, value);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  JsonOut number(String name, long value) {
    try {
      g.writeNumberField(name, value);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A field whose value is JSON text as stored (written verbatim). */
  JsonOut raw(String name, String json) {
    try {
      g.writeFieldName(name);
      g.writeRawValue(json);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A causal context in its client form, {@code {"keys":{"k":[counter,"node"],...}}}. */
  JsonOut context(String name, CausalContext context) {
    try {
      g.writeFieldName(name);
      g.writeStartObject();
      g.writeFieldName("keys");
      g.writeStartObject();
      for (var e : context.keys().entrySet()) {
        Version v = e.getValue();
        g.writeFieldName(e.getKey());
        g.writeStartArray();
        g.writeNumber(v.counter());
        g.writeString(v.node());
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeEndObject();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends the object and returns its text as UTF-8. */
  byte[] finish() {
    try {
      g.writeEndObject();
      g.close();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
