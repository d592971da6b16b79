package ringkv.node.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import ringkv.node.engine.AntiEntropyDriver;
import ringkv.node.engine.CatchUp;
import ringkv.node.engine.ClusterState;
import ringkv.node.engine.ConfigSync;
import ringkv.node.engine.Heartbeats;
import ringkv.node.engine.KvRequest;
import ringkv.node.engine.KvService;
import ringkv.node.engine.ViewChanges;
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
 */
public final class InternalRoutes {
  private final KvService kv;
  private final ClusterState state;
  private final Heartbeats heartbeats;
  private final ConfigSync configSync;
  private final CatchUp catchUp;
  private final ViewChanges views;
  private final AntiEntropyDriver antiEntropy;

  public InternalRoutes(KvService kv, ClusterState state, Heartbeats heartbeats,
      ConfigSync configSync, CatchUp catchUp, ViewChanges views,
      AntiEntropyDriver antiEntropy) {
    this.kv = kv;
    this.state = state;
    this.heartbeats = heartbeats;
    this.configSync = configSync;
    this.catchUp = catchUp;
    this.views = views;
    this.antiEntropy = antiEntropy;
  }

  public void mount(Router router) {
    mount(router, PeerProtocol.KV, this::forwarded);
    mount(router, PeerProtocol.REPLICATE, batch -> {
      heartbeats.heard(batch.from());
      return done(new Applied(kv.applyFromPeers(batch.entries(), !batch.transfer())));
    });
    mount(router, PeerProtocol.ENTRIES, request -> {
      heartbeats.heard(request.from());
      return done(kv.entriesFor(request));
    });
    mount(router, PeerProtocol.SETTLE,
        request -> kv.deliveredTo(request.to(), request.waitMs()).map(v -> Empty.INSTANCE));
    mount(router, PeerProtocol.COUNT, kv::onCountRequest);
    mount(router, PeerProtocol.PING, ping -> done(heartbeats.onPing(ping)));
    mount(router, PeerProtocol.CONFIG, empty -> done(state.current()));
    mount(router, PeerProtocol.SCAN, request -> done(catchUp.scan(request)));
    mount(router, PeerProtocol.JOIN, this::join);
    mount(router, PeerProtocol.PREPARE, views::prepare);
    mount(router, PeerProtocol.TRANSFER, request -> views.transfer(request.epoch()));
    mount(router, PeerProtocol.COMMIT, request -> views.commit(request.epoch()));
    mount(router, PeerProtocol.ABORT, request -> done(views.abort(request.epoch())));
    mount(router, PeerProtocol.DIGEST, antiEntropy::serveDigest);
    mount(router, PeerProtocol.VERSIONS, request -> done(antiEntropy.serveVersions(request)));
    // Read-only status for harnesses and operators (no side effects).
    router.get(PeerProtocol.PING.path()).handler(ctx -> {
      Pong status = heartbeats.status();
      HttpErrors.send(ctx.request(), 200, PeerProtocol.PING.answer().encode(status));
    });
  }

  private static <A> Future<A> done(A answer) {
    return Future.succeededFuture(answer);
  }

  /** Mounts {@code route}: decode, handle, encode, or render the failure. */
  private static <Q, A> void mount(Router router, PeerRoute<Q, A> route,
      Function<Q, Future<A>> handler) {
    router.post(route.path()).handler(BodyHandler.create(false)
        .setBodyLimit(route.bodyBytesMax()));
    router.post(route.path()).handler(ctx -> {
      Future<A> answer;
      try {
        Buffer body = ctx.body() == null ? null : ctx.body().buffer();
        answer = handler.apply(route.request().decode(body == null ? null : body.getBytes()));
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
      answer.onComplete(ar -> {
        if (ar.failed()) {
          ctx.fail(ar.cause());
        } else {
          HttpErrors.send(ctx.request(), 200, route.answer().encode(ar.result()));
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
        request.context(), request.waitMs());
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
