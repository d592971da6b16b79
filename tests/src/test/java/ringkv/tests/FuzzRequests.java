package ringkv.tests;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/*
 * Goal: the requests of FuzzTest (issue 6 item 5): malformed input for every public endpoint of
 * both dialects and for the node-to-node endpoints, plus a share of valid requests with odd
 * keys, values and metadata whose answers must be successes.
 *
 * Method: a seeded generator (java.util.Random) picks a family by weight and builds one request
 * of it, labelled with what the answer must be: VALID (2xx), INVALID (an error of SPEC §2) or
 * EITHER (a success or an error of SPEC §2; for requests whose validity the spec leaves open,
 * such as a value nested deeper than the JSON parser allows). Two invariants keep the cluster
 * intact, so that its data can be checked afterwards: a request that may succeed never writes a
 * seeded key (it writes keys starting with "fuzz-"), and nothing ever names a valid new node
 * address or a usable shard count (no legitimate membership change). Requests the JDK client
 * cannot send (invalid escapes, raw unicode, odd methods, headers or content types) go through
 * a minimal HTTP/1.1 client on a plain socket.
 */
final class FuzzRequests {
  static final String KV = "/key-value-store/";
  static final String KVS = "/kvs/keys/";
  static final String SHARD = "/key-value-store-shard/";
  static final int BODY_BYTES_MAX = 1 << 20;

  /** A key as sent in a path and as the node must decode it; strict: valid by any reading. */
  record KeyPath(String segment, String key, boolean strict) {}

  /** Placeholder in a follow-up's body for the metadata of the answer before it. */
  static final String PREVIOUS_METADATA = "\"@previous-metadata@\"";

  /** What the answer to a request must be. */
  enum Expect { VALID, INVALID, EITHER }

  /** One request and what its answer must be; fluent setters, built by {@link Generator}. */
  static final class Req {
    final String family;
    final String method;
    final String path;
    int node;
    String body;
    byte[] bytes;
    /** null: application/json when there is a body; "": no Content-Type header at all. */
    String contentType;
    final List<String> headers = new ArrayList<>();
    String version = "HTTP/1.1";
    boolean noHost;
    boolean chunked;
    Expect expect = Expect.INVALID;
    Set<Integer> statuses = Set.of();
    /** For a read of a seeded key: the value the answer must carry. */
    JsonNode value;
    /** A request sent right after this one, on the same thread. */
    Req then;

    Req(String family, String method, String path) {
      this.family = family;
      this.method = method;
      this.path = path;
    }

    Req body(String text) {
      this.body = text;
      return this;
    }

    Req valid() {
      this.expect = Expect.VALID;
      return this;
    }

    Req either() {
      this.expect = Expect.EITHER;
      return this;
    }

    Req status(Integer... allowed) {
      this.statuses = Set.of(allowed);
      return this;
    }

    byte[] bodyBytes() {
      return bytes != null ? bytes : body == null ? null : body.getBytes(StandardCharsets.UTF_8);
    }

    /** The JDK client refuses or rewrites this request: send it on a socket. */
    boolean needsRawSocket() {
      return bytes != null || contentType != null || !headers.isEmpty() || noHost || chunked
          || !version.equals("HTTP/1.1") || !STANDARD_METHODS.contains(method)
          || !uriSafe(path);
    }

    String describe(String address) {
      StringBuilder s = new StringBuilder(method).append(" http://").append(address)
          .append(clip(path, 200));
      if (!version.equals("HTTP/1.1") || noHost) {
        s.append(" [").append(version).append(noHost ? ", no Host" : "").append(']');
      }
      if (contentType != null) {
        s.append(" [Content-Type: ").append(contentType.isEmpty() ? "none" : contentType)
            .append(']');
      }
      headers.forEach(h -> s.append(" [").append(clip(h, 60)).append(']'));
      if (chunked) {
        s.append(" [chunked]");
      }
      byte[] b = bodyBytes();
      if (b != null) {
        s.append(" body(").append(b.length).append(" B)=")
            .append(clip(new String(b, StandardCharsets.UTF_8), 200));
      }
      return s.toString();
    }
  }

  /** An answer: status, content type and body, or why there was none. */
  record Answer(int status, String contentType, String body, String failure) {
    static Answer failed(String why) {
      return new Answer(-1, null, null, why);
    }

    String describe() {
      return failure != null ? "no answer: " + failure
          : "HTTP " + status + " " + contentType + " " + clip(body, 300);
    }
  }

  private static final Set<String> STANDARD_METHODS =
      Set.of("GET", "PUT", "DELETE", "POST", "HEAD", "PATCH", "OPTIONS");

  static String clip(String s, int max) {
    if (s == null) {
      return "null";
    }
    String flat = s.replace("\r", "\\r").replace("\n", "\\n");
    return flat.length() > max ? flat.substring(0, max) + "...(" + s.length() + " chars)" : flat;
  }

  /** True when java.net.URI takes the path as it is (printable ASCII, valid escapes). */
  static boolean uriSafe(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c <= ' ' || c >= 0x7f || "\"<>\\^`{|}#[]".indexOf(c) >= 0) {
        return false;
      }
      if (c == '%' && (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0
          || Character.digit(path.charAt(i + 2), 16) < 0)) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------------- data

  /** Bodies that are not JSON at all. */
  static final List<String> BROKEN_JSON = List.of("{", "}", "{\"value\":", "{\"value\":1",
      "{\"value\":1,}", "{'value':1}", "{value:1}", "{\"value\":01}", "{\"value\":NaN}",
      "{\"value\":Infinity}", "{\"value\":-Infinity}", "{\"value\":1}}", "{\"value\":1} x",
      "{\"value\":1}{\"value\":2}", "[", "\"", "nul", "tru", "{\"value\":\"\\x\"}",
      "{\"value\":\"abc", "{\"value\":\"a\u0001b\"}", "/* c */ {\"value\":1}",
      "{\"value\":.5}", "{\"value\":+1}", "{\"value\":1.}", "{\"value\":-}", "{\"value\":1e}",
      "{\"value\":[1,2}", "{\"value\":{\"a\"}}", "{\"value\" 1}", "{,}",
      "{\"value\":undefined}", "{\"value\":'x'}", "{\"value\":\"\\u12\"}", "\u0000",
      "{\"value\":1}\u0000", "{\"causal-metadata\":{\"keys\":{\"a\":[1,\"n\"]}",
      "{\"value\":\"\\ud800\\ud800\"}x", "\u00ff\u00fe", "{\"value\":tRue}", "{\"\":}");

  /** Well-formed JSON that is not an object. */
  static final List<String> WRONG_TYPE = List.of("[]", "[{\"value\":1}]", "\"value\"",
      "\"{\\\"value\\\":1}\"", "42", "-1.5", "true", "false", "null", "[[[]]]", "1e999",
      "[\"socket-address\",\"x:y\"]", "\"\"");

  /** Values of a "value" field: every JSON type, as text. */
  static final List<String> VALUES = List.of("1", "0", "-7", "42.0", "1.50", "-0.001", "1e3",
      "2.5E-8", "1e999999", "9007199254740993", "123456789012345678901234567890",
      "-123456789012345678901234567890.000000000000000000001", "true", "false", "null", "\"\"",
      "\"x\"", "\" \"", "\"\\u0000\"", "\"\\ud83d\\ude00 \\u05e9\\u05dc\\u05d5\\u05dd\"",
      "\"e\u0301\u202e\u200d\ufeff\"", "\"\\\"quoted\\\" \\\\ back\\nslash\"", "{}", "[]",
      "{\"a\":{\"b\":[1,{\"c\":null}]}}", "[1,\"two\",3.0,null,true,{\"k\":[]}]",
      "{\"value\":\"nested value\",\"causal-metadata\":5}", "{\"\":\"\"}", "[[[[[[[[[[]]]]]]]]]]",
      "\"<html><body>not html</body></html>\"", "\"%zz%00%2F\"");

  /** Causal metadata the node must reject; "K" stands for a key. */
  static final List<String> INVALID_METADATA = List.of("5", "-1", "0", "true", "false", "[]",
      "[1,2]", "\"garbage\"", "\"{\"", "\"[]\"", "\"5\"", "{\"keys\":5}", "{\"keys\":[]}",
      "{\"keys\":\"x\"}", "{\"keys\":true}", "{\"keys\":{\"K\":5}}", "{\"keys\":{\"K\":[]}}",
      "{\"keys\":{\"K\":[1]}}", "{\"keys\":{\"K\":[1,\"n\",3]}}",
      "{\"keys\":{\"K\":[\"1\",\"n\"]}}",
      "{\"keys\":{\"K\":[1.5,\"n\"]}}", "{\"keys\":{\"K\":[0,\"n\"]}}",
      "{\"keys\":{\"K\":[-5,\"n\"]}}", "{\"keys\":{\"K\":[1e30,\"n\"]}}",
      "{\"keys\":{\"K\":[99999999999999999999,\"n\"]}}",
      "{\"keys\":{\"K\":[9223372036854775807,\"n\"]}}",
      "{\"keys\":{\"K\":[1000000000000000,\"n\"]}}", "{\"keys\":{\"K\":[1,5]}}",
      "{\"keys\":{\"K\":[1,\"\"]}}", "{\"keys\":{\"K\":[1,null]}}",
      "{\"keys\":{\"K\":[1,\"" + "n".repeat(301) + "\"]}}", "{\"keys\":{\"K\":{\"counter\":1}}}",
      "{\"keys\":{\"K\":null}}", "\"{\\\"keys\\\":5}\"", "{\"keys\":{\"K\":[1,[\"n\"]]}}",
      "{\"keys\":{\"K\":[true,\"n\"]}}");

  /** Socket addresses NodeAddress.parse rejects, and values of the wrong type. */
  static final List<String> BAD_ADDRESSES = List.of("5", "\"x:y\"", "\"1.2.3.4:99999\"", "\"\"",
      "null", "[]", "{}", "true", "\"127.0.0.1\"", "\":8080\"", "\"127.0.0.1:\"",
      "\"127.0.0.1:0\"", "\"127.0.0.1:-1\"", "\"256.1.1.1:80\"", "\"a b:80\"",
      "\"http://127.0.0.1:80\"", "\"127.0.0.1:80,127.0.0.2:80\"", "\"::1\"", "\"[::1]:80\"",
      "\"host:123456\"", "\"h\u00e9llo:80\"", "\"a..b:80\"", "\"1.2.3:80\"", "\"127.0.0.1:80\\n\"",
      "[\"x:y\"]", "{\"host\":\"x\",\"port\":\"y\"}", "\"x:y\\u0000\"", "1.5");

  /** Shard counts no cluster of 4 nodes can take (or not numbers at all). */
  static final List<String> BAD_SHARD_COUNTS = List.of("\"3\"", "-1", "0", "1e9", "2.5", "null",
      "[]", "{}", "true", "\"x\"", "\"\"", "3", "1000", "2147483647", "1073741824",
      "2147483648", "-2147483648", "99999999999999999999", "1e400", "[2]", "{\"n\":2}");

  /** repl-factor values the node must reject whatever the view. */
  static final List<String> BAD_FACTORS = List.of("\"x\"", "0", "-1", "2.5", "1e9", "\"\"",
      "null", "[]", "{}", "true", "\"3a\"", "\" \"", "99999999999", "\"-2\"", "\"0\"", "[2]");

  /** Views NodeAddress.parseList rejects, and values of the wrong type. */
  static final List<String> BAD_VIEWS = List.of("7", "\"a,b\"", "\"x:y\"", "\"\"", "null", "[]",
      "{}", "[1,2]", "\"1.2.3.4:99999\"", "\",\"", "\"127.0.0.1:1,,127.0.0.1:2\"",
      "\"127.0.0.1:1,127.0.0.1:1\"", "[\"x:y\"]", "[null]", "true", "\" \"",
      "\"127.0.0.1:1;127.0.0.1:2\"");

  /** Shard id path segments that name no shard; "%zz" needs the socket client. */
  static final List<String> BAD_IDS = List.of("999", "x", "-1", "1.5", "%20", "0", "3",
      "2147483648", "99999999999999999999", "1e2", "0x1", "%31%30", "%zz", "1%00", "%2D1",
      "1%20", "%", "null", "%E2%82%81", "1,2", "[1]");

  /** Shard id segments that may or may not be taken as 1 or 2 (leading zeros, signs...). */
  static final List<String> ODD_IDS = List.of("1", "2", "01", "%2B1", "002", "%EF%BC%91");

  static final List<String> UNKNOWN_ROUTES = List.of("/", "/nope", "/key-value-store-shard",
      "/key-value-store-shard/", "/key-value-store-shard/nope",
      "/key-value-store-shard/shard-id-members", "/key-value-store-shard/shard-id-members/",
      "/key-value-store-shard/shard-id-members/1/2", "/key-value-store-view/x",
      "/key-value-store-views", "/kvs", "/kvs/", "/kvs/nope", "/kvs/shards/1/x",
      "/kvs/key-count/x", "/kvs/view-change/x", "/ring/nope", "/ringx", "/internal",
      "/internal/nope", "/internal/view", "/internal/view/nope", "/favicon.ico",
      "/KEY-VALUE-STORE/x", "/Kvs/keys/x", "/..", "/../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd", "/key-value-store-shard/add-member", "/index.html",
      "/key-value-storex/a", "/internal/kv/x");

  /** Routes and the methods they serve. */
  static final Map<String, Set<String>> ROUTES = Map.ofEntries(
      Map.entry("/key-value-store-view", Set.of("GET", "PUT", "DELETE")),
      Map.entry(SHARD + "shard-ids", Set.of("GET")),
      Map.entry(SHARD + "node-shard-id", Set.of("GET")),
      Map.entry(SHARD + "shard-id-members/1", Set.of("GET")),
      Map.entry(SHARD + "shard-id-key-count/2", Set.of("GET")),
      Map.entry(SHARD + "add-member/1", Set.of("PUT")),
      Map.entry(SHARD + "reshard", Set.of("PUT")),
      Map.entry(KV + "fuzz-method", Set.of("GET", "PUT", "DELETE")),
      Map.entry(KVS + "fuzz-method", Set.of("GET", "PUT", "DELETE")),
      Map.entry("/kvs/key-count", Set.of("GET")),
      Map.entry("/kvs/shards", Set.of("GET")),
      Map.entry("/kvs/shards/1", Set.of("GET")),
      Map.entry("/kvs/view-change", Set.of("PUT")),
      Map.entry("/ring", Set.of("GET")),
      Map.entry("/ring/key/fuzz-method", Set.of("GET")),
      Map.entry("/ring/replication", Set.of("GET")),
      Map.entry("/ui", Set.of("GET")),
      Map.entry("/ui/ui.js", Set.of("GET")),
      Map.entry("/health/live", Set.of("GET")),
      Map.entry("/health/ready", Set.of("GET")),
      Map.entry("/metrics", Set.of("GET")),
      Map.entry("/internal/kv", Set.of("POST")),
      Map.entry("/internal/replicate", Set.of("POST")),
      Map.entry("/internal/entries", Set.of("POST")),
      Map.entry("/internal/settle", Set.of("POST")),
      Map.entry("/internal/count", Set.of("POST")),
      Map.entry("/internal/ae/digest", Set.of("POST")),
      Map.entry("/internal/ae/versions", Set.of("POST")),
      Map.entry("/internal/scan", Set.of("POST")),
      Map.entry("/internal/join", Set.of("POST")),
      Map.entry("/internal/view/prepare", Set.of("POST")),
      Map.entry("/internal/view/transfer", Set.of("POST")),
      Map.entry("/internal/view/commit", Set.of("POST")),
      Map.entry("/internal/view/abort", Set.of("POST")),
      Map.entry("/internal/config", Set.of("POST")),
      Map.entry("/internal/ping", Set.of("GET", "POST")));

  static final List<String> METHODS =
      List.of("GET", "PUT", "DELETE", "POST", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO");

  /** Key material: emoji, right-to-left, combining marks, joiners, CJK, specials. */
  static final List<String> UNICODE = List.of("\ud83d\ude00", "\u05e9\u05dc\u05d5\u05dd",
      "\u0645\u0631\u062d\u0628\u0627", "e\u0301", "a\u0308\u0301", "\u202eevil",
      "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "\u4e2d\u6587", "\ufeffbom",
      "\u00a0nbsp", "\u00df\u0130", "\ud834\udd1e", "\u0000", "\u2028");

  // ------------------------------------------------------------------------- generator

  /** Builds requests from one seeded Random; not thread-safe. */
  static final class Generator {
    private final Random rnd;
    private final int nodes;
    private final List<String> seededKeys;
    private final Map<String, JsonNode> seeded;
    private final String seedMetadata;
    private final String view;
    /** A Lamport counter writes may carry: an hour ahead, bumping clocks that observe it. */
    private final long nearFuture;
    /** A counter no clock reaches during the test: a read naming it waits, then fails. */
    private final long farFuture;
    private int sequence;
    private final List<Map.Entry<Integer, Supplier<Req>>> families = new ArrayList<>();
    private int totalWeight;

    /**
     * @param clock the highest Lamport counter (or wall clock in ms) seen so far: future
     *     counters are taken from it, within the 24 h a node accepts from clients
     */
    Generator(long seed, int nodes, Map<String, JsonNode> seeded, String seedMetadata,
        String view, long clock) {
      this.rnd = new Random(seed);
      this.nodes = nodes;
      this.seeded = seeded;
      this.seededKeys = List.copyOf(seeded.keySet());
      this.seedMetadata = seedMetadata;
      this.view = view;
      this.nearFuture = clock + 3_600_000L;
      this.farFuture = clock + 20 * 3_600_000L;
      family(12, this::putValid);
      family(6, this::getSeeded);
      family(4, this::readOrDeleteFuzz);
      family(9, this::brokenJson);
      family(4, this::wrongType);
      family(3, this::valueMissing);
      family(9, this::badMetadata);
      family(4, this::oddMetadata);
      family(1, this::causalWait);
      family(2, this::hugeBody);
      family(8, this::invalidKey);
      family(2, this::emptySegments);
      family(2, this::dotSegments);
      family(4, this::shardIds);
      family(3, this::addMember);
      family(3, this::reshard);
      family(3, this::viewChangeShardDialect);
      family(4, this::viewChangeKvsDialect);
      family(2, this::kvsShards);
      family(3, this::ring);
      family(5, this::wrongMethod);
      family(4, this::unknownRoute);
      family(4, this::contentTypes);
      family(3, this::noBody);
      family(8, this::internal);
      family(2, this::httpLevel);
      family(1, this::loneSurrogate);
    }

    private void family(int weight, Supplier<Req> make) {
      families.add(Map.entry(weight, make));
      totalWeight += weight;
    }

    List<Req> generate(int count) {
      List<Req> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int pick = rnd.nextInt(totalWeight);
        for (Map.Entry<Integer, Supplier<Req>> f : families) {
          pick -= f.getKey();
          if (pick < 0) {
            Req r = f.getValue().get();
            for (Req q = r; q != null; q = q.then) {
              q.node = rnd.nextInt(nodes);
            }
            out.add(r);
            break;
          }
        }
      }
      return out;
    }

    // ----------------------------------------------------------------------- helpers

    private <T> T pick(List<T> items) {
      return items.get(rnd.nextInt(items.size()));
    }

    private boolean shardDialect() {
      return rnd.nextBoolean();
    }

    private static String prefix(boolean shard) {
      return shard ? KV : KVS;
    }

    private static String metaField(boolean shard) {
      return shard ? "causal-metadata" : "causal-context";
    }

    private String alnum(int min, int max) {
      int n = min + rnd.nextInt(max - min + 1);
      StringBuilder s = new StringBuilder(n);
      String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
      for (int i = 0; i < n; i++) {
        s.append(chars.charAt(rnd.nextInt(chars.length())));
      }
      return s.toString();
    }

    private String seededKey() {
      return pick(seededKeys);
    }

    /** A new key's name: "fuzz-" and a sequence number keep it apart from the seeded keys. */
    private String fuzzName() {
      return "fuzz-" + (sequence++) + "-";
    }

    /** A JSON body with a value and/or a metadata field (null: field left out). */
    private static String kvBody(boolean shard, String value, String metadata) {
      List<String> fields = new ArrayList<>();
      if (value != null) {
        fields.add("\"value\":" + value);
      }
      if (metadata != null) {
        fields.add("\"" + metaField(shard) + "\":" + metadata);
      }
      return "{" + String.join(",", fields) + "}";
    }

    /** Metadata meaning "no history", or the writer's real metadata. */
    private String emptyMetadata() {
      return pick(Arrays.asList(null, "\"\"", "null", "{}", "{\"keys\":{}}", "{\"keys\":null}",
          "\"  \"", seedMetadata));
    }

    private String metadataWithKey(String template, String key) {
      return template.replace("\"K\"", "\"" + jsonEscape(key) + "\"");
    }

    private String anyMethod() {
      return pick(List.of("GET", "PUT", "DELETE"));
    }

    /** A valid body for {@code method} (a value for PUT), or nothing. */
    private String validBodyFor(boolean shard, String method) {
      if (method.equals("PUT")) {
        return kvBody(shard, pick(VALUES), emptyMetadata());
      }
      return rnd.nextBoolean() ? null : kvBody(shard, null, emptyMetadata());
    }

    /** A new key that is valid however the path is read. */
    private KeyPath strictKeyPath() {
      KeyPath k = newKeyPath();
      while (!k.strict()) {
        k = newKeyPath();
      }
      return k;
    }

    /**
     * A new, valid key (1-50 code points after decoding) in one of many spellings: not strict
     * when the path itself is not valid HTTP (raw non-ASCII bytes, a bad escape in the query).
     */
    private KeyPath newKeyPath() {
      String base = fuzzName();
      String a = alnum(1, 8);
      String b = alnum(1, 8);
      switch (rnd.nextInt(12)) {
        case 0:
          return new KeyPath(base + a, base + a, true);
        case 1:
          return new KeyPath(base + a + (rnd.nextBoolean() ? "%2F" : "%2f") + b,
              base + a + "/" + b, true);
        case 2:
          return new KeyPath(base + a + "/" + b + "/x", base + a + "/" + b + "/x", true);
        case 3:
          return new KeyPath(base + a + "%00" + b, base + a + "\u0000" + b, true);
        case 4: {
          String key = base + pick(UNICODE);
          return new KeyPath(encodeNonUnreserved(key), key, true);
        }
        case 5: {
          String key = base + pick(UNICODE).replace("\u0000", "z").replace("\u2028", "z");
          return new KeyPath(key, key, false); // raw UTF-8 bytes on the wire
        }
        case 6: {
          String key = base + a;
          return new KeyPath(encodeAll(key), key, true);
        }
        case 7: {
          String key = base + pick(List.of("a+b", "a;b", "a:b", "a@b", "a=b", "!$&'()*,", "~",
              "a.b", "a..b", "-_.~"));
          return new KeyPath(key, key, true);
        }
        case 8: {
          String[] special = pick(List.of(new String[] {"a%20b", "a b"},
              new String[] {"a%3Fb", "a?b"}, new String[] {"a%23b", "a#b"},
              new String[] {"100%25", "100%"}, new String[] {"%252F", "%2F"},
              new String[] {"%5C", "\\"}, new String[] {"%22%3C%3E", "\"<>"}));
          return new KeyPath(base + special[0], base + special[1], true);
        }
        case 9: {
          String fill = rnd.nextBoolean() ? "a" : "\ud83d\ude00";
          String key = base + fill.repeat(50 - base.length());
          return new KeyPath(encodeNonUnreserved(key), key, true);
        }
        case 10: {
          String query = pick(List.of("?x=1&value=2", "?", "?%zz", "?a=%"));
          return new KeyPath(base + a + query, base + a, !query.contains("%"));
        }
        default:
          return new KeyPath(base + a + "/", base + a + "/", true);
      }
    }

    /** Downgrades a request that must succeed to EITHER when its key path is not strict. */
    private static Req strictness(Req r, KeyPath k) {
      return k.strict() ? r : r.either().status();
    }

    // ----------------------------------------------------------------------- families

    /** A write of a new key with a valid value: must succeed. */
    private Req putValid() {
      boolean shard = shardDialect();
      KeyPath key = newKeyPath();
      Req r = strictness(new Req("put-valid", "PUT", prefix(shard) + key.segment())
          .body(kvBody(shard, pick(VALUES), emptyMetadata())).valid().status(200, 201), key);
      if (rnd.nextInt(4) == 0) { // and read it back with the metadata the write returned
        r.then = strictness(new Req("put-valid-read", "GET", prefix(shard) + key.segment())
            .body(kvBody(shard, null, PREVIOUS_METADATA)).valid().status(200), key);
      }
      return r;
    }

    /** A read of a seeded key, sometimes through a fully percent-encoded path. */
    private Req getSeeded() {
      boolean shard = shardDialect();
      String key = seededKey();
      String segment = rnd.nextBoolean() ? key : encodeAll(key);
      Req r = new Req("get-seeded", "GET", prefix(shard) + segment)
          .body(rnd.nextBoolean() ? null : kvBody(shard, null, emptyMetadata()))
          .valid().status(200);
      r.value = seeded.get(key);
      return r;
    }

    private Req readOrDeleteFuzz() {
      boolean shard = shardDialect();
      String method = rnd.nextBoolean() ? "GET" : "DELETE";
      return new Req("read-delete-fuzz", method, prefix(shard) + strictKeyPath().segment())
          .body(validBodyFor(shard, method)).valid().status(200, 404);
    }

    /** Unparseable bodies on any key (seeded ones included: they must stay as they are). */
    private Req brokenJson() {
      boolean shard = shardDialect();
      String key = rnd.nextBoolean() ? seededKey() : strictKeyPath().segment();
      return new Req("broken-json", anyMethod(), prefix(shard) + key).body(pick(BROKEN_JSON))
          .status(400);
    }

    private Req wrongType() {
      boolean shard = shardDialect();
      String key = rnd.nextBoolean() ? seededKey() : strictKeyPath().segment();
      return new Req("wrong-type-json", anyMethod(), prefix(shard) + key).body(pick(WRONG_TYPE))
          .status(400);
    }

    private Req valueMissing() {
      boolean shard = shardDialect();
      String key = rnd.nextBoolean() ? seededKey() : strictKeyPath().segment();
      String body = pick(Arrays.asList("{}", "   ", "{\"valu\":1}", "{\"VALUE\":1}",
          "{\"Value\":1}", kvBody(shard, null, emptyMetadata()), "{\"value \":1}",
          "{\"values\":[1]}"));
      return new Req("value-missing", "PUT", prefix(shard) + key).body(body).status(400);
    }

    /** Metadata of the wrong shape on any key and method: rejected before anything else. */
    private Req badMetadata() {
      boolean shard = shardDialect();
      String key = rnd.nextBoolean() ? seededKey() : strictKeyPath().key();
      String named = pick(List.of(key, seededKey(), "", "x".repeat(60), "\ud83d\ude00"));
      String meta = metadataWithKey(pick(INVALID_METADATA), named);
      String method = anyMethod();
      String value = method.equals("PUT") ? pick(VALUES) : null;
      String segment = key.startsWith("fuzz-") ? encodeNonUnreserved(key) : key;
      return new Req("bad-metadata", method, prefix(shard) + segment)
          .body(kvBody(shard, value, meta)).status(400);
    }

    /**
     * Odd but well-formed metadata (unknown keys, old counters, metadata as a JSON string, tens
     * of thousands of entries): a write of a new key must succeed, a read of a seeded key must
     * return its value.
     */
    private Req oddMetadata() {
      boolean shard = shardDialect();
      int kind = rnd.nextInt(7);
      if (kind == 4 && rnd.nextInt(4) != 0) {
        kind = 0; // tens of thousands of entries: a few per run are enough
      }
      String meta = oddValidMetadata(kind);
      // A node never hands out an empty key or a key of 10 KB: refusing those is fine too.
      boolean strict = kind != 3 && kind != 5;
      Req r;
      if (rnd.nextBoolean()) {
        r = new Req("odd-metadata-put", "PUT", prefix(shard) + strictKeyPath().segment())
            .body(kvBody(shard, pick(VALUES), meta)).valid().status(200, 201);
      } else {
        String key = seededKey();
        r = new Req("odd-metadata-get", "GET", prefix(shard) + key)
            .body(kvBody(shard, null, meta)).valid().status(200);
        r.value = seeded.get(key);
      }
      return strict ? r : r.either().status();
    }

    private String oddValidMetadata(int kind) {
      String other = jsonEscape(newKeyPath().key());
      switch (kind) {
        case 0:
          return "{\"keys\":{\"" + other + "\":[1,\"n\"]}}";
        case 1:
          return "{\"foo\":1,\"keys\":{\"" + other + "\":[" + nearFuture + ",\"x:y\"]}}";
        case 2:
          return "\"" + jsonEscape("{\"keys\":{\"" + other + "\":[2,\"127.0.0.1:1\"]}}") + "\"";
        case 3:
          return "{\"keys\":{\"\":[1,\"\ud83d\ude00\"],\"\u05e9\":[3,\"n\"]}}";
        case 4:
          return manyEntries(40_000 + rnd.nextInt(20_000));
        case 5:
          return "{\"keys\":{\"" + "k".repeat(10_000) + "\":[1,\"n\"]}}";
        default:
          return "{\"keys\":{\"" + seededKey() + "\":[1,\"127.0.0.1:1\"]}}";
      }
    }

    /** Metadata with {@code n} distinct short keys (about 13 bytes each). */
    private static String manyEntries(int n) {
      StringBuilder s = new StringBuilder(n * 14).append("{\"keys\":{");
      for (int i = 0; i < n; i++) {
        s.append(i == 0 ? "" : ",").append('"').append(Integer.toString(i, 36))
            .append("\":[1,\"n\"]");
      }
      return s.append("}}").toString();
    }

    /** A read naming a version of its key that never comes: waits, then the dialect's error. */
    private Req causalWait() {
      boolean shard = shardDialect();
      String key = rnd.nextBoolean() ? seededKey() : strictKeyPath().key();
      String meta = "{\"keys\":{\"" + jsonEscape(key) + "\":[" + farFuture
          + ",\"127.0.0.1:1\"]}}";
      String segment = key.startsWith("fuzz-") ? encodeNonUnreserved(key) : key;
      return new Req("causal-wait", "GET", prefix(shard) + segment).body(kvBody(shard, null, meta))
          .status(shard ? 503 : 400);
    }

    /** Bodies just over 1 MiB on any public route (413), and exactly 1 MiB on a new key. */
    private Req hugeBody() {
      boolean shard = shardDialect();
      int over = 1 + rnd.nextInt(100);
      switch (rnd.nextInt(5)) {
        case 0: {
          String path = pick(List.of(prefix(shard) + seededKey(), "/kvs/view-change",
              "/key-value-store-view", SHARD + "reshard", "/nope", "/ring"));
          String method = path.equals("/ring") || path.equals("/nope") ? "GET" : "PUT";
          return new Req("huge-body", method, path).body(padded("{\"value\":\"", "\"}",
              BODY_BYTES_MAX + over)).status(413);
        }
        case 1:
          return new Req("huge-metadata", rnd.nextBoolean() ? "GET" : "PUT",
              prefix(shard) + seededKey()).body(kvBody(shard, "1", manyEntries(200_000)))
              .status(413);
        case 2: {
          Req r = new Req("huge-body-chunked", "PUT", prefix(shard) + seededKey())
              .body(padded("{\"value\":\"", "\"}", BODY_BYTES_MAX + over)).status(413);
          r.chunked = true;
          return r;
        }
        case 3:
          return new Req("body-of-1MiB", "PUT", prefix(shard) + strictKeyPath().segment())
              .body(padded("{\"value\":\"", "\"}", BODY_BYTES_MAX)).valid().status(200, 201);
        default:
          return new Req("huge-body-internal", "POST", "/internal/replicate")
              .body(padded("{\"entries\":\"", "\"}", 2 * BODY_BYTES_MAX)).status(400);
      }
    }

    private static String padded(String head, String tail, int totalBytes) {
      return head + "a".repeat(totalBytes - head.length() - tail.length()) + tail;
    }

    /** Keys the node must refuse: too long, undecodable, empty. */
    private Req invalidKey() {
      boolean shard = shardDialect();
      String method = anyMethod();
      String body = validBodyFor(shard, method);
      String base = "fuzz-";
      switch (rnd.nextInt(6)) {
        case 0: {
          String key = pick(List.of(base + "a".repeat(46), base + "\ud83d\ude00".repeat(46),
              base + "k".repeat(10_240)));
          return new Req("key-too-long", method, prefix(shard) + encodeNonUnreserved(key))
              .body(body).status(400);
        }
        case 1:
          return new Req("key-of-70KiB", method, prefix(shard) + base + "k".repeat(70_000))
              .body(body);
        case 2:
          return new Req("key-bad-escape", method, prefix(shard) + pick(List.of("%zz",
              base + "%", base + "%2", base + "%G1", "%", base + "%%", base + "%2x", "%%32%30")))
              .body(body).status(400);
        case 3:
          return new Req("key-bad-utf8", method, prefix(shard) + base + pick(List.of("%FF",
              "%C3%28", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%E2%82", "%80")))
              .body(body).status(400);
        case 4:
          return new Req("key-empty", method, prefix(shard)).body(body).status(400);
        default:
          return new Req("key-absent", method, shard ? "/key-value-store" : "/kvs/keys")
              .body(body).status(400, 404);
      }
    }

    /** Empty segments: the key is "/" or starts with "/"; new keys, so either answer is fine. */
    private Req emptySegments() {
      boolean shard = shardDialect();
      String method = anyMethod();
      String path = prefix(shard) + pick(List.of("/", "//", "/fuzz-e", "//fuzz-e//"));
      return new Req("empty-segments", method, path).body(validBodyFor(shard, method)).either();
    }

    /** Dot segments: routing sees the normalised path; keys stay new ("fuzz" in them). */
    private Req dotSegments() {
      boolean shard = shardDialect();
      String method = anyMethod();
      String path = pick(List.of(KV + "fuzz-a/..", KV + "./fuzz-a", KVS + "fuzz-a/../fuzz-b",
          KV + "%2e%2e/fuzz-c", KV + "../kvs/keys/fuzz-d", KVS + "../../key-value-store/fuzz-e",
          KVS + "fuzz-f/./.", KV + "fuzz-g/%2E%2E/%2E%2E/ring", "/ring/../" + KV + "fuzz-h"));
      return new Req("dot-segments", method, path).body(validBodyFor(shard, method)).either();
    }

    private Req shardIds() {
      String kind = pick(List.of("shard-id-members/", "shard-id-key-count/"));
      int roll = rnd.nextInt(10);
      if (roll < 6) {
        return new Req("shard-id-bad", "GET", SHARD + kind + pick(BAD_IDS)).status(400, 404);
      }
      if (roll < 8) {
        return new Req("shard-id-odd", "GET", SHARD + kind + pick(ODD_IDS)).either();
      }
      String path = pick(List.of(SHARD + "shard-ids", SHARD + "node-shard-id",
          "/key-value-store-view"));
      return new Req("shard-admin-get", "GET", path)
          .body(rnd.nextBoolean() ? null : pick(BROKEN_JSON)).either();
    }

    /** add-member with an unknown shard or a nonsense address (never a valid one). */
    private Req addMember() {
      String id = rnd.nextBoolean() ? pick(List.of("1", "2")) : pick(BAD_IDS);
      String body = pick(Arrays.asList(null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
          "{\"socket-address\":" + pick(BAD_ADDRESSES) + "}",
          "{\"socket_address\":" + pick(BAD_ADDRESSES) + "}"));
      return new Req("add-member", "PUT", SHARD + "add-member/" + id).body(body)
          .status(400, 404);
    }

    private Req reshard() {
      String body = pick(Arrays.asList(null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
          "{\"shard-count\":" + pick(BAD_SHARD_COUNTS) + "}",
          "{\"shardcount\":" + pick(BAD_SHARD_COUNTS) + "}"));
      return new Req("reshard", "PUT", SHARD + "reshard").body(body).status(400);
    }

    /** PUT/DELETE /key-value-store-view with nonsense addresses. */
    private Req viewChangeShardDialect() {
      String body = pick(Arrays.asList(null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
          "{\"socket-address\":" + pick(BAD_ADDRESSES) + "}",
          "{\"socket-address\":" + pick(BAD_ADDRESSES) + ",\"extra\":1}"));
      return new Req("view-shard-dialect", rnd.nextBoolean() ? "PUT" : "DELETE",
          "/key-value-store-view").body(body).status(400);
    }

    /**
     * PUT /kvs/view-change: a nonsense view with any factor, or a well-formed view (the current
     * one, or it plus a made-up node) with a factor that is not a positive integer.
     */
    private Req viewChangeKvsDialect() {
      String body;
      switch (rnd.nextInt(5)) {
        case 0:
          body = "{\"view\":" + pick(BAD_VIEWS) + ",\"repl-factor\":"
              + pick(List.of("1", "2", "4", "\"2\"")) + "}";
          break;
        case 1:
          body = "{\"view\":" + pick(List.of("\"" + view + "\"", "\"" + view + ",a:1\"",
              "\"a:1,b:2\"")) + ",\"repl-factor\":" + pick(BAD_FACTORS) + "}";
          break;
        case 2:
          body = "{\"view\":" + pick(BAD_VIEWS) + ",\"repl-factor\":" + pick(BAD_FACTORS) + "}";
          break;
        case 3:
          body = pick(Arrays.asList(null, "{}", "{\"view\":7}",
              "{\"view\":\"a,b\",\"repl-factor\":\"x\"}", "{\"repl-factor\":2}",
              "{\"view\":\"x:y\"}", pick(WRONG_TYPE)));
          break;
        default:
          body = pick(BROKEN_JSON);
      }
      return new Req("view-change-kvs-dialect", "PUT", "/kvs/view-change").body(body)
          .status(400);
    }

    private Req kvsShards() {
      int roll = rnd.nextInt(4);
      if (roll == 0) {
        return new Req("kvs-shard-bad", "GET", "/kvs/shards/" + pick(BAD_IDS)).status(400, 404);
      }
      if (roll == 1) {
        return new Req("kvs-shard-odd", "GET", "/kvs/shards/" + pick(ODD_IDS)).either();
      }
      return new Req("kvs-admin-get", "GET", pick(List.of("/kvs/shards", "/kvs/key-count",
          "/kvs/shards/1", "/kvs/shards/2"))).valid().status(200);
    }

    private Req ring() {
      switch (rnd.nextInt(4)) {
        case 0:
          return new Req("ring", "GET", "/ring").valid().status(200);
        case 1:
          return new Req("ring-key", "GET", "/ring/key/" + (rnd.nextBoolean() ? seededKey()
              : strictKeyPath().segment())).valid().status(200);
        case 2:
          return new Req("ring-key-empty-or-long", "GET", "/ring/key/"
              + pick(List.of("", "fuzz-" + "a".repeat(46), "k".repeat(10_240)))).status(400);
        default:
          return new Req("ring-key-bad-escape", "GET", "/ring/key/"
              + pick(List.of("%zz", "a%", "%FF", "%C3%28"))).status(400);
      }
    }

    private Req wrongMethod() {
      List<String> paths = new ArrayList<>(ROUTES.keySet());
      paths.sort(null);
      String path = pick(paths);
      List<String> wrong = new ArrayList<>(METHODS);
      wrong.removeAll(ROUTES.get(path));
      String method = pick(wrong);
      String body = method.equals("TRACE") || rnd.nextBoolean() ? null
          : pick(List.of("{\"value\":1}", "{", "[]"));
      return new Req("wrong-method", method, path).body(body).status(405);
    }

    private Req unknownRoute() {
      String method = pick(List.of("GET", "PUT", "DELETE", "POST"));
      return new Req("unknown-route", method, pick(UNKNOWN_ROUTES))
          .body(rnd.nextBoolean() ? null : "{\"value\":1}").status(404);
    }

    /** Valid JSON under other content types: a new key may be written or refused. */
    private Req contentTypes() {
      boolean shard = shardDialect();
      String type = pick(List.of("", "text/plain", "application/x-www-form-urlencoded",
          "multipart/form-data", "multipart/form-data; boundary=zz", "application/xml",
          "application/json; charset=utf-16", "application/json; charset=iso-8859-1",
          "application/JSON", "*/*", "garbage", "application/json, text/html"));
      int roll = rnd.nextInt(4);
      Req r;
      if (roll == 0) {
        r = new Req("content-type-put", "PUT", prefix(shard) + newKeyPath().segment())
            .body(kvBody(shard, pick(VALUES), emptyMetadata())).either();
      } else if (roll == 1) {
        r = new Req("content-type-long-body", "PUT", prefix(shard) + newKeyPath().segment())
            .body(kvBody(shard, "\"" + "v".repeat(9_000 + rnd.nextInt(20_000)) + "\"", null))
            .either();
      } else if (roll == 2) {
        String key = seededKey();
        r = new Req("content-type-get", "GET", prefix(shard) + key)
            .body(kvBody(shard, null, emptyMetadata())).either();
        r.value = seeded.get(key);
      } else {
        r = new Req("content-type-broken", anyMethod(), prefix(shard) + seededKey())
            .body(pick(BROKEN_JSON)).status(400);
      }
      r.contentType = type;
      return r;
    }

    /** Requests that need a body, without one. */
    private Req noBody() {
      boolean shard = shardDialect();
      String path = pick(List.of(prefix(shard) + seededKey(),
          prefix(shard) + newKeyPath().segment(),
          "/key-value-store-view", SHARD + "reshard", SHARD + "add-member/1", "/kvs/view-change"));
      Req r = new Req("no-body", path.equals("/key-value-store-view") && rnd.nextBoolean()
          ? "DELETE" : "PUT", path).status(400);
      if (rnd.nextBoolean()) {
        r.contentType = ""; // not even a Content-Type
      }
      return r;
    }

    // ----------------------------------------------------------------------- internal

    /** Node-to-node endpoints with what a buggy peer might send. */
    private Req internal() {
      switch (rnd.nextInt(9)) {
        case 0:
          return internalKv();
        case 1:
          return internalReplicate();
        case 2:
          return new Req("internal-join", "POST", "/internal/join").body(pick(Arrays.asList(
              null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
              "{\"node\":" + pick(BAD_ADDRESSES) + "}"))).status(400);
        case 3:
          return internalPrepare();
        case 4:
          return internalEpoch();
        case 5:
          return new Req("internal-pull-scan", "POST",
              pick(List.of("/internal/entries", "/internal/scan"))).body(pick(Arrays.asList(null,
              "{}", "{\"keys\":5}", "{\"keys\":[\"" + seededKey() + "\",5,null,{}]}",
              "{\"shard\":\"x\",\"limit\":-5,\"after\":7}", "{\"shard\":1,\"limit\":1e9}",
              "{\"shard\":99,\"after\":\"\\u0000\"}"))).either();
        case 7:
          return new Req("internal-settle", "POST", "/internal/settle").body(pick(Arrays.asList(
              null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE), "{\"to\":5,\"wait-ms\":1}",
              "{\"to\":" + pick(BAD_ADDRESSES) + ",\"wait-ms\":1}",
              "{\"to\":\"127.0.0.1:1\",\"wait-ms\":-1}",
              "{\"to\":\"127.0.0.1:1\",\"wait-ms\":1e99}"))).status(400);
        case 6:
          return new Req("internal-pull-scan-broken", "POST",
              pick(List.of("/internal/entries", "/internal/scan"))).body(rnd.nextBoolean()
              ? pick(BROKEN_JSON) : pick(WRONG_TYPE)).status(400);
        default:
          if (rnd.nextBoolean()) {
            return rnd.nextBoolean()
                ? new Req("internal-get", "GET", "/internal/ping").valid().status(200)
                : new Req("internal-config", "POST", "/internal/config").body("{}").valid()
                    .status(200);
          }
          return new Req("internal-get-odd", "GET", pick(List.of(
              "/internal/ping?from=x:y&epoch=99999999999999999999",
              "/internal/ping?from=%zz&epoch=-1", "/internal/ping?epoch=1e9&from=",
              "/internal/ping?from=" + "h".repeat(300) + ":1&epoch=999999999",
              "/internal/config?x=%")))
              .body(rnd.nextBoolean() ? null : pick(BROKEN_JSON)).either();
      }
    }

    /** A forwarded request: bad shapes are refused; reads and writes of new keys succeed. */
    private Req internalKv() {
      String seed = seededKey();
      String fresh = jsonEscape(strictKeyPath().key());
      switch (rnd.nextInt(4)) {
        case 0:
          return new Req("internal-kv-bad", "POST", "/internal/kv").body(pick(Arrays.asList(null,
              "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
              "{\"op\":\"FOO\",\"key\":\"" + seed + "\"}",
              "{\"op\":\"put\",\"key\":\"" + seed + "\",\"value\":1}",
              "{\"op\":\"PUT\",\"key\":\"" + seed + "\"}",
              "{\"op\":\"PUT\",\"key\":\"" + seed + "\",\"value\":1,\"context\":5}",
              "{\"op\":\"DELETE\",\"key\":\"" + seed + "\",\"context\":{\"keys\":{\"a\":[\"1\","
                  + "\"n\"]}}}",
              "{\"op\":\"DELETE\",\"key\":\"\"}", "{\"op\":\"GET\",\"key\":\"" + "k".repeat(51)
                  + "\"}", "{\"op\":\"GET\"}", "{\"op\":5,\"key\":\"" + seed + "\"}",
              "{\"op\":\"PUT\",\"key\":\"" + seed + "\",\"value\":1,\"epoch\":99999999,"
                  + "\"from\":\"x:y\"}",
              "{\"op\":\"PUT\",\"key\":\"" + seed + "\",\"value\":1," + pick(List.of(
                  "\"hops\":\"x\"", "\"hops\":-3", "\"wait-ms\":-5", "\"epoch\":\"x\"",
                  "\"wait-ms\":1e3", "\"wait-ms\":9223372036854775807", "\"hops\":1.5",
                  "\"epoch\":-1", "\"from-catching-up\":\"yes\""))
                  + ",\"context\":{\"keys\":5}}"))).status(400);
        case 1: {
          Req r = new Req("internal-kv-read", "POST", "/internal/kv").body("{\"op\":\"GET\","
              + "\"key\":\"" + seed + "\"," + pick(List.of("\"hops\":0", "\"wait-ms\":0",
              "\"from-catching-up\":false", "\"context\":null", "\"epoch\":1",
              "\"wait-ms\":60000", "\"context\":\"\"")) + ",\"from\":\"127.0.0.1:1\"}")
              .valid().status(200);
          return r;
        }
        case 2:
          return new Req("internal-kv-odd", "POST", "/internal/kv").body("{\"op\":\"GET\","
              + "\"key\":\"" + seed + "\"," + pick(List.of("\"hops\":99", "\"hops\":2147483647",
              "\"wait-ms\":9223372036854775807", "\"wait-ms\":9223372036854775807,\"context\":"
                  + "{\"keys\":{\"" + seed + "\":[" + farFuture + ",\"n\"]}}",
              "\"wait-ms\":-1,\"context\":{\"keys\":{\"" + seed + "\":[" + farFuture
                  + ",\"n\"]}}", "\"wait-ms\":1,\"context\":{\"keys\":{\"" + seed + "\":["
                  + farFuture + ",\"n\"]}}")) + "}").either();
        default:
          return new Req("internal-kv-write-new", "POST", "/internal/kv").body("{\"op\":\""
              + pick(List.of("PUT", "DELETE")) + "\",\"key\":\"" + fresh
              + "\",\"value-json\":\"" + jsonEscape(pick(VALUES)) + "\",\"hops\":"
              + pick(List.of("0", "1")) + ",\"from\":\"127.0.0.1:1\"}")
              .valid().status(200);
      }
    }

    /** Batches that must be refused whole: every one holds a malformed entry. */
    private Req internalReplicate() {
      String seed = seededKey();
      String good = "{\"key\":\"fuzz-r\",\"json\":\"1\",\"version\":[1,\"n\"]}";
      String bad = pick(List.of("5", "null", "{}", "{\"key\":\"" + seed + "\"}",
          "{\"key\":\"" + seed + "\",\"value\":1,\"version\":\"x\"}",
          "{\"key\":\"" + seed + "\",\"value\":1,\"version\":[0,\"n\"]}",
          "{\"key\":\"" + seed + "\",\"tombstone\":true,\"version\":[-1,\"n\"]}",
          "{\"key\":\"" + seed + "\",\"value\":1,\"version\":[1,\"n\"],\"deps\":{\"keys\":5}}",
          "{\"key\":\"" + seed + "\",\"version\":[1,\"n\"]}",
          "{\"key\":\"" + seed + "\",\"value\":1,\"version\":[1.5,\"n\"]}",
          "{\"key\":5,\"value\":1,\"version\":[1]}"));
      String body = pick(Arrays.asList(null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
          "{\"entries\":\"x\"}", "{\"entries\":{}}", "{\"entries\":[" + bad + "]}",
          "{\"from\":\"x:y\",\"entries\":[" + good + "," + bad + "]}",
          "{\"transfer\":\"yes\",\"entries\":[" + bad + "," + good + "]}"));
      return new Req("internal-replicate", "POST", "/internal/replicate").body(body).status(400);
    }

    /** Configurations that cannot be decoded: no prepared change may ever result. */
    private Req internalPrepare() {
      String config = pick(List.of("5", "\"x\"", "[]", "null", "{}", "{\"epoch\":99}",
          "{\"epoch\":99,\"view\":[\"x:y\"],\"shards\":{\"1\":[\"x:y\"]},\"tokens\":[[1,1]],"
              + "\"vnodes-per-shard\":20}",
          "{\"epoch\":\"x\",\"view\":\"a\"}", "{\"epoch\":99,\"view\":[\"1.2.3.4:99999\"]}",
          "{\"epoch\":99,\"view\":[],\"shards\":5}"));
      String body = pick(Arrays.asList(null, "{}", pick(BROKEN_JSON), pick(WRONG_TYPE),
          "{\"config\":" + config + "}", "{\"config\":" + config + ",\"participants\":[\"x:y\"]}",
          "{\"participants\":5}"));
      return new Req("internal-prepare", "POST", "/internal/view/prepare").body(body)
          .status(400);
    }

    /** transfer/commit/abort with epochs that are not numbers (refused) or match nothing. */
    private Req internalEpoch() {
      String path = "/internal/view/" + pick(List.of("transfer", "commit", "abort"));
      if (rnd.nextBoolean()) {
        return new Req("internal-epoch-bad", "POST", path).body(pick(Arrays.asList(
            pick(BROKEN_JSON), pick(WRONG_TYPE), "{\"epoch\":\"x\"}", "{\"epoch\":[]}",
            "{\"epoch\":-1}", "{\"epoch\":1.5}", "{\"epoch\":99999999999999999999}")))
            .status(400);
      }
      return new Req("internal-epoch-stale", "POST", path)
          .body(pick(List.of("{\"epoch\":987654}", "{\"epoch\":0}"))).either();
    }

    // ----------------------------------------------------------------------- HTTP level

    /** Malformed HTTP itself: no Host, oversized header, garbage request line, HTTP/1.0... */
    private Req httpLevel() {
      Req r;
      switch (rnd.nextInt(7)) {
        case 0:
          r = new Req("http-no-host", "GET", "/ring");
          r.noHost = true;
          return r.status(400);
        case 1:
          r = new Req("http-1.0", "GET", pick(List.of("/ring", SHARD + "shard-ids"))).valid();
          r.version = "HTTP/1.0";
          r.noHost = rnd.nextBoolean();
          return r.status(200);
        case 2:
          r = new Req("http-huge-header", "GET", "/ring");
          r.headers.add("X-Fuzz: " + "h".repeat(9_000 + rnd.nextInt(10_000)));
          return r;
        case 3:
          // Only what parses as a request line: Vert.x answers other versions (HTTP/9.9) with
          // its own empty 501 before any handler can run.
          r = new Req("http-garbage-version", "GET", "/ring");
          r.version = pick(List.of("garbage", "HTTP/1.1 extra", "1.1"));
          return r;
        case 4:
          r = new Req("http-no-slash", pick(List.of("GET", "OPTIONS")),
              pick(List.of("ring", "*", "key-value-store/x")));
          return r.status(400, 404);
        case 5: {
          boolean shard = shardDialect();
          r = new Req("http-chunked-put", "PUT", prefix(shard) + strictKeyPath().segment())
              .body(kvBody(shard, pick(VALUES), null)).valid().status(200, 201);
          r.chunked = true;
          return r;
        }
        default:
          r = new Req("http-expect-continue", "PUT", KV + strictKeyPath().segment())
              .body("{\"value\":1}").valid().status(200, 201);
          r.headers.add("Expect: 100-continue");
          return r;
      }
    }

    /** A string with an unpaired surrogate: refused, or stored and then readable. */
    private Req loneSurrogate() {
      boolean shard = shardDialect();
      String key = newKeyPath().segment();
      String value = pick(List.of("\"\\ud800\"", "\"a\\udc00b\"", "[\"\\udbff\"]",
          "{\"\\ud800\":1}"));
      String meta = pick(Arrays.asList(null, "{\"keys\":{\"fuzz-s\":[1,\"\\ud800\"]}}"));
      Req r = new Req("lone-surrogate", "PUT", prefix(shard) + key)
          .body(kvBody(shard, value, meta)).either();
      r.then = new Req("lone-surrogate-read", "GET", prefix(shard) + key)
          .body(kvBody(shard, null, PREVIOUS_METADATA)).either();
      return r;
    }
  }

  // ------------------------------------------------------------------------- encoding

  /** Percent-encodes every UTF-8 byte. */
  static String encodeAll(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
    }
    return out.toString();
  }

  /** Percent-encodes everything but unreserved characters and '/'. */
  static String encodeNonUnreserved(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      boolean keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~/".indexOf(c) >= 0;
      if (keep) {
        out.append(c);
      } else {
        out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  static String jsonEscape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  // ------------------------------------------------------------------------- raw HTTP

  /** Closes sockets whose exchange overran: a blocked write has no timeout of its own. */
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fuzz-socket-watchdog");
        t.setDaemon(true);
        return t;
      });

  /**
   * Sends one request on a fresh socket ({@code Connection: close}) and reads the answer; gives
   * up after {@code timeoutMs} without an answer, and closes the socket after twice that.
   */
  static Answer sendRaw(Req r, String address, int timeoutMs) {
    int colon = address.lastIndexOf(':');
    Socket socket = new Socket();
    ScheduledFuture<?> guard = WATCHDOG.schedule(() -> closeQuietly(socket), 2L * timeoutMs,
        TimeUnit.MILLISECONDS);
    try (socket) {
      socket.connect(new InetSocketAddress(address.substring(0, colon),
          Integer.parseInt(address.substring(colon + 1))), timeoutMs);
      socket.setSoTimeout(timeoutMs);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(requestBytes(r, address));
        out.flush();
      } catch (IOException e) {
        // The node may answer (e.g. 413) and stop reading before the body is written.
      }
      InputStream in = socket.getInputStream();
      return parseAnswer(in.readAllBytes());
    } catch (SocketTimeoutException e) {
      return Answer.failed("timeout after " + timeoutMs + " ms");
    } catch (IOException e) {
      return Answer.failed(e.toString());
    } finally {
      guard.cancel(false);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // The exchange is abandoned either way; the reader reports what it saw.
    }
  }

  private static byte[] requestBytes(Req r, String address) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    StringBuilder h = new StringBuilder();
    h.append(r.method).append(' ').append(r.path).append(' ').append(r.version).append("\r\n");
    if (!r.noHost) {
      h.append("Host: ").append(address).append("\r\n");
    }
    h.append("Connection: close\r\n");
    byte[] body = r.bodyBytes();
    if (r.contentType == null && body != null) {
      h.append("Content-Type: application/json\r\n");
    } else if (r.contentType != null && !r.contentType.isEmpty()) {
      h.append("Content-Type: ").append(r.contentType).append("\r\n");
    }
    r.headers.forEach(x -> h.append(x).append("\r\n"));
    if (body != null) {
      h.append(r.chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + body.length)
          .append("\r\n");
    }
    h.append("\r\n");
    head.write(h.toString().getBytes(StandardCharsets.UTF_8));
    if (body != null && r.chunked) {
      for (int at = 0; at < body.length; at += 65_536) {
        int n = Math.min(65_536, body.length - at);
        head.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        head.write(body, at, n);
        head.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      head.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    } else if (body != null) {
      head.write(body);
    }
    return head.toByteArray();
  }

  /** Parses an HTTP/1.x answer read to the end of the connection (the first one if several). */
  static Answer parseAnswer(byte[] raw) {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    while (text.matches("(?s)HTTP/1\\.[01] 1\\d\\d .*?\r\n\r\n.+")) { // 100 Continue
      int skip = text.indexOf("\r\n\r\n") + 4;
      text = text.substring(skip);
      raw = Arrays.copyOfRange(raw, skip, raw.length);
    }
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return Answer.failed("no complete HTTP answer: \"" + clip(text, 200) + "\"");
    }
    String[] lines = text.substring(0, end).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    int status;
    try {
      status = Integer.parseInt(statusLine[1]);
    } catch (RuntimeException e) {
      return Answer.failed("bad status line \"" + clip(lines[0], 100) + "\"");
    }
    String contentType = null;
    int length = -1;
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      if (name.equals("content-type")) {
        contentType = value;
      } else if (name.equals("content-length")) {
        length = Integer.parseInt(value);
      } else if (name.equals("transfer-encoding") && value.equalsIgnoreCase("chunked")) {
        chunked = true;
      }
    }
    byte[] body = Arrays.copyOfRange(raw, end + 4, raw.length);
    if (chunked) {
      body = dechunk(body);
    } else if (length >= 0 && length < body.length) {
      body = Arrays.copyOf(body, length);
    }
    return new Answer(status, contentType, new String(body, StandardCharsets.UTF_8), null);
  }

  private static byte[] dechunk(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < body.length) {
      int lineEnd = indexOf(body, at);
      if (lineEnd < 0) {
        break;
      }
      String size = new String(body, at, lineEnd - at, StandardCharsets.US_ASCII).split(";")[0];
      int n = Integer.parseInt(size.trim(), 16);
      if (n == 0) {
        break;
      }
      out.write(body, lineEnd + 2, Math.min(n, body.length - lineEnd - 2));
      at = lineEnd + 2 + n + 2;
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private FuzzRequests() {}
}
