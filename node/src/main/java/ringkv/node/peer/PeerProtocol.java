package ringkv.node.peer;

import java.util.List;
import ringkv.node.peer.AntiEntropyMessages.DigestReply;
import ringkv.node.peer.AntiEntropyMessages.DigestRequest;
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
import ringkv.node.peer.MembershipMessages.TransferReply;
import ringkv.node.peer.ReplicationMessages.Applied;
import ringkv.node.peer.ReplicationMessages.Batch;
import ringkv.ring.ClusterConfig;

/**
 * Every exchange between nodes, defined once: {@code POST /internal/<name>} with a JSON request
 * and a JSON answer (errors: the status of the {@code ErrorCode} and a body with {@code "code"}
 * and {@code "detail"}). The sender calls a route through {@link PeerClient}; the receiver mounts
 * the same route, so a path or codec cannot differ between the two sides.
 */
public final class PeerProtocol {
  /** Where every internal route lives. */
  public static final String PREFIX = "/internal/";
  /**
   * Bound of a request carrying entries: a replication batch is bounded by
   * {@code ReplicationQueue.Limits.BATCH_BYTES_MAX_DEFAULT} (4 MiB) past its first entry, which
   * may hold one value of a client's size (1 MiB); JSON escaping can double a value's text.
   */
  public static final long ENTRIES_BODY_BYTES_MAX = 16L << 20;
  /** Bound of a request carrying no entries (a forwarded request holds a client's body). */
  public static final long CONTROL_BODY_BYTES_MAX = 4L << 20;

  private PeerProtocol() {}

  public static final PeerRoute<ForwardRequest, ForwardReply> KV =
      control("kv", ForwardRequest.CODEC, ForwardReply.CODEC);
  public static final PeerRoute<Batch, Applied> REPLICATE =
      new PeerRoute<>(PREFIX + "replicate", Batch.CODEC, Applied.CODEC, ENTRIES_BODY_BYTES_MAX);
  public static final PeerRoute<EntriesRequest, EntriesReply> ENTRIES =
      control("entries", EntriesRequest.CODEC, EntriesReply.CODEC);
  public static final PeerRoute<SettleRequest, Empty> SETTLE =
      control("settle", SettleRequest.CODEC, Empty.CODEC);
  public static final PeerRoute<CountRequest, Count> COUNT =
      control("count", CountRequest.CODEC, Count.CODEC);
  public static final PeerRoute<Ping, Pong> PING = control("ping", Ping.CODEC, Pong.CODEC);
  public static final PeerRoute<Empty, ClusterConfig> CONFIG =
      control("config", Empty.CODEC, MembershipMessages.CONFIG);
  public static final PeerRoute<ScanRequest, ScanPage> SCAN =
      control("scan", ScanRequest.CODEC, ScanPage.CODEC);
  public static final PeerRoute<JoinRequest, Empty> JOIN =
      control("join", JoinRequest.CODEC, Empty.CODEC);
  public static final PeerRoute<ChangeRequest, PlanReply> PLAN =
      control("view/plan", ChangeRequest.CODEC, PlanReply.CODEC);
  public static final PeerRoute<ChangeRequest, Empty> COPY =
      control("view/copy", ChangeRequest.CODEC, Empty.CODEC);
  public static final PeerRoute<EpochRequest, Progress> PROGRESS =
      control("view/progress", EpochRequest.CODEC, Progress.CODEC);
  public static final PeerRoute<ChangeRequest, Empty> PREPARE =
      control("view/prepare", ChangeRequest.PREPARE_CODEC, Empty.CODEC);
  public static final PeerRoute<EpochRequest, TransferReply> TRANSFER =
      control("view/transfer", EpochRequest.CODEC, TransferReply.CODEC);
  public static final PeerRoute<EpochRequest, Committed> COMMIT =
      control("view/commit", EpochRequest.CODEC, Committed.CODEC);
  public static final PeerRoute<EpochRequest, Empty> ABORT =
      control("view/abort", EpochRequest.CODEC, Empty.CODEC);
  public static final PeerRoute<OutcomeRequest, OutcomeReply> OUTCOME =
      control("view/outcome", OutcomeRequest.CODEC, OutcomeReply.CODEC);
  public static final PeerRoute<DigestRequest, DigestReply> DIGEST =
      control("ae/digest", DigestRequest.CODEC, DigestReply.CODEC);
  public static final PeerRoute<VersionsRequest, VersionsPage> VERSIONS =
      control("ae/versions", VersionsRequest.CODEC, VersionsPage.CODEC);

  /** Every route, for mounting and for tests that walk the protocol. */
  public static final List<PeerRoute<?, ?>> ALL = List.of(KV, REPLICATE, ENTRIES, SETTLE, COUNT,
      PING, CONFIG, SCAN, JOIN, PLAN, COPY, PROGRESS, PREPARE, TRANSFER, COMMIT, ABORT, OUTCOME,
      DIGEST,
      VERSIONS);

  private static <Q, A> PeerRoute<Q, A> control(String name, Codec<Q> request, Codec<A> answer) {
    return new PeerRoute<>(PREFIX + name, request, answer, CONTROL_BODY_BYTES_MAX);
  }
}
