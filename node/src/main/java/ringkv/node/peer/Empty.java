package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import ringkv.node.wire.JsonReader;

/** A message with nothing to say: {@code {}} (unknown fields are ignored). */
public record Empty() {
  public static final Empty INSTANCE = new Empty();

  public static final Codec<Empty> CODEC = new Codec<>() {
    @Override
    public void write(JsonGenerator g, Empty value) throws IOException {
      g.writeStartObject();
      g.writeEndObject();
    }

    @Override
    public Empty read(JsonParser p) throws IOException {
      JsonReader.document(p, "the body", (name, q) -> JsonReader.skip(q));
      return INSTANCE;
    }
  };
}
