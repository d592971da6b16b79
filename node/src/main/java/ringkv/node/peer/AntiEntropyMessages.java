package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import ringkv.gossip.KeyVersion;
import ringkv.gossip.RangeDigest;
import ringkv.gossip.Version;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Messages of an anti-entropy round: a peer's digest of its shard at a horizon, and its
 * (key, version) pairs of the leaves that differ, page by page. Entries then travel as an
 * entries request and a batch (see {@link KvMessages}, {@link ReplicationMessages}).
 */
public final class AntiEntropyMessages {
  private AntiEntropyMessages() {}

  /** Pairs one versions page may carry. */
  public static final int VERSIONS_PAGE_MAX = 4096;

  /** The round's common header: who asks, for which shard at which epoch, up to which horizon. */
  public record Scope(NodeAddress from, int shard, long epoch, long horizon) {
    public Scope {
      Objects.requireNonNull(from, "from");
    }

    void write(JsonGenerator g) throws IOException {
      g.writeStringField("from", from.toString());
      g.writeNumberField("shard", shard);
      g.writeNumberField("epoch", epoch);
      g.writeNumberField("horizon", horizon);
    }

    static Scope read(Fields f) {
      return new Scope(f.address("from"), (int) f.number("shard", 0, Ring.SHARD_COUNT_MAX),
          f.number("epoch", 0, Long.MAX_VALUE), f.number("horizon", 0, Long.MAX_VALUE));
    }
  }

  /** Asks for the peer's digest of the scope. */
  public record DigestRequest(Scope scope, int leafBits) {
    public static final Codec<DigestRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, DigestRequest m) throws IOException {
        g.writeStartObject();
        m.scope().write(g);
        g.writeNumberField("leaf-bits", m.leafBits());
        g.writeEndObject();
      }

      @Override
      public DigestRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a digest request");
        return new DigestRequest(Scope.read(f), (int) f.number("leaf-bits", 0, 64));
      }
    };
  }

  /** A digest, at the horizon the peer used (the higher of the two sides'). */
  public record DigestReply(RangeDigest digest, long horizon) {
    public static final Codec<DigestReply> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, DigestReply m) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(RangeDigest.LEAVES * Long.BYTES);
        bytes.asLongBuffer().put(m.digest().leafDigests());
        g.writeStartObject();
        g.writeStringField("leaves", Base64.getEncoder().encodeToString(bytes.array()));
        g.writeNumberField("horizon", m.horizon());
        g.writeEndObject();
      }

      @Override
      public DigestReply read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a digest");
        byte[] bytes = base64(f.text("leaves", RangeDigest.LEAVES * Long.BYTES * 2));
        if (bytes.length != RangeDigest.LEAVES * Long.BYTES) {
          throw JsonReader.bad("a digest of " + bytes.length + " bytes");
        }
        long[] leaves = new long[RangeDigest.LEAVES];
        ByteBuffer.wrap(bytes).asLongBuffer().get(leaves);
        return new DigestReply(RangeDigest.ofLeaves(leaves),
            f.number("horizon", 0, Long.MAX_VALUE));
      }
    };
  }

  /** Asks for a page of the peer's pairs in {@code leaves} after key {@code after}. */
  public record VersionsRequest(Scope scope, BitSet leaves, String after, int limit) {
    public VersionsRequest {
      Objects.requireNonNull(scope, "scope");
      leaves = (BitSet) leaves.clone();
    }

    public static final Codec<VersionsRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, VersionsRequest m) throws IOException {
        g.writeStartObject();
        m.scope().write(g);
        g.writeStringField("leaves", Base64.getEncoder().encodeToString(
            m.leaves().toByteArray()));
        if (m.after() != null) {
          g.writeStringField("after", m.after());
        }
        g.writeNumberField("limit", m.limit());
        g.writeEndObject();
      }

      @Override
      public VersionsRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a versions request");
        BitSet leaves = BitSet.valueOf(base64(f.text("leaves", RangeDigest.LEAVES)));
        if (leaves.length() > RangeDigest.LEAVES) {
          throw JsonReader.bad("leaf " + (leaves.length() - 1) + " out of range");
        }
        return new VersionsRequest(Scope.read(f), leaves,
            f.textOrNull("after", EntryJson.KEY_CHARS_MAX),
            (int) f.number("limit", 1, VERSIONS_PAGE_MAX, VERSIONS_PAGE_MAX));
      }
    };
  }

  /** A page of pairs in key order, and the last key looked at (null: no more). */
  public record VersionsPage(List<KeyVersion> versions, String last) {
    public VersionsPage {
      versions = List.copyOf(versions);
    }

    public static final Codec<VersionsPage> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, VersionsPage m) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("versions");
        for (KeyVersion kv : m.versions()) {
          g.writeStartArray();
          g.writeString(kv.key());
          g.writeNumber(kv.version().counter());
          g.writeString(kv.version().node());
          g.writeEndArray();
        }
        g.writeEndArray();
        if (m.last() == null) {
          g.writeNullField("last");
        } else {
          g.writeStringField("last", m.last());
        }
        g.writeEndObject();
      }

      @Override
      public VersionsPage read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a versions page");
        List<KeyVersion> versions = f.array("versions", VERSIONS_PAGE_MAX, n -> {
          if (!n.isArray() || n.size() != 3 || !n.get(0).isTextual()
              || !n.get(1).isIntegralNumber() || !n.get(1).canConvertToLong()
              || n.get(1).asLong() < 1 || !n.get(2).isTextual() || n.get(2).asText().isEmpty()) {
            throw JsonReader.bad("a version must be [key, counter, \"node\"]");
          }
          return new KeyVersion(n.get(0).asText(),
              Version.decoded(n.get(1).asLong(), n.get(2).asText()));
        });
        return new VersionsPage(versions, f.textOrNull("last", EntryJson.KEY_CHARS_MAX));
      }
    };
  }

  private static byte[] base64(String text) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw JsonReader.bad("leaves: " + e.getMessage());
    }
  }
}
