package ringkv.node.peer;

/** A message with nothing to say: {@code {}} (unknown fields are ignored). */
public record Empty() {
  public static final Empty INSTANCE = new Empty();

  public static final Codec<Empty> CODEC = Codec.object("the body", (out, m) -> { },
      f -> INSTANCE);
}
