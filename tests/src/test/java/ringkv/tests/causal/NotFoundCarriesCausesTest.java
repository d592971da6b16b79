package ringkv.tests.causal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import ringkv.tests.causal.CausalChecker.Op;
import ringkv.tests.support.LocalCluster;

/*
 * Goal: a client that has seen a key deleted (a 404 after it had read a value) never reads the
 * deleted value again (SPEC §6: reads never go back in time, across replica failures). The 404
 * of the shard dialect carries no causal-metadata today, so what the client learned from it is
 * lost: the replica's read merged the tombstone's version and causes into the context, and the
 * answer drops them. Expected to FAIL until 404 answers (GET and DELETE) carry causal-metadata.
 * Method: one shard of two node processes A and B. A value u of key k reaches both; client c2
 * reads u at B. B is paused (SIGSTOP); at A, c1 writes x (its batch to B now hangs in flight,
 * FORWARD_TIMEOUT_MS=30000, so the next batch waits) and deletes k; c2 reads k at A: 404. A is
 * killed (the delete dies with it, as SPEC §6 allows without DATA_DIR), B resumed, and c2 reads
 * k at B: it must get 404 or 503, not u. The recorded history must satisfy CausalChecker.
 */
@Tag("chaos")
class NotFoundCarriesCausesTest {
  private LocalCluster cluster;

  @AfterEach
  void reap() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void clientThatSawTheDeleteNeverReadsTheDeletedValueAgain() {
    cluster = LocalCluster.builder(getClass().getSimpleName()).nodes(2).shards(1)
        .env("FORWARD_TIMEOUT_MS", "30000").start();
    String a = cluster.node(0);
    String b = cluster.node(1);
    List<Op> history = Collections.synchronizedList(new ArrayList<>());
    RecordingClient c1 = new RecordingClient("c1", history);
    RecordingClient c2 = new RecordingClient("c2", history);

    assertEquals(201, c1.put(a, "k").status());
    await("u at B").atMost(Duration.ofSeconds(10)).until(() -> c1.get(b, "k").status() == 200);
    Op read = c2.get(b, "k");
    assertEquals("c1-0", read.value(), read.toString());

    cluster.pause(1);
    assertEquals(201, c1.put(a, "x").status());
    assertEquals(200, c1.delete(a, "k").status());
    Op notFound = c2.get(a, "k");
    assertEquals(404, notFound.status(), notFound.toString());
    cluster.stop(0);
    cluster.resume(1);

    Op again = c2.get(b, "k");
    List<Op> recorded;
    synchronized (history) {
      recorded = List.copyOf(history);
    }
    System.out.println("not-found causes: c2 read k at B after the 404: " + again + "; "
        + CausalChecker.summary(recorded));
    assertEquals(List.of(), CausalChecker.check(recorded),
        "after a 404 at A, B served the deleted value: the 404 must carry causal-metadata");
  }
}
