package ringkv.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import ringkv.gossip.ChangeTermination.Decision;
import ringkv.gossip.TransferProgress;
import ringkv.node.engine.ChangeParticipant;
import ringkv.node.engine.ViewChanges;
import ringkv.node.error.ErrorCode;
import ringkv.node.error.KvException;
import ringkv.node.json.Json;
import ringkv.node.peer.MembershipMessages.Progress;
import ringkv.ring.NodeAddress;

/**
 * View changes an operator can plan, watch and stop, on every node:
 * <ul>
 *   <li>{@code POST /admin/plan} {@code {"kind": ..., ...}} plans a change (kinds: reshard
 *       {@code shard-count}, add-member {@code shard-id socket-address}, add-node and
 *       remove-node {@code socket-address}, view-change {@code view repl-factor}): the
 *       resulting layout, every transfer (source → target, keys, bytes), the keys that move out
 *       of the keys held, the fraction of the hash space whose shard changes against the
 *       unavoidable minimum, and warnings. The plan is kept (staged) on this node;
 *       {@code GET /admin/plan} shows it, {@code DELETE /admin/plan} drops it, and
 *       {@code POST /admin/plan/commit} {@code {"epoch": E}} runs exactly it if the cluster is
 *       still at epoch E.
 *   <li>{@code GET /admin/view-change}: the change this node coordinates — phase, keys and
 *       bytes copied out of the total, rate, time left, per participant — and the last one.
 *   <li>{@code POST /admin/view-change/abort}: stops the change this node coordinates while it
 *       copies (everything rolls back); the stop that follows the copy is short and runs to its
 *       end.
 *   <li>{@code POST /admin/view-change/settle} {@code {"epoch": E}}: on a participant whose
 *       change of epoch E is under way and whose coordinator is gone for good, settles it without
 *       the coordinator ({@link ringkv.gossip.ChangeTermination#settle}): commits if any
 *       participant installed it, aborts once every other participant answered and none did;
 *       503 naming who did not answer otherwise.
 * </ul>
 * The course routes of both dialects keep planning and committing at once. The routes read the
 * configuration and the peers' liveness, and drive the view-change coordinator, through
 * {@code api}.
 */
public record AdminRoutes(ApiServices api) {
  public static final String PLAN = "/admin/plan";
  public static final String COMMIT = "/admin/plan/commit";
  public static final String VIEW_CHANGE = "/admin/view-change";
  public static final String ABORT = "/admin/view-change/abort";
  public static final String SETTLE = "/admin/view-change/settle";

  public void mount(Router router) {
    router.post(PLAN).handler(this::plan);
    router.get(PLAN).handler(this::staged);
    router.delete(PLAN).handler(this::clear);
    router.post(COMMIT).handler(this::commit);
    router.get(VIEW_CHANGE).handler(this::status);
    router.post(ABORT).handler(this::abort);
    router.post(SETTLE).handler(this::settle);
  }

  private void plan(RoutingContext ctx) {
    Proposals.Proposal p = Proposals.of(Requests.body(ctx), api.state(), api.liveness());
    HttpErrors.sendWhenDone(ctx, api.views().plan(p.next(), p.extra()), 200,
        plan -> describe(plan, p.description()));
  }

  private void staged(RoutingContext ctx) {
    ViewChanges.Plan plan = api.views().staged().orElseThrow(() ->
        new KvException(ErrorCode.ROUTE_NOT_FOUND, "no plan is staged"));
    HttpErrors.send(ctx, 200, describe(plan, null));
  }

  private void clear(RoutingContext ctx) {
    if (!api.views().clear()) {
      throw new KvException(ErrorCode.ROUTE_NOT_FOUND, "no plan is staged");
    }
    HttpErrors.send(ctx, 200, Json.object().put("message", "Plan cleared"));
  }

  private void commit(RoutingContext ctx) {
    long epoch = epoch(ctx, "the epoch the plan was made at");
    boolean force = "true".equals(ctx.queryParams().get("force"));
    HttpErrors.sendWhenDone(ctx, api.views().commitStaged(epoch, force), 200, s -> {
      ObjectNode body = Json.object().put("message", "View change committed");
      return body.put("epoch", s.epoch()).put("window-ms", s.windowMs())
          .put("total-ms", s.totalMs()).put("keys-moved", s.keysMoved())
          .put("bytes-sent", s.bytesStreamed());
    });
  }

  private void status(RoutingContext ctx) {
    ObjectNode body = Json.object();
    api.views().status().ifPresentOrElse(s -> {
      body.put("status", s.phase()).put("epoch", s.epoch()).put("started-ms", s.startedMs());
      progress(body.putObject("progress"), s.progress());
      ObjectNode nodes = body.putObject("participants");
      for (Map.Entry<NodeAddress, Progress> e : s.perNode().entrySet()) {
        Progress p = e.getValue();
        ObjectNode n = nodes.putObject(e.getKey().toString());
        n.put("state", p.state());
        progress(n, new TransferProgress(p.keysTotal(), p.keysDone(), p.bytesDone(),
            p.startedMs(), p.nowMs()));
        if (p.error() != null) {
          n.put("error", p.error());
        }
      }
      if (!s.message().isEmpty()) {
        body.put("message", s.message());
      }
    }, () -> body.put("status", "idle"));
    api.views().lastCoordinated().ifPresent(l -> body.putObject("last").put("epoch", l.epoch())
        .put("window-ms", l.windowMs()).put("total-ms", l.totalMs())
        .put("keys-moved", l.keysMoved()).put("bytes-sent", l.bytesStreamed()));
    ChangeParticipant.ChangeStats took = api.views().lastChange();
    if (took != null) {
      body.putObject("last-taken-part").put("epoch", took.epoch())
          .put("window-ms", took.windowMs()).put("keys-sent", took.keysMoved())
          .put("bytes-sent", took.bytesStreamed());
    }
    HttpErrors.send(ctx, 200, body);
  }

  private static void progress(ObjectNode o, TransferProgress p) {
    o.put("keys-total", p.keysTotal()).put("keys-done", p.keysDone())
        .put("bytes-done", p.bytesDone()).put("fraction", p.fraction())
        .put("keys-per-second", Math.round(p.keysPerSecond()));
    if (p.etaMs().isPresent()) {
      o.put("eta-ms", p.etaMs().getAsLong());
    } else {
      o.putNull("eta-ms");
    }
  }

  /** The body's {@code "epoch"}, an integer; 400 naming {@code what} it is otherwise. */
  private static long epoch(RoutingContext ctx, String what) {
    JsonNode epoch = Requests.body(ctx).get("epoch");
    if (epoch == null || !epoch.canConvertToLong() || !epoch.isIntegralNumber()) {
      throw new KvException(ErrorCode.BAD_REQUEST, "\"epoch\": " + what + " is missing");
    }
    return epoch.asLong();
  }

  private void settle(RoutingContext ctx) {
    long epoch = epoch(ctx, "the epoch of the change to settle");
    api.views().settle(epoch).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      Decision d = ar.result();
      if (d instanceof Decision.Wait wait) {
        ctx.fail(new KvException(ErrorCode.VIEW_CHANGE_FAILED, "cannot settle epoch " + epoch
            + " yet: " + wait.why()));
        return;
      }
      ObjectNode body = Json.object().put("message", "View change settled").put("epoch", epoch);
      if (d instanceof Decision.Commit c) {
        body.put("action", "commit").put("reason", c.why());
      } else if (d instanceof Decision.Abort a) {
        body.put("action", "abort").put("reason", a.why());
      } else if (d instanceof Decision.Superseded n) {
        body.put("action", "superseded").put("reason", n.from() + " holds epoch "
            + n.newer().epoch());
      }
      HttpErrors.send(ctx, 200, body);
    });
  }

  private void abort(RoutingContext ctx) {
    if (!api.views().abortRunning()) {
      throw new KvException(ErrorCode.ROUTE_NOT_FOUND,
          "no change this node coordinates is copying (only a copy can be aborted)");
    }
    HttpErrors.send(ctx, 200, Json.object().put("message", "Abort requested"));
  }

  private static ObjectNode describe(ViewChanges.Plan plan, String description) {
    ObjectNode body = Json.object();
    if (description != null) {
      body.put("message", "Plan ready: " + description);
    }
    body.put("base-epoch", plan.baseEpoch()).put("epoch", plan.next().epoch());
    ObjectNode shards = body.putObject("shards");
    plan.next().layout().asMap().forEach((id, members) -> {
      ArrayNode m = shards.putArray(Integer.toString(id));
      members.forEach(a -> m.add(a.toString()));
    });
    ArrayNode transfers = body.putArray("transfers");
    for (ViewChanges.PlannedTransfer t : plan.transfers()) {
      transfers.addObject().put("source", t.source().toString())
          .put("target", t.target().toString()).put("keys", t.keys()).put("bytes", t.bytes());
    }
    body.put("keys-moving", plan.keysMoving()).put("keys-total", plan.keysTotal())
        .put("bytes-moving", plan.bytesMoving())
        .put("shard-moved-fraction", plan.shardMovedFraction())
        .put("shard-moved-minimum", plan.shardMovedMinimum());
    ArrayNode warnings = body.putArray("warnings");
    plan.warnings().forEach(warnings::add);
    ArrayNode participants = body.putArray("participants");
    plan.participants().forEach(a -> participants.add(a.toString()));
    return body;
  }
}
