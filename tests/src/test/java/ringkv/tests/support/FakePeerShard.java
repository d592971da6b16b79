package ringkv.tests.support;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One real node A (a process of {@link LocalCluster}) in a shard of three whose two other
 * members B and C are {@link FakePeer}s the test plays: for what A does while it catches up, or
 * to see which peers it contacts.
 *
 * <p>Not thread-safe; one test uses it.
 */
public record FakePeerShard(FakePeer b, FakePeer c, LocalCluster cluster)
    implements AutoCloseable {
  private static final String LAST_PAGE = "{\"entries\":[],\"last\":null}";

  /** @param name directory name of the node's logs, usually the test's name */
  public static FakePeerShard start(String name) {
    return start(name, UnaryOperator.identity());
  }

  /** With more settings of the node ({@code LocalCluster.Builder.env} and the like). */
  public static FakePeerShard start(String name, UnaryOperator<LocalCluster.Builder> settings) {
    FakePeer b = new FakePeer();
    FakePeer c = new FakePeer();
    LocalCluster cluster = null;
    try {
      cluster = settings.apply(LocalCluster.builder(name).nodes(1).shards(1)
          .alsoInView(b.address(), c.address())).start();
    } finally {
      if (cluster == null) {
        b.close();
        c.close();
      }
    }
    return new FakePeerShard(b, c, cluster);
  }

  /** A's address as a request goes to it. */
  public String a() {
    return cluster.node(0);
  }

  /**
   * Restarts A without its data; B and C each serve {@code firstPage} of catch-up and hold the
   * next (the empty last page) until {@link #release}. Returns once A asked for that second page
   * (within {@code timeout}), so A is up and catching up.
   */
  public void restartCatchingUp(String firstPage, Duration timeout) {
    cluster.stop(0);
    for (FakePeer p : List.of(b, c)) {
      p.servePages(List.of(firstPage, LAST_PAGE));
      p.holdAfterFirstPage();
    }
    cluster.launch(0);
    await("A asked for its second page").atMost(timeout)
        .until(() -> b.scans() + c.scans() >= 2);
  }

  /** B and C serve the pages they held: A's catch-up can end. */
  public void release() {
    b.release();
    c.release();
  }

  @Override
  public void close() {
    try (FakePeer closeB = b; FakePeer closeC = c) {
      cluster.close();
    }
  }
}
