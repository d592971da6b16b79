package ringkv.node.engine;

import io.vertx.core.Vertx;

/**
 * How work split into pages (counting, copying or dropping a change's keys, an anti-entropy
 * digest, a tombstone sweep) goes on with its next page: after the event loop has polled the
 * network, so that requests are served between two pages.
 *
 * <p>Not with {@code runOnContext}: Netty 4.2's event loop runs queued tasks for up to a second
 * ({@code io.netty.eventLoop.maxTaskProcessingQuantumMs}, 1000 by default) before it polls the
 * network again, and it runs the tasks queued meanwhile in the same go, so a chain of pages
 * that queue each other held every request of the node until the chain ended or the second
 * passed (a reshard's count and drop of 100,000 keys held reads 0.9-1.8 s). A timer is run only
 * once it is due, and the loop polls the network before it looks again at timers.
 */
final class Turns {
  /** Delay of the timer that carries the next page (Vert.x's least). */
  static final long NEXT_PAGE_DELAY_MS = 1;

  private Turns() {}

  /** Runs {@code next} on this event loop after it has polled the network once more. */
  static void afterIo(Vertx vertx, Runnable next) {
    vertx.setTimer(NEXT_PAGE_DELAY_MS, id -> next.run());
  }
}
