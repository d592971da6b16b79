package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import ringkv.gossip.KeyVersion;
import ringkv.gossip.RangeDigest;
import ringkv.gossip.Version;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.FieldWriter;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Messages of an anti-entropy round: a peer's digest of its shard at a horizon, and its
 * (key, version) pairs of the leaves that differ, page by page. Entries then travel as an
 * entries request and a batch (see {@link KvMessages}, {@link ReplicationMessages}).
 *
 * <p>Values are compared through their checksums ({@code Entry.checksum}) when both sides are of
 * this release: the requests say {@code "checksums":true}, the digest answers it back (then its
 * leaves sum the checksums) and each pair carries a fourth element, the checksum. A node of an
 * earlier release ignores the unknown field, answers a digest without it, and the round falls
 * back to versions only; asked without it, this node answers as that release did. So a mixed
 * cluster keeps reconciling versions, and compares values between upgraded nodes.
 */
public final class AntiEntropyMessages {
  private AntiEntropyMessages() {}

  /** Pairs one versions page may carry. */
  public static final int VERSIONS_PAGE_MAX = 4096;

  /**
   * The round's common header: who asks, for which shard at which epoch, up to which horizon,
   * and whether values are compared through checksums (absent, false: an earlier release).
   */
  public record Scope(NodeAddress from, int shard, long epoch, long horizon, boolean checksums) {
    public Scope {
      Objects.requireNonNull(from, "from");
    }

    FieldWriter write(FieldWriter out) throws IOException {
      out.address("from", from).number("shard", shard).number("epoch", epoch)
          .number("horizon", horizon);
      return checksums ? out.bool("checksums", true) : out;
    }

    static Scope read(Fields f) {
      return new Scope(f.address("from"), (int) f.number("shard", 0, Ring.SHARD_COUNT_MAX),
          f.number("epoch", 0, Long.MAX_VALUE), f.number("horizon", 0, Long.MAX_VALUE),
          f.bool("checksums", false));
    }
  }

  /** Asks for the peer's digest of the scope. */
  public record DigestRequest(Scope scope, int leafBits) {
    public static final Codec<DigestRequest> CODEC = Codec.object("a digest request",
        (out, m) -> m.scope().write(out).number("leaf-bits", m.leafBits()),
        f -> new DigestRequest(Scope.read(f), (int) f.number("leaf-bits", 0, 64)));
  }

  /**
   * A digest, at the horizon the peer used (the higher of the two sides'), and whether its
   * leaves sum checksums (absent, false: versions only).
   */
  public record DigestReply(RangeDigest digest, long horizon, boolean checksums) {
    public static final Codec<DigestReply> CODEC = Codec.object("a digest",
        (out, m) -> {
          ByteBuffer bytes = ByteBuffer.allocate(RangeDigest.LEAVES * Long.BYTES);
          bytes.asLongBuffer().put(m.digest().leafDigests());
          out.text("leaves", Base64.getEncoder().encodeToString(bytes.array()))
              .number("horizon", m.horizon());
          if (m.checksums()) {
            out.bool("checksums", true);
          }
        },
        f -> {
          byte[] bytes = base64(f.text("leaves", RangeDigest.LEAVES * Long.BYTES * 2));
          if (bytes.length != RangeDigest.LEAVES * Long.BYTES) {
            throw JsonReader.bad("a digest of " + bytes.length + " bytes");
          }
          long[] leaves = new long[RangeDigest.LEAVES];
          ByteBuffer.wrap(bytes).asLongBuffer().get(leaves);
          return new DigestReply(RangeDigest.ofLeaves(leaves),
              f.number("horizon", 0, Long.MAX_VALUE), f.bool("checksums", false));
        });
  }

  /** Asks for a page of the peer's pairs in {@code leaves} after key {@code after}. */
  public record VersionsRequest(Scope scope, BitSet leaves, String after, int limit) {
    public VersionsRequest {
      Objects.requireNonNull(scope, "scope");
      leaves = (BitSet) leaves.clone();
    }

    public static final Codec<VersionsRequest> CODEC = Codec.object("a versions request",
        (out, m) -> m.scope().write(out)
            .text("leaves", Base64.getEncoder().encodeToString(m.leaves().toByteArray()))
            .text("after", m.after()).number("limit", m.limit()),
        f -> {
          BitSet leaves = BitSet.valueOf(base64(f.text("leaves", RangeDigest.LEAVES)));
          if (leaves.length() > RangeDigest.LEAVES) {
            throw JsonReader.bad("leaf " + (leaves.length() - 1) + " out of range");
          }
          return new VersionsRequest(Scope.read(f), leaves,
              f.textOrNull("after", EntryJson.KEY_CHARS_MAX),
              (int) f.number("limit", 1, VERSIONS_PAGE_MAX, VERSIONS_PAGE_MAX));
        });
  }

  /**
   * A page of pairs in key order, and the last key looked at (null: no more). A pair is
   * {@code [key, counter, "node"]}, or {@code [key, counter, "node", checksum]} when the request
   * asked for checksums.
   */
  public record VersionsPage(List<KeyVersion> versions, String last) {
    public VersionsPage {
      versions = List.copyOf(versions);
    }

    public static final Codec<VersionsPage> CODEC = Codec.object("a versions page",
        (out, m) -> out.array("versions", m.versions(), VersionsPage::writePair)
            .textOrNull("last", m.last()),
        f -> new VersionsPage(f.array("versions", VERSIONS_PAGE_MAX, VersionsPage::pair),
            f.textOrNull("last", EntryJson.KEY_CHARS_MAX)));

    private static void writePair(JsonGenerator g, KeyVersion kv) throws IOException {
      g.writeStartArray();
      g.writeString(kv.key());
      g.writeNumber(kv.version().counter());
      g.writeString(kv.version().node());
      if (kv.checksum().isPresent()) {
        g.writeNumber(kv.checksum().getAsLong());
      }
      g.writeEndArray();
    }

    private static KeyVersion pair(JsonNode n) {
      if (!n.isArray() || n.size() < 3 || n.size() > 4 || !n.get(0).isTextual()
          || !n.get(1).isIntegralNumber() || !n.get(1).canConvertToLong()
          || n.get(1).asLong() < 1 || !n.get(2).isTextual() || n.get(2).asText().isEmpty()
          || n.size() == 4 && !(n.get(3).isIntegralNumber() && n.get(3).canConvertToLong())) {
        throw JsonReader.bad("a version must be [key, counter, \"node\"(, checksum)]");
      }
      OptionalLong checksum = n.size() == 4 ? OptionalLong.of(n.get(3).asLong())
          : OptionalLong.empty();
      return new KeyVersion(n.get(0).asText(),
          Version.decoded(n.get(1).asLong(), n.get(2).asText()), checksum);
    }
  }

  private static byte[] base64(String text) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad("leaves: " + e.getMessage());
    }
  }
}
