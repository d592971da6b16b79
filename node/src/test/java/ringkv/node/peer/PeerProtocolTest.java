package ringkv.node.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.ChangeTermination;
import ringkv.gossip.Entry;
import ringkv.gossip.KeyValueCore;
import ringkv.gossip.KeyVersion;
import ringkv.gossip.RangeDigest;
import ringkv.gossip.Version;
import ringkv.node.error.KvException;
import ringkv.node.peer.AntiEntropyMessages.DigestReply;
import ringkv.node.peer.AntiEntropyMessages.DigestRequest;
import ringkv.node.peer.AntiEntropyMessages.Scope;
import ringkv.node.peer.AntiEntropyMessages.VersionsPage;
import ringkv.node.peer.AntiEntropyMessages.VersionsRequest;
import ringkv.node.peer.KvMessages.Count;
import ringkv.node.peer.KvMessages.CountRequest;
import ringkv.node.peer.KvMessages.EntriesReply;
import ringkv.node.peer.KvMessages.EntriesRequest;
import ringkv.node.peer.KvMessages.ForwardReply;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.KvMessages.SettleRequest;
import ringkv.node.peer.MembershipMessages.ChangeRequest;
import ringkv.node.peer.MembershipMessages.Committed;
import ringkv.node.peer.MembershipMessages.EpochRequest;
import ringkv.node.peer.MembershipMessages.JoinRequest;
import ringkv.node.peer.MembershipMessages.OutcomeReply;
import ringkv.node.peer.MembershipMessages.OutcomeRequest;
import ringkv.node.peer.MembershipMessages.Ping;
import ringkv.node.peer.MembershipMessages.PlanReply;
import ringkv.node.peer.MembershipMessages.Pong;
import ringkv.node.peer.MembershipMessages.Progress;
import ringkv.node.peer.MembershipMessages.ScanPage;
import ringkv.node.peer.MembershipMessages.ScanRequest;
import ringkv.node.peer.MembershipMessages.Transfer;
import ringkv.node.peer.MembershipMessages.TransferReply;
import ringkv.node.peer.ReplicationMessages.Applied;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * Goal: every message of the peer protocol reads back exactly as it was written (one codec per
 * message, used by both sides), every route has its own path, and a body that is not the
 * route's message is refused with a 400 rather than read as zeros. Method: a seeded generator
 * of random messages per route (odd keys, unicode, tombstones, empty and large lists) and a
 * round trip through bytes; a table of malformed bodies against every request codec.
 */
class PeerProtocolTest {
  private static final int RUNS = 100;
  private final Random random = new Random(Long.getLong("peer.seed", 20261206L));

  private String text() {
    String[] pieces = {"a", "k", "é", "\u2603", " ", "\"", "\\", "/", "0", "\ud83d\ude00"};
    StringBuilder sb = new StringBuilder();
    int n = 1 + random.nextInt(12);
    for (int i = 0; i < n; i++) {
      sb.append(pieces[random.nextInt(pieces.length)]);
    }
    return sb.toString();
  }

  private NodeAddress address() {
    return new NodeAddress("127.0.0." + (1 + random.nextInt(200)), 1 + random.nextInt(65535));
  }

  private Version version() {
    return new Version(1 + (random.nextLong() >>> 2), address().toString());
  }

  private CausalContext context() {
    Map<String, Version> m = new HashMap<>();
    int n = random.nextInt(6);
    for (int i = 0; i < n; i++) {
      m.put(text(), version());
    }
    return CausalContext.of(m);
  }

  private Entry entry() {
    String[] values = {"1", "\"s\"", "{\"a\":[1,2.50,-0]}", "null", "\"\\u00e9\"", "[]"};
    return random.nextInt(4) == 0 ? Entry.tombstone(text(), version(), context())
        : Entry.value(text(), values[random.nextInt(values.length)], version(), context());
  }

  private List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    int n = random.nextInt(8);
    for (int i = 0; i < n; i++) {
      out.add(entry());
    }
    return out;
  }

  private <T> T pick(T[] options) {
    return options[random.nextInt(options.length)];
  }

  private ClusterConfig config() {
    List<NodeAddress> view = new ArrayList<>(new TreeSet<>(List.of(address(), address(),
        address(), address())));
    ClusterConfig c = ClusterConfig.initial(view, 1 + random.nextInt(2), 20);
    return random.nextBoolean() ? c : c.withView(view.subList(0, view.size() - 1));
  }

  private Scope scope() {
    return new Scope(address(), random.nextInt(8), random.nextInt(100), random.nextInt(1000),
        random.nextBoolean());
  }

  /** A random request and answer for each route. */
  private final Map<PeerRoute<?, ?>, Function<Boolean, Object>> samples = Map.ofEntries(
      Map.entry(PeerProtocol.KV, req -> req
          ? new ForwardRequest(pick(KeyValueCore.Op.values()), text(),
              random.nextBoolean() ? null : "{\"v\":" + random.nextInt() + "}", context(),
              random.nextInt(5000), random.nextInt(3), random.nextInt(9), address(),
              random.nextBoolean())
          : new ForwardReply(pick(KeyValueCore.Outcome.values()),
              random.nextBoolean() ? null : "[1]", context(), random.nextInt(9),
              address().toString())),
      Map.entry(PeerProtocol.REPLICATE, req -> req
          ? (random.nextBoolean() ? Batch.replicated(address(), random.nextInt(3) == 0 ? 0
              : 1 + random.nextInt(1000), entries())
              : new Batch(address(), true, 1 + random.nextInt(1000), random.nextLong() | 1, 0,
                  entries()))
          : new Applied(random.nextInt(1000))),
      Map.entry(PeerProtocol.ENTRIES, req -> req
          ? new EntriesRequest(address(), List.of(text(), text()))
          : new EntriesReply(entries(), random.nextInt(100))),
      Map.entry(PeerProtocol.SETTLE, req -> req
          ? new SettleRequest(address(), random.nextInt(5000)) : Empty.INSTANCE),
      Map.entry(PeerProtocol.COUNT, req -> req
          ? new CountRequest(random.nextInt(1000), random.nextBoolean())
          : new Count(random.nextInt(1_000_000))),
      Map.entry(PeerProtocol.PING, req -> req
          ? new Ping(address(), random.nextInt(100))
          : new Pong(address(), random.nextInt(100), random.nextLong() >>> 1,
              random.nextLong() >>> 1, random.nextBoolean())),
      Map.entry(PeerProtocol.CONFIG, req -> req ? Empty.INSTANCE : config()),
      Map.entry(PeerProtocol.SCAN, req -> req
          ? new ScanRequest(random.nextInt(9), random.nextBoolean() ? null : text(),
              1 + random.nextInt(4096))
          : new ScanPage(entries(), random.nextBoolean() ? null : text())),
      Map.entry(PeerProtocol.JOIN, req -> req ? new JoinRequest(address()) : Empty.INSTANCE),
      Map.entry(PeerProtocol.PLAN, req -> req
          ? new ChangeRequest(config(), Set.of(address(), address()), address())
          : new PlanReply(List.of(new Transfer(address(), random.nextInt(1000),
              random.nextInt(1 << 20))), random.nextInt(1000), random.nextInt(10_000))),
      Map.entry(PeerProtocol.COPY, req -> req
          ? new ChangeRequest(config(), Set.of(address()), address()) : Empty.INSTANCE),
      Map.entry(PeerProtocol.PROGRESS, req -> req ? new EpochRequest(random.nextInt(99))
          : new Progress(pick(new String[] {"copying", "copied", "failed"}),
              random.nextInt(1000), random.nextInt(1000), random.nextInt(1 << 20),
              random.nextInt(1 << 30), random.nextInt(1 << 30),
              random.nextBoolean() ? null : text())),
      Map.entry(PeerProtocol.PREPARE, req -> req
          ? new ChangeRequest(config(), Set.of(address(), address()), address())
          : Empty.INSTANCE),
      Map.entry(PeerProtocol.TRANSFER, req -> req ? new EpochRequest(random.nextInt(99))
          : new TransferReply(random.nextInt(1000), random.nextInt(1 << 20))),
      Map.entry(PeerProtocol.COMMIT, req -> req ? new EpochRequest(random.nextInt(99))
          : new Committed(random.nextBoolean() ? -1 : random.nextInt(1 << 20))),
      Map.entry(PeerProtocol.ABORT, req -> req ? new EpochRequest(random.nextInt(99))
          : Empty.INSTANCE),
      Map.entry(PeerProtocol.OUTCOME, req -> req ? new OutcomeRequest(config())
          : new OutcomeReply(config(), pick(ChangeTermination.Standing.values()))),
      Map.entry(PeerProtocol.DIGEST, req -> {
        if (req) {
          return new DigestRequest(scope(), RangeDigest.LEAF_BITS);
        }
        RangeDigest d = new RangeDigest();
        for (int i = 0; i < 5; i++) {
          d.add(text(), version());
        }
        return new DigestReply(d, random.nextInt(1000), random.nextBoolean());
      }),
      Map.entry(PeerProtocol.VERSIONS, req -> {
        if (req) {
          BitSet leaves = new BitSet();
          leaves.set(random.nextInt(RangeDigest.LEAVES));
          return new VersionsRequest(scope(), leaves, random.nextBoolean() ? null : text(),
              1 + random.nextInt(4096));
        }
        return new VersionsPage(List.of(new KeyVersion(text(), version()),
            new KeyVersion(text(), version(), java.util.OptionalLong.of(random.nextLong()))),
            random.nextBoolean() ? null : text());
      }));

  @SuppressWarnings("unchecked")
  private static <T> void roundTrip(Codec<T> codec, Object message) {
    T typed = (T) message;
    assertEquals(typed, codec.decode(codec.encode(typed)), () -> "round trip of " + message);
  }

  @Test
  void everyMessageReadsBackAsWritten() {
    assertEquals(PeerProtocol.ALL.stream().map(PeerRoute::path).sorted().toList(),
        samples.keySet().stream().map(PeerRoute::path).sorted().toList(), "a sample per route");
    for (int run = 0; run < RUNS; run++) {
      for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
        roundTrip(route.request(), samples.get(route).apply(true));
        roundTrip(route.answer(), samples.get(route).apply(false));
      }
    }
  }

  @Test
  void everyRouteHasItsOwnPath() {
    Set<String> paths = new HashSet<>();
    for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
      assertTrue(paths.add(route.path()), route.path());
      assertTrue(route.path().startsWith(PeerProtocol.PREFIX), route.path());
    }
  }

  @Test
  void bodiesThatAreNotTheMessageAreRefused() {
    String[] bad = {"", "[]", "5", "\"x\"", "{", "{} {}", "{\"epoch\":\"1\"}",
        "{\"from\":5}", "{\"from\":\"no-port\"}", "{\"epoch\":-1}", "{\"epoch\":1.5}",
        "{\"epoch\":99999999999999999999}"};
    for (PeerRoute<?, ?> route : PeerProtocol.ALL) {
      if (route.request() == Empty.CODEC) {
        continue; // {} and any object are an empty request
      }
      for (String body : bad) {
        assertThrows(KvException.class,
            () -> route.request().decode(body.getBytes(StandardCharsets.UTF_8)),
            route.path() + " accepted " + body);
      }
    }
  }

  @Test
  void aCommitAnswerWithoutItsWindowReadsAsUnknown() {
    assertEquals(Committed.UNKNOWN, PeerProtocol.COMMIT.answer().decode(
        "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }
}
