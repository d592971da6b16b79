package ringkv.node.api;
import ringkv.node.json.Json;
import ringkv.node.error.KvException;
import ringkv.node.error.ErrorCode;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import ringkv.gossip.ContextBound;
import ringkv.node.engine.KvService;
import ringkv.node.peer.KvMessages;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/** Small helpers shared by the dialects to read requests. */
public final class Requests {
  private Requests() {}

  /** Why a form or multipart body is refused. */
  static final String NOT_JSON = "the body must be JSON (Content-Type: application/json),"
      + " not a form";

  /**
   * The body of a key-value request, read in one streaming pass (see {@link KvBody}); refused
   * like {@link #body} when it is multipart or not a JSON object.
   */
  static KvBody kvBody(HttpServerRequest req, Buffer body, String contextField,
      long clockLimit) {
    String type = req.getHeader("Content-Type");
    if (type != null && type.regionMatches(true, 0, "multipart/", 0, 10)) {
      throw new KvException(ErrorCode.BAD_REQUEST, NOT_JSON);
    }
    return KvBody.parse(body == null ? null : body.getBytes(), contextField, clockLimit);
  }

  /**
   * The request body as a JSON object ({@code {}} when absent). A multipart body is refused:
   * Vert.x takes it apart as a form and leaves no body, which would read as "no body" and let
   * a DELETE through whatever the client sent.
   */
  public static ObjectNode body(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/")) {
      throw new KvException(ErrorCode.BAD_REQUEST, NOT_JSON);
    }
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    return Json.parseObject(b == null ? null : b.getBytes());
  }

  /** True when the request declares a body Vert.x decodes as a form (or multipart). */
  static boolean isFormBody(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type == null) {
      return false;
    }
    String t = type.toLowerCase(java.util.Locale.ROOT);
    return t.startsWith("multipart/") || t.startsWith("application/x-www-form-urlencoded");
  }

  /** True when every '%' in {@code raw} starts a two-digit hexadecimal escape. */
  static boolean hasValidEscapes(String raw) {
    for (int i = raw.indexOf('%'); i >= 0; i = raw.indexOf('%', i + 1)) {
      if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0
          || Character.digit(raw.charAt(i + 2), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The raw path after {@code prefix}, percent-decoded as UTF-8 ({@code +} stays a plus). */
  public static String pathRest(RoutingContext ctx, String prefix) {
    return pathRest(ctx.request().path(), prefix);
  }

  /** {@link #pathRest(RoutingContext, String)} of a raw request path. */
  static String pathRest(String path, String prefix) {
    int at = path.indexOf(prefix);
    String raw = at < 0 ? "" : path.substring(at + prefix.length());
    return percentDecode(raw);
  }

  static String percentDecode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          throw new KvException(ErrorCode.BAD_REQUEST, "bad percent-encoding in the path");
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new KvException(ErrorCode.BAD_REQUEST, "bad percent-encoding in the path");
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(bytes, 0, bytes.length);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(out.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new KvException(ErrorCode.BAD_REQUEST, "the path is not valid UTF-8");
    }
  }

  /** A positive shard id from the path, or 400. */
  public static int shardId(String text) {
    try {
      int id = Integer.parseInt(text);
      if (id >= 1) {
        return id;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new KvException(
        ErrorCode.BAD_REQUEST, "shard id \"" + text + "\" is not a positive integer");
  }

  /**
   * The most causal metadata entries the reply keeps before it drops stable ones: the
   * {@code RingKV-Context-Entries} header (1 to {@link ContextBound#ENTRIES_MAX}), the maximum
   * without it (what round-trips for the course clients); 400 otherwise.
   */
  public static int contextEntries(HttpServerRequest req) {
    String raw = req.getHeader(KvService.CONTEXT_ENTRIES_HEADER);
    if (raw == null) {
      return ContextBound.ENTRIES_MAX;
    }
    try {
      int entries = Integer.parseInt(raw.trim());
      if (entries >= 1 && entries <= ContextBound.ENTRIES_MAX) {
        return entries;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new KvException(ErrorCode.BAD_REQUEST, KvService.CONTEXT_ENTRIES_HEADER
        + " must be an integer from 1 to " + ContextBound.ENTRIES_MAX + " (causal metadata"
        + " entries a reply keeps before it drops stable ones), not \"" + raw + "\"");
  }

  /**
   * How many replicas of the key's shard must hold a write before it is answered: the
   * {@code RingKV-Acks} header (1 to {@link KvMessages#ACKS_MAX}), 1 without it; 400 otherwise.
   * The course clients never send it.
   */
  public static int acks(HttpServerRequest req) {
    String raw = req.getHeader(KvService.ACKS_HEADER);
    if (raw == null) {
      return 1;
    }
    try {
      int acks = Integer.parseInt(raw.trim());
      if (acks >= 1 && acks <= KvMessages.ACKS_MAX) {
        return acks;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new KvException(ErrorCode.BAD_REQUEST, KvService.ACKS_HEADER + " must be an integer"
        + " from 1 to " + KvMessages.ACKS_MAX + " (replicas that hold a write before it is"
        + " answered), not \"" + raw + "\"");
  }
}
