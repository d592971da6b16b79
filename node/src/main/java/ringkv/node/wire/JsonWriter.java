package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.node.json.Json;

/**
 * One JSON document written straight to bytes, field by field: every answer to a client and every
 * message between nodes is written this way (a tree plus {@code writeValueAsBytes} costs more
 * than the request's own work on the hot paths). The text is what a tree would give: compact,
 * the same escaping, fields in call order.
 *
 * <p>Not thread-safe; one per document.
 */
public final class JsonWriter {
  /** Writes a value with the generator; I/O errors cannot happen on an in-memory buffer. */
  @FunctionalInterface
  public interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private final ByteArrayBuilder out;
  private final JsonGenerator g;

  /** A writer positioned inside a new top-level object. */
  public JsonWriter() {
    this(256);
  }

  public JsonWriter(int sizeHint) {
    out = new ByteArrayBuilder(sizeHint);
    try {
      g = Json.MAPPER.getFactory().createGenerator(out);
      g.writeStartObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The bytes of one JSON value written by {@code body}. */
  public static byte[] bytes(int sizeHint, Body body) {
    ByteArrayBuilder out = new ByteArrayBuilder(sizeHint);
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public JsonWriter text(String name, String value) {
    return with(g -> g.writeStringField(name, value));
  }

  public JsonWriter bool(String name, boolean value) {
    return with(g -> g.writeBooleanField(name, value));
  }

  public JsonWriter number(String name, long value) {
    return with(g -> g.writeNumberField(name, value));
  }

  /** A field whose value is JSON text as stored (written verbatim). */
  public JsonWriter raw(String name, String json) {
    return with(g -> {
      g.writeFieldName(name);
      g.writeRawValue(json);
    });
  }

  /**
   * A field whose value is {@code json}, UTF-8 JSON text copied as it is (no re-encoding: the
   * generator writes the separator, then the bytes go straight to the output).
   */
  public JsonWriter raw(String name, byte[] json) {
    return with(g -> {
      g.writeFieldName(name);
      g.writeRawValue("");
      g.flush();
      out.write(json, 0, json.length);
    });
  }

  /**
   * A causal context: {@code asSent}, the client's own text of it, when given (a reply whose
   * context is the one the client sent and wrote as a node would), else written.
   */
  public JsonWriter context(String name, CausalContext context, byte[] asSent) {
    return asSent != null ? raw(name, asSent) : context(name, context);
  }

  /** A causal context in its one JSON form ({@link ContextJson}). */
  public JsonWriter context(String name, CausalContext context) {
    return with(g -> {
      g.writeFieldName(name);
      ContextJson.write(g, context);
    });
  }

  /** An array of entries in their one JSON form ({@link EntryJson}). */
  public JsonWriter entries(String name, List<Entry> entries) {
    return with(g -> {
      g.writeFieldName(name);
      EntryJson.writeAll(g, entries);
    });
  }

  /** Any field, written by {@code body} after its name. */
  public JsonWriter field(String name, Body body) {
    return with(g -> {
      g.writeFieldName(name);
      body.write(g);
    });
  }

  private JsonWriter with(Body body) {
    try {
      body.write(g);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends the object and returns its text as UTF-8. */
  public byte[] finish() {
    try {
      g.writeEndObject();
      g.close();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
