package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
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
}
