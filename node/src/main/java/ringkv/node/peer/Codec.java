package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.util.function.Function;
import ringkv.node.wire.FieldWriter;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.node.wire.JsonWriter;

/**
 * The one JSON codec of a message between nodes, used by the sender and the receiver alike.
 * Reading is strict: a body that is not the message is a 400 naming what is wrong.
 */
public interface Codec<T> {
  /** Writes {@code value} as one JSON value. */
  void write(JsonGenerator g, T value) throws IOException;

  /** Reads one value; the parser is positioned before its first token. */
  T read(JsonParser p) throws IOException;

  default byte[] encode(T value) {
    return JsonWriter.bytes(256, g -> write(g, value));
  }

  default T decode(byte[] bytes) {
    return JsonReader.read(bytes, this::read);
  }

  /** Writes a message's fields. */
  @FunctionalInterface
  interface Writer<T> {
    void write(FieldWriter out, T value) throws IOException;
  }

  /**
   * The codec of a message that is one JSON object: {@code writer} writes its fields, and
   * {@code reader} builds it from them ({@link Fields} refuses what is missing or ill-typed,
   * naming {@code what}).
   */
  static <T> Codec<T> object(String what, Writer<T> writer, Function<Fields, T> reader) {
    return new Codec<>() {
      @Override
      public void write(JsonGenerator g, T value) throws IOException {
        g.writeStartObject();
        writer.write(new FieldWriter(g), value);
        g.writeEndObject();
      }

      @Override
      public T read(JsonParser p) throws IOException {
        return reader.apply(Fields.read(p, what));
      }
    };
  }
}
