package ringkv.node.peer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import static com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import ringkv.gossip.Entry;
import ringkv.node.wire.EntryJson;
import ringkv.node.wire.JsonReader;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * A batch of writes one node hands another: replication from its queue, an anti-entropy push,
 * or ({@code transfer}) keys moved by a view change. Read in one streaming pass: it carries every
 * replicated write, and a tree per batch costs more than applying it.
 */
public final class ReplicationMessages {
  private ReplicationMessages() {}

  /**
   * A batch of entries from {@code from}; a {@code transfer} batch carries the {@code epoch} of
   * the view change it copies keys for and its configuration's {@code change} fingerprint
   * ({@code ClusterConfig.fingerprint}; both 0 for any other batch), which the receiver checks
   * against the change under way there ({@code ViewChangeParticipant.acceptsTransfer}): a late
   * batch of an aborted change is not taken for the next change at the same epoch. Any
   * other batch carries the epoch of the configuration its sender had when it sent it
   * ({@code at}, 0 when not said): a receiver that has not installed that configuration yet
   * refuses the batch (the sender sends it again) rather than judge which keys it owns by an
   * older one, which would acknowledge and drop writes of keys the newer one gives it.
   */
  public record Batch(NodeAddress from, boolean transfer, long epoch, long change, long at,
      List<Entry> entries) {
    public Batch {
      Objects.requireNonNull(from, "from");
      checkArgument(transfer ? epoch > 0 : epoch == 0,
          "a transfer batch carries its change's epoch (> 0), any other none: %s", epoch);
      checkArgument(transfer ? change != 0 : change == 0,
          "a transfer batch carries its change's fingerprint (not 0), any other none: %s",
          change);
      checkArgument(at >= 0 && (at == 0 || !transfer),
          "a batch that is no transfer may say its sender's epoch (>= 0): %s", at);
      entries = List.copyOf(entries);
    }

    /** Writes replicated from a queue or pushed by anti-entropy, not saying the epoch. */
    public static Batch replicated(NodeAddress from, List<Entry> entries) {
      return new Batch(from, false, 0, 0, 0, entries);
    }

    /** Writes replicated from a queue or pushed by anti-entropy by a sender at epoch {@code at}. */
    public static Batch replicated(NodeAddress from, long at, List<Entry> entries) {
      return new Batch(from, false, 0, 0, at, entries);
    }

    /** Keys the view change to {@code next} copies to their new owner. */
    public static Batch transfer(NodeAddress from, ClusterConfig next, List<Entry> entries) {
      return new Batch(from, true, next.epoch(), next.fingerprint(), 0, entries);
    }

    public static final Codec<Batch> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, Batch m) throws IOException {
        g.writeStartObject();
        g.writeStringField("from", m.from().toString());
        if (m.transfer()) {
          g.writeBooleanField("transfer", true);
          g.writeNumberField("epoch", m.epoch());
          g.writeNumberField("change", m.change());
        } else if (m.at() > 0) {
          g.writeNumberField("at", m.at());
        }
        g.writeFieldName("entries");
        EntryJson.writeAll(g, m.entries());
        g.writeEndObject();
      }

      @Override
      public Batch read(JsonParser p) throws IOException {
        NodeAddress[] from = {null};
        boolean[] transfer = {false};
        long[] epoch = {0};
        long[] change = {0};
        long[] at = {0};
        List<?>[] entries = {null};
        JsonReader.document(p, "a batch", (name, q) -> {
          switch (name) {
            case "from" -> from[0] = JsonReader.address(q, "from");
            case "transfer" -> transfer[0] = JsonReader.bool(q, "transfer");
            case "epoch" -> epoch[0] = JsonReader.number(q, "epoch", 1, Long.MAX_VALUE);
            case "change" -> change[0] = JsonReader.number(q, "change", Long.MIN_VALUE,
                Long.MAX_VALUE);
            case "at" -> at[0] = JsonReader.number(q, "at", 1, Long.MAX_VALUE);
            case "entries" -> entries[0] = EntryJson.readAll(q, "entries",
                KvMessages.ENTRIES_PER_MESSAGE_MAX, Long.MAX_VALUE);
            default -> JsonReader.skip(q);
          }
        });
        @SuppressWarnings("unchecked")
        List<Entry> list = (List<Entry>) JsonReader.required(entries[0], "entries");
        if (transfer[0] != (epoch[0] > 0)) {
          throw JsonReader.bad(transfer[0] ? "a transfer batch without its epoch"
              : "an epoch on a batch that is no transfer");
        }
        if (transfer[0] && at[0] > 0) {
          throw JsonReader.bad("a transfer batch says its change's epoch, not \"at\"");
        }
        if (transfer[0] != (change[0] != 0)) {
          throw JsonReader.bad(transfer[0] ? "a transfer batch without its change"
              : "a change on a batch that is no transfer");
        }
        return new Batch(JsonReader.required(from[0], "from"), transfer[0], epoch[0], change[0],
            at[0], list);
      }
    };
  }

  /** How many entries of a batch were newer than what the receiver held. */
  public record Applied(long applied) {
    public static final Codec<Applied> CODEC = new Codec<>() {
      @Override
      public void write(JsonGenerator g, Applied m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("applied", m.applied());
        g.writeEndObject();
      }

      @Override
      public Applied read(JsonParser p) throws IOException {
        long[] applied = {0};
        JsonReader.document(p, "an acknowledgement", (name, q) -> {
          if (name.equals("applied")) {
            applied[0] = JsonReader.number(q, "applied", 0, Long.MAX_VALUE);
          } else {
            JsonReader.skip(q);
          }
        });
        return new Applied(applied[0]);
      }
    };
  }
}
