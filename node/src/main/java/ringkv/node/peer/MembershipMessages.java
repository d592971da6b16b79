package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import ringkv.gossip.Entry;
import ringkv.node.wire.ConfigJson;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.Fields;
import ringkv.node.wire.JsonReader;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;
import ringkv.ring.Ring;

/**
 * Messages of liveness and membership: heartbeats, the configuration, a catching-up replica's
 * pages of its shard, a joining node's announcement, and the three phases of a view change.
 */
public final class MembershipMessages {
  private MembershipMessages() {}

  /** Entries one catch-up page may carry (each page is also bounded by bytes). */
  public static final int SCAN_LIMIT_MAX = 4096;

  /** A heartbeat from {@code from}, which holds configuration {@code epoch}. */
  public record Ping(NodeAddress from, long epoch) {
    public Ping {
      Objects.requireNonNull(from, "from");
    }

    public static final Codec<Ping> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, Ping m) throws IOException {
        g.writeStartObject();
        g.writeStringField("from", m.from().toString());
        g.writeNumberField("epoch", m.epoch());
        g.writeEndObject();
      }

      @Override
      public Ping read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a ping");
        return new Ping(f.address("from"), f.number("epoch", 0, Long.MAX_VALUE));
      }
    };
  }

  /**
   * The answer to a heartbeat: who answered, its configuration's epoch, its stable-time report
   * and the process that made it, and whether it serves (caught up).
   */
  public record Pong(NodeAddress node, long epoch, long stable, long incarnation,
      boolean ready) {
    public Pong {
      Objects.requireNonNull(node, "node");
    }

    public static final Codec<Pong> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, Pong m) throws IOException {
        g.writeStartObject();
        g.writeStringField("node", m.node().toString());
        g.writeNumberField("epoch", m.epoch());
        g.writeNumberField("stable", m.stable());
        g.writeNumberField("incarnation", m.incarnation());
        g.writeBooleanField("ready", m.ready());
        g.writeEndObject();
      }

      @Override
      public Pong read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a pong");
        return new Pong(f.address("node"), f.number("epoch", 0, Long.MAX_VALUE),
            f.number("stable", 0, Long.MAX_VALUE), f.number("incarnation", 0, Long.MAX_VALUE),
            f.bool("ready", false));
      }
    };
  }

  /** The cluster configuration as a message. */
  public static final Codec<ClusterConfig> CONFIG = new Codec<>() {
    @Override
    public void write(JsonGenerator g, ClusterConfig c) throws IOException {
      ConfigJson.write(g, c);
    }

    @Override
    public ClusterConfig read(JsonParser p) throws IOException {
      return ConfigJson.read(p, p.nextToken());
    }
  };

  /** A page of {@code shard}'s entries after key {@code after} (null: from the first). */
  public record ScanRequest(int shard, String after, int limit) {
    public static final Codec<ScanRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, ScanRequest m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("shard", m.shard());
        if (m.after() != null) {
          g.writeStringField("after", m.after());
        }
        g.writeNumberField("limit", m.limit());
        g.writeEndObject();
      }

      @Override
      public ScanRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a scan request");
        return new ScanRequest((int) f.number("shard", 0, Ring.SHARD_COUNT_MAX),
            f.textOrNull("after", EntryJson.KEY_CHARS_MAX),
            (int) f.number("limit", 1, SCAN_LIMIT_MAX, SCAN_LIMIT_MAX));
      }
    };
  }

  /** A page of entries, and the last key looked at (null: the scan is over). */
  public record ScanPage(List<Entry> entries, String last) {
    public ScanPage {
      entries = List.copyOf(entries);
    }

    public static final Codec<ScanPage> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, ScanPage m) throws IOException {
        g.writeStartObject();
        g.writeFieldName("entries");
        EntryJson.writeAll(g, m.entries());
        if (m.last() == null) {
          g.writeNullField("last");
        } else {
          g.writeStringField("last", m.last());
        }
        g.writeEndObject();
      }

      @Override
      public ScanPage read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a scan page");
        return new ScanPage(f.entries("entries", SCAN_LIMIT_MAX, Long.MAX_VALUE),
            f.textOrNull("last", EntryJson.KEY_CHARS_MAX));
      }
    };
  }

  /** A node started without a place in the cluster announces itself. */
  public record JoinRequest(NodeAddress node) {
    public JoinRequest {
      Objects.requireNonNull(node, "node");
    }

    public static final Codec<JoinRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, JoinRequest m) throws IOException {
        g.writeStartObject();
        g.writeStringField("node", m.node().toString());
        g.writeEndObject();
      }

      @Override
      public JoinRequest read(JsonParser p) throws IOException {
        return new JoinRequest(Fields.read(p, "a join request").address("node"));
      }
    };
  }

  /** Phase 1 of a view change: prepare {@code config} with these participants. */
  public record PrepareRequest(ClusterConfig config, Set<NodeAddress> participants,
      NodeAddress coordinator) {
    public PrepareRequest {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(coordinator, "coordinator");
      participants = Set.copyOf(participants);
    }

    public static final Codec<PrepareRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, PrepareRequest m) throws IOException {
        g.writeStartObject();
        g.writeFieldName("config");
        ConfigJson.write(g, m.config());
        g.writeArrayFieldStart("participants");
        for (NodeAddress a : new TreeSet<>(m.participants())) {
          g.writeString(a.toString());
        }
        g.writeEndArray();
        g.writeStringField("coordinator", m.coordinator().toString());
        g.writeEndObject();
      }

      @Override
      public PrepareRequest read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a prepare request");
        return new PrepareRequest(f.config("config"),
            new TreeSet<>(f.addresses("participants", NodeAddress.ADDRESSES_PER_LIST_MAX)),
            f.address("coordinator"));
      }
    };
  }

  /** Phases 2 and 3 (and an abort) of the view change to {@code epoch}. */
  public record EpochRequest(long epoch) {
    public static final Codec<EpochRequest> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, EpochRequest m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("epoch", m.epoch());
        g.writeEndObject();
      }

      @Override
      public EpochRequest read(JsonParser p) throws IOException {
        return new EpochRequest(Fields.read(p, "a view-change step")
            .number("epoch", 0, Long.MAX_VALUE));
      }
    };
  }

  /** What a participant sent in phase 2. */
  public record TransferReply(long keys, long bytes) {
    public static final Codec<TransferReply> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, TransferReply m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("keys", m.keys());
        g.writeNumberField("bytes", m.bytes());
        g.writeEndObject();
      }

      @Override
      public TransferReply read(JsonParser p) throws IOException {
        Fields f = Fields.read(p, "a transfer answer");
        return new TransferReply(f.number("keys", 0, Long.MAX_VALUE),
            f.number("bytes", 0, Long.MAX_VALUE));
      }
    };
  }
}
