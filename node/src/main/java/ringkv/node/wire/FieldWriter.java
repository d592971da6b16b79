package ringkv.node.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import ringkv.gossip.CausalContext;
import ringkv.gossip.Entry;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Writes the fields of one JSON object, typed as {@link Fields} reads them back: each message's
 * codec names its fields once on each side. A null text is not written (read back as absent).
 */
public final class FieldWriter {
  private final JsonGenerator g;

  public FieldWriter(JsonGenerator g) {
    this.g = g;
  }

  public FieldWriter text(String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
    return this;
  }

  /** A text field that is written as {@code null} when absent (a paging cursor's end). */
  public FieldWriter textOrNull(String name, String value) throws IOException {
    if (value == null) {
      g.writeNullField(name);
    } else {
      g.writeStringField(name, value);
    }
    return this;
  }

  public FieldWriter number(String name, long value) throws IOException {
    g.writeNumberField(name, value);
    return this;
  }

  public FieldWriter bool(String name, boolean value) throws IOException {
    g.writeBooleanField(name, value);
    return this;
  }

  public FieldWriter address(String name, NodeAddress value) throws IOException {
    g.writeStringField(name, value.toString());
    return this;
  }

  /** Writes one element of an array with the generator. */
  @FunctionalInterface
  public interface Element<T> {
    void write(JsonGenerator g, T item) throws IOException;
  }

  /** An array of {@code items}, each written by {@code element}. */
  public <T> FieldWriter array(String name, Collection<T> items, Element<T> element)
      throws IOException {
    g.writeArrayFieldStart(name);
    for (T item : items) {
      element.write(g, item);
    }
    g.writeEndArray();
    return this;
  }

  public FieldWriter texts(String name, Collection<String> values) throws IOException {
    return array(name, values, JsonGenerator::writeString);
  }

  public FieldWriter addresses(String name, Collection<NodeAddress> values) throws IOException {
    return array(name, values, (out, a) -> out.writeString(a.toString()));
  }

  public FieldWriter context(String name, CausalContext value) throws IOException {
    g.writeFieldName(name);
    ContextJson.write(g, value);
    return this;
  }

  public FieldWriter entries(String name, List<Entry> values) throws IOException {
    g.writeFieldName(name);
    EntryJson.writeAll(g, values);
    return this;
  }

  public FieldWriter config(String name, ClusterConfig value) throws IOException {
    g.writeFieldName(name);
    ConfigJson.write(g, value);
    return this;
  }

  /** Any field, written by {@code body} after its name. */
  public FieldWriter field(String name, JsonWriter.Body body) throws IOException {
    g.writeFieldName(name);
    body.write(g);
    return this;
  }
}
