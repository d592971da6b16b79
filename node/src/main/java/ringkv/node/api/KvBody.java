package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import ringkv.gossip.CausalContext;
import ringkv.node.wire.ContextCache;
import ringkv.node.wire.ContextJson;

/**
 * The body of a key-value request, {@code {"value": <any JSON>, "<context field>": ...}}, read in
 * one streaming pass instead of as a tree: the value's exact text (byte for byte as the client
 * wrote it) and the causal context. Other fields are read and validated, not kept.
 *
 * <p>It accepts and refuses exactly what a tree parse ({@link Json#parseObject}) followed by
 * {@link ContextJson#read(JsonNode, long)} does: invalid JSON, trailing tokens, a body that is
 * not an object, and a string or field name anywhere with an unpaired UTF-16 surrogate are 400s
 * (bad JSON before bad metadata); a repeated field counts once, the last time.
 *
 * <p>The context is read by hand ({@link ContextJson#readPlain}) when the client wrote it as a
 * node writes it (compact, plain ASCII names, nothing else in it, as every RingKV answer and the
 * Java client write it), and is then kept as text to echo ({@link #echo}); any other form —
 * whitespace, escapes, extra fields, the string form — is read as a tree, as before, and
 * re-written on the way out.
 *
 * @param hasValue whether the body has a {@code "value"} field
 * @param rawValue the exact JSON text of the last {@code "value"} field, or null
 * @param context the context the client sent ({@link CausalContext#EMPTY} when none)
 * @param contextText the context exactly as the client wrote it (UTF-8, here ASCII), when that
 *     is the text a node would write for it; else null
 */
record KvBody(boolean hasValue, String rawValue, CausalContext context, byte[] contextText) {
  static final KvBody EMPTY = new KvBody(false, null, CausalContext.EMPTY, null);
  /** Reads one field's value as a tree, leaving the parser inside the body. */
  private static final ObjectReader SUBTREE =
      Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** The text to answer with for {@code replied}: the client's own when it is what was sent. */
  byte[] echo(CausalContext replied) {
    return replied == context ? contextText : null;
  }

  static KvBody parse(byte[] body, String contextField, long clockLimit) {
    if (body == null || isBlank(body)) {
      return EMPTY;
    }
    KvBody onlyContext = onlyContext(body, contextField, clockLimit);
    if (onlyContext != null) {
      return onlyContext;
    }
    KvBody fast = parse(body, contextField, clockLimit, true);
    return fast != null ? fast : parse(body, contextField, clockLimit, false);
  }

  /**
   * The body of a read or a delete as the Java client and most others write it, {@code
   * {"<contextField>":<context as a node writes it>}}, read by hand without a parser
   * ({@link ContextJson#readPlain}) or found among the contexts lately read
   * ({@link ContextCache}: a session sends the same one again and again); null for anything
   * else.
   */
  private static KvBody onlyContext(byte[] body, String contextField, long clockLimit) {
    int from = contextField.length() + 4; // {"<field>":
    if (body.length < from || body[0] != '{' || body[1] != '"'
        || body[from - 2] != '"' || body[from - 1] != ':'
        || !contextField.equals(new String(body, 2, from - 4, StandardCharsets.ISO_8859_1))) {
      return null;
    }
    int close = body.length - 1;
    while (close > from && isBlank(body[close])) {
      close--;
    }
    if (body[close] != '}') {
      return null;
    }
    ContextCache cache = ContextCache.forThisThread();
    ContextCache.Entry seen = cache.find(body, from, close);
    if (seen != null && seen.maxCounter() <= clockLimit) {
      return new KvBody(false, null, seen.context(), seen.text());
    }
    ContextJson.Plain plain = ContextJson.readPlain(body, from, clockLimit);
    if (plain == null || plain.end() != close) {
      return null;
    }
    ContextCache.Entry read = cache.keep(Arrays.copyOfRange(body, from, close), plain.context());
    return new KvBody(false, null, read.context(), read.text());
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }

  /**
   * One pass; {@code streamed}: the context is read by hand, and null is returned (read it
   * again as a tree) when it is not in the form a node writes or its reader would refuse it.
   */
  private static KvBody parse(byte[] body, String contextField, long clockLimit,
      boolean streamed) {
    try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
      JsonToken first = p.nextToken();
      if (first != JsonToken.START_OBJECT) {
        // Anything else is refused; the tree parse gives the same messages for bad JSON.
        Json.parseObject(body);
        throw new KvException(ErrorCode.BAD_JSON, "the body must be a JSON object");
      }
      String value = null;
      JsonNode contextTree = null;
      CausalContext context = null;
      byte[] contextText = null;
      boolean hasValue = false;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        checkSurrogates(name);
        JsonToken start = p.nextToken();
        if (name.equals(contextField)) {
          if (streamed) {
            int from = (int) p.currentTokenLocation().getByteOffset();
            ContextJson.Plain plain = start == JsonToken.START_OBJECT
                ? ContextJson.readPlain(body, from, clockLimit) : null;
            if (plain == null) {
              return null;
            }
            p.skipChildren(); // read already, by hand: valid JSON of plain ASCII
            context = plain.context();
            contextText = Arrays.copyOfRange(body, from, plain.end());
          } else {
            contextTree = SUBTREE.readTree(p);
            if (Json.hasUnpairedSurrogate(contextTree)) {
              throw unpaired();
            }
          }
        } else if (name.equals("value")) {
          long from = p.currentTokenLocation().getByteOffset();
          skipChecked(p, start);
          p.finishToken(); // a string's end is known only once it is read
          long to = p.currentLocation().getByteOffset();
          value = new String(body, (int) from, (int) (to - from), StandardCharsets.UTF_8);
          hasValue = true;
        } else {
          skipChecked(p, start);
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw new KvException(ErrorCode.BAD_JSON, "unexpected end of the body");
      }
      if (p.nextToken() != null) {
        throw new KvException(ErrorCode.BAD_JSON, "trailing token after the JSON object: "
            + p.currentToken());
      }
      if (!streamed) {
        context = ContextJson.read(contextTree, clockLimit);
      }
      return new KvBody(hasValue, value, context == null ? CausalContext.EMPTY : context,
          contextText);
    } catch (IOException e) {
      throw new KvException(ErrorCode.BAD_JSON, Json.firstLine(Json.originalMessage(e)));
    }
  }

  /** Reads past the value that starts with {@code start}, checking its strings and names. */
  private static void skipChecked(JsonParser p, JsonToken start) throws IOException {
    if (start == JsonToken.VALUE_STRING) {
      checkSurrogates(p.getText());
      return;
    }
    if (start != JsonToken.START_OBJECT && start != JsonToken.START_ARRAY) {
      return;
    }
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new KvException(ErrorCode.BAD_JSON, "unexpected end of the body");
      }
      switch (t) {
        case START_OBJECT, START_ARRAY -> depth++;
        case END_OBJECT, END_ARRAY -> depth--;
        case FIELD_NAME -> checkSurrogates(p.currentName());
        case VALUE_STRING -> checkSurrogates(p.getText());
        default -> { }
      }
    }
  }

  private static void checkSurrogates(String s) {
    if (Json.hasUnpairedSurrogate(s)) {
      throw unpaired();
    }
  }

  private static KvException unpaired() {
    return new KvException(ErrorCode.BAD_JSON, "a string holds an unpaired UTF-16 surrogate");
  }

  private static boolean isBlank(byte[] body) {
    for (byte b : body) {
      if (!isBlank(b)) {
        return false;
      }
    }
    return true;
  }
}
