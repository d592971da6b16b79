package ringkv.node.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.function.Function;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import ringkv.gossip.ViewChangeParticipant;
import ringkv.node.auth.PeerAuth;
import ringkv.node.auth.PeerAuth.RequestSignature;
import ringkv.node.auth.ReplayGuard;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;
import ringkv.node.time.Clock;
import ringkv.node.engine.AntiEntropyDriver;
import ringkv.node.engine.CatchUp;
import ringkv.node.engine.ChangeParticipant;
import ringkv.node.engine.ClusterState;
import ringkv.node.engine.ConfigSync;
import ringkv.node.engine.Heartbeats;
import ringkv.node.engine.KvRequest;
import ringkv.node.engine.KvService;
import ringkv.node.engine.ViewChanges;
import ringkv.node.log.RequestIds;
import ringkv.node.peer.Empty;
import ringkv.node.peer.KvMessages.ForwardReply;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.node.peer.MembershipMessages.JoinRequest;
import ringkv.node.peer.MembershipMessages.Pong;
import ringkv.node.peer.PeerProtocol;
import ringkv.node.peer.PeerRoute;
import ringkv.node.peer.ReplicationMessages.Applied;
import ringkv.ring.ClusterConfig;
import ringkv.ring.NodeAddress;

/**
 * The receiving side of the peer protocol: every route of {@link PeerProtocol} mounted once,
 * each request decoded with its route's codec (a body that is not the message is a 400), handed
 * to the engine, and its answer encoded with the route's codec. Errors travel as the error body
 * of their {@code ErrorCode}, with {@code "code"} and {@code "detail"} ({@link HttpErrors}).
 *
 * <p>With {@code CLUSTER_SECRET} every request to {@code /internal/...} must be signed
 * ({@link PeerAuth}): the header is checked before the body is read (a handler ahead of the
 * route's body handler), the MAC once the bounded body is in, and every answer to a signed
 * request is signed with the request's key and nonce. Anything else gets 401 JSON.
 */
public final class InternalRoutes {
  /** Where the checked header of a request waits for its body. */
  private static final String SIGNATURE = "ringkv.peer-signature";

  private final KvService kv;
  private final ClusterState state;
  private final Heartbeats heartbeats;
  private final ConfigSync configSync;
  private final CatchUp catchUp;
  private final ViewChanges views;
  private final ChangeParticipant participant;
  private final AntiEntropyDriver antiEntropy;
  private final PeerAuth auth;
  private final ReplayGuard replays;
  private final Clock clock;

  public InternalRoutes(KvService kv, ClusterState state, Heartbeats heartbeats,
      ConfigSync configSync, CatchUp catchUp, ViewChanges views,
      ChangeParticipant participant, AntiEntropyDriver antiEntropy, PeerAuth auth,
      ReplayGuard replays, Clock clock) {
    this.auth = auth;
    this.replays = replays;
    this.clock = clock;
    this.kv = kv;
    this.state = state;
    this.heartbeats = heartbeats;
    this.configSync = configSync;
    this.catchUp = catchUp;
    this.views = views;
    this.participant = participant;
    this.antiEntropy = antiEntropy;
  }

  public void mount(Router router) {
    router.route(PeerProtocol.PREFIX + "*").handler(this::checkHeader);
    mount(router, PeerProtocol.KV, this::forwarded);
    mount(router, PeerProtocol.REPLICATE, batch -> {
      heartbeats.heard(batch.from());
      if (!batch.transfer() && !state.takesReplicatedWrites()) {
        // After this node's transfer began, a peer's write would miss it: the sender retries.
        return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE,
            "view change transfer in progress"));
      }
      if (!batch.transfer()
          && !ViewChangeParticipant.takesBatchAt(state.current().epoch(), batch.at())) {
        // Ahead: which keys this node owns is for the sender's configuration to say, which this
        // node has not installed yet. Behind: the batch may be from before the change this node
        // installed. Either way one of them learns the other's epoch from the heartbeats, and
        // the sender sends the batch again then.
        return Future.failedFuture(new KvException(ErrorCode.VIEW_CHANGE, "the sender is at"
            + " epoch " + batch.at() + ", this node at " + state.current().epoch()));
      }
      Applied applied = new Applied(batch.transfer()
          ? participant.applyTransfer(batch.epoch(), batch.change(), batch.entries())
          : kv.applyFromPeers(batch.entries(), true));
      // Issue 15: the sender drops its queue entries (a transfer's or copy's sender, its copy)
      // on this answer, so the batch must first be as durable as DURABILITY says.
      return kv.whenDurable().map(applied);
    });
    mount(router, PeerProtocol.ENTRIES, request -> {
      heartbeats.heard(request.from());
      return done(kv.entriesFor(request));
    });
    mount(router, PeerProtocol.SETTLE, request -> kv.counts()
        .deliveredTo(request.to(), request.waitMs()).map(v -> Empty.INSTANCE));
    mount(router, PeerProtocol.COUNT, kv.counts()::onCountRequest);
    mount(router, PeerProtocol.PING, ping -> done(heartbeats.onPing(ping)));
    mount(router, PeerProtocol.CONFIG, empty -> done(state.current()));
    mount(router, PeerProtocol.SCAN, request -> done(catchUp.scan(request)));
    mount(router, PeerProtocol.JOIN, this::join);
    mount(router, PeerProtocol.PLAN, participant::plan);
    mount(router, PeerProtocol.COPY, participant::copy);
    mount(router, PeerProtocol.PROGRESS, request -> done(participant.progress(request.epoch())));
    mount(router, PeerProtocol.PREPARE, participant::prepare);
    mount(router, PeerProtocol.TRANSFER, request -> participant.transfer(request.epoch()));
    mount(router, PeerProtocol.COMMIT, request -> participant.commit(request.epoch()));
    mount(router, PeerProtocol.ABORT, request -> done(participant.abort(request.epoch())));
    mount(router, PeerProtocol.OUTCOME, request -> done(participant.outcome(request.pending())));
    mount(router, PeerProtocol.DIGEST, antiEntropy::serveDigest);
    mount(router, PeerProtocol.VERSIONS, request -> done(antiEntropy.serveVersions(request)));
    // Read-only status for harnesses and operators (no side effects); signed like every
    // internal route when peers authenticate each other.
    router.get(PeerProtocol.PING.path()).handler(ctx -> {
      if (admitted(ctx, new byte[0])) {
        Pong status = heartbeats.status();
        answer(ctx, 200, PeerProtocol.PING.answer().encode(status));
      }
    });
  }

  /**
   * Before the body: with peer authentication, a request needs a well-formed signature header
   * with a key this node knows, a timestamp within the window and a nonce not seen before;
   * else 401 at once, the body unread (and the connection closed after the answer).
   */
  private void checkHeader(RoutingContext ctx) {
    if (!auth.enabled()) {
      ctx.next();
      return;
    }
    Optional<RequestSignature> s = auth.parse(ctx.request().getHeader(PeerAuth.HEADER));
    if (!isRoute(ctx.request())) {
      // No MAC would ever be checked for it (404, 405): refused like any unsigned request, so
      // nobody without the secret learns which routes exist.
      refuse(ctx, null, "UNAUTHENTICATED", "no such internal route");
      return;
    }
    if (s.isEmpty()) {
      refuse(ctx, null, "UNAUTHENTICATED", "a missing or malformed signature, or an unknown key");
      return;
    }
    RequestSignature sig = s.get();
    switch (replays.check(clock.millis(), sig.timestampMs(), sig.nonceBits())) {
      case STALE -> refuse(ctx, sig, PeerAuth.STALE_CODE, "the signature's timestamp is more "
          + "than SIGNATURE_WINDOW_MS from this node's clock");
      case REPLAYED -> refuse(ctx, sig, "UNAUTHENTICATED", "a replayed request");
      default -> {
        ctx.put(SIGNATURE, sig);
        ctx.next();
      }
    }
  }

  /** Whether {@code request} names a route of the protocol: POST, or the GET status. */
  private static boolean isRoute(HttpServerRequest request) {
    String path = request.path();
    if (request.method() == io.vertx.core.http.HttpMethod.GET) {
      return path.equals(PeerProtocol.PING.path());
    }
    return request.method() == io.vertx.core.http.HttpMethod.POST
        && PeerProtocol.ALL.stream().anyMatch(r -> r.path().equals(path));
  }

  /**
   * After the body: whether the request's MAC covers this method, URI, node and body, and its
   * nonce is new (then remembered). Answers the refusal itself when not.
   */
  private boolean admitted(RoutingContext ctx, byte[] body) {
    if (!auth.enabled()) {
      return true;
    }
    RequestSignature sig = ctx.get(SIGNATURE);
    if (sig == null || !auth.verifyRequest(sig, ctx.request().method().name(),
        ctx.request().uri(), state.self(), body)) {
      refuse(ctx, null, "UNAUTHENTICATED", "the signature does not match the request");
      return false;
    }
    switch (replays.record(clock.millis(), sig.timestampMs(), sig.nonceBits())) {
      case FRESH -> {
        return true;
      }
      case FULL -> answer(ctx, new KvException(ErrorCode.OVERLOADED,
          "more than NONCES_MAX signed requests within the signature window"));
      case STALE -> refuse(ctx, sig, PeerAuth.STALE_CODE, "the signature's timestamp is more "
          + "than SIGNATURE_WINDOW_MS from this node's clock");
      default -> refuse(ctx, sig, "UNAUTHENTICATED", "a replayed request");
    }
    ctx.remove(SIGNATURE); // answered unsigned from here on: the nonce was not accepted
    return false;
  }

  /** 401 JSON; signed when {@code sig} (a known key) is given, so the sender can trust it. */
  private void refuse(RoutingContext ctx, RequestSignature sig, String code, String detail) {
    HttpServerRequest request = ctx.request();
    ObjectNode body = Json.object()
        .put("message", "Error in " + request.method().name())
        .put("error", ErrorCode.UNAUTHENTICATED.error())
        .put("code", code)
        .put("detail", detail);
    if (PeerAuth.STALE_CODE.equals(code)) {
      body.put(PeerAuth.SERVER_TIME_FIELD, clock.millis());
    }
    if (!request.isEnded()) {
      request.response().putHeader("Connection", "close"); // the body stays unread
    }
    byte[] bytes = Json.bytes(body);
    if (sig != null) {
      request.response().putHeader(PeerAuth.HEADER,
          auth.signAnswer(sig, state.self(), 401, bytes));
    }
    HttpErrors.send(request, 401, bytes);
  }

  /** Sends an answer, signed when the request was. */
  private void answer(RoutingContext ctx, int status, byte[] body) {
    RequestSignature sig = ctx.get(SIGNATURE);
    if (sig != null) {
      ctx.response().putHeader(PeerAuth.HEADER, auth.signAnswer(sig, state.self(), status,
          body));
    }
    HttpErrors.send(ctx.request(), status, body);
  }

  /** Sends the error {@code failure} stands for, signed when the request was. */
  private void answer(RoutingContext ctx, Throwable failure) {
    if (ctx.response().headWritten()) {
      return;
    }
    KvException e = HttpErrors.asKvException(ctx.request(), failure);
    answer(ctx, HttpErrors.status(ctx.request(), e),
        Json.bytes(HttpErrors.errorBody(ctx.request(), e)));
  }

  private static <A> Future<A> done(A answer) {
    return Future.succeededFuture(answer);
  }

  /** Mounts {@code route}: authenticate, decode, handle, encode, or answer the failure. */
  private <Q, A> void mount(Router router, PeerRoute<Q, A> route,
      Function<Q, Future<A>> handler) {
    router.post(route.path()).handler(BodyHandler.create(false)
        .setBodyLimit(route.bodyBytesMax()));
    router.post(route.path()).handler(ctx -> {
      Buffer buffer = ctx.body() == null ? null : ctx.body().buffer();
      byte[] body = buffer == null ? new byte[0] : buffer.getBytes();
      if (!admitted(ctx, body)) {
        return;
      }
      Future<A> answer;
      try {
        Q request = route.request().decode(buffer == null ? null : body);
        if (request instanceof ForwardRequest forwarded) {
          // Known here by the id the client's request got on the node that forwarded it.
          RequestIds.adopt(ctx.request(), forwarded.requestId());
        }
        answer = handler.apply(request);
      } catch (RuntimeException e) {
        answer(ctx, e);
        return;
      }
      answer.onComplete(ar -> {
        if (ar.failed()) {
          answer(ctx, ar.cause());
        } else {
          byte[] bytes;
          try {
            bytes = route.answer().encode(ar.result());
          } catch (RuntimeException e) {
            answer(ctx, e);
            return;
          }
          answer(ctx, 200, bytes);
        }
      });
    });
  }

  /**
   * A request forwarded by a peer. Routed with a newer configuration than ours: learn it first,
   * so a node that is no longer the owner never applies the request.
   */
  private Future<ForwardReply> forwarded(ForwardRequest request) {
    kv.checkCounters(request.context());
    heartbeats.heard(request.from());
    Future<Void> synced = configSync.isNews(request.epoch())
        ? configSync.learnFrom(request.from()) : Future.succeededFuture();
    KvRequest kvRequest = new KvRequest(request.op(), request.key(), request.valueJson(),
        request.context(), request.waitMs(), request.requestId(), request.acks(),
        request.contextEntries());
    return synced.compose(v -> kv.execute(kvRequest, request.hops(), request.fromCatchingUp()))
        .map(KvService::forwardReply);
  }

  /** A node started outside the view announces itself: added to the view, in no shard. */
  private Future<Empty> join(JoinRequest request) {
    NodeAddress node = request.node();
    ClusterConfig c = state.current();
    if (c.view().contains(node)) {
      return done(Empty.INSTANCE);
    }
    List<NodeAddress> view = new ArrayList<>(c.view());
    view.add(node);
    return views.change(c.withView(view), Set.of(node)).map(s -> Empty.INSTANCE);
  }
}
