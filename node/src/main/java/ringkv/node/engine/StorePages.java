package ringkv.node.engine;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.Consumer;
import ringkv.gossip.Entry;
import ringkv.gossip.Store;

/**
 * Walks a store in key order, one page per turn of the event loop, the network polled between two
 * pages ({@link Turns}): a long scan never holds requests.
 */
final class StorePages {
  private StorePages() {}

  /** Visits every entry of {@code store}, {@code pageEntries} per turn. */
  static Future<Void> scan(Vertx vertx, Store store, int pageEntries, Consumer<Entry> visitor) {
    Promise<Void> done = Promise.promise();
    page(vertx, store, pageEntries, null, visitor, done);
    return done.future();
  }

  private static void page(Vertx vertx, Store store, int pageEntries, String after,
      Consumer<Entry> visitor, Promise<Void> done) {
    List<Entry> page = store.scan(after, pageEntries);
    page.forEach(visitor);
    if (page.size() < pageEntries) {
      done.complete();
      return;
    }
    String last = page.get(page.size() - 1).key();
    Turns.afterIo(vertx, () -> page(vertx, store, pageEntries, last, visitor, done));
  }
}
