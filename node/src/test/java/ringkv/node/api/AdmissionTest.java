package ringkv.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/*
 * Goal: the read deadline of requests in flight (REQUEST_READ_TIMEOUT_MS) is kept by one sweep,
 * not a timer per request, and still cuts off exactly the requests whose body has not arrived by
 * their deadline (within one sweep period), whatever order requests end in; budgets still hold.
 * Method: Admission driven directly with fake timers and a fake clock; a request is a flag
 * (body ended) and a counter of cut-offs.
 */
class AdmissionTest {
  private static final long READ_TIMEOUT_MS = 1_000;

  /** Timers that fire when the test moves the clock. */
  private static final class FakeTimers implements Admission.Timers {
    long nowMs;
    long nextId;
    int set;
    final TreeMap<Long, List<Object[]>> due = new TreeMap<>();

    @Override
    public long setTimer(long delayMs, Handler<Long> handler) {
      set++;
      long id = nextId++;
      due.computeIfAbsent(nowMs + delayMs, k -> new ArrayList<>())
          .add(new Object[] {id, handler});
      return id;
    }

    @Override
    public void cancelTimer(long id) {
      due.values().forEach(l -> l.removeIf(t -> (long) t[0] == id));
    }

    int pending() {
      return due.values().stream().mapToInt(List::size).sum();
    }

    @SuppressWarnings("unchecked")
    void advanceTo(long ms) {
      while (!due.isEmpty() && due.firstKey() <= ms) {
        var first = due.pollFirstEntry();
        nowMs = first.getKey();
        for (Object[] t : first.getValue()) {
          ((Handler<Long>) t[1]).handle((long) t[0]);
        }
      }
      nowMs = ms;
    }
  }

  /** A request: whether its body is in, and how often it was cut off. */
  private static final class Request {
    boolean ended;
    int cutOffs;
    Admission.Ticket ticket;
  }

  private final FakeTimers timers = new FakeTimers();
  private final Admission admission = new Admission(timers, () -> timers.nowMs * 1_000_000L,
      100, 10, 100, READ_TIMEOUT_MS);

  private Request admit(boolean peer) {
    Request r = new Request();
    r.ticket = admission.admit(peer, () -> r.ended, () -> {
      r.cutOffs++;
      r.ticket.done(); // as closing the connection does
    });
    return r;
  }

  @Test
  void manyRequestsShareOneTimer() {
    for (int i = 0; i < 10_000; i++) {
      Request r = admit(false);
      r.ended = true;
      r.ticket.done();
    }
    assertEquals(1, timers.set, "one sweep timer, not one per request");
    timers.advanceTo(10 * READ_TIMEOUT_MS);
    assertEquals(0, timers.pending(), "no sweep while nothing is in flight");
    assertEquals(0, admission.inFlight());
  }

  @Test
  void aRequestStillReadingItsBodyIsCutOffAtItsDeadline() {
    Request slow = admit(false);
    Request served = admit(false);
    served.ended = true; // body in, answer pending (e.g. a causal wait): not cut off
    timers.advanceTo(READ_TIMEOUT_MS - 1);
    assertEquals(0, slow.cutOffs);
    timers.advanceTo(READ_TIMEOUT_MS + admission.sweepIntervalMs());
    assertEquals(1, slow.cutOffs);
    assertEquals(0, served.cutOffs);
    assertEquals(1, admission.inFlight(), "the slow one's slot is free");
    served.ticket.done();
    assertEquals(0, admission.inFlight());
    timers.advanceTo(10 * READ_TIMEOUT_MS);
    assertEquals(0, slow.cutOffs + served.cutOffs - 1);
  }

  @Test
  void requestsEndingInAnyOrderLeaveTheOthersTheirDeadlines() {
    Request a = admit(false);
    timers.advanceTo(300);
    Request b = admit(true);
    Request c = admit(false);
    b.ended = true;
    b.ticket.done(); // from the middle of the list
    timers.advanceTo(READ_TIMEOUT_MS + admission.sweepIntervalMs());
    assertEquals(1, a.cutOffs, "past its deadline");
    assertEquals(0, c.cutOffs, "admitted 300 ms later: not yet");
    timers.advanceTo(1_300 + admission.sweepIntervalMs());
    assertEquals(1, c.cutOffs);
    assertEquals(0, b.cutOffs);
    assertEquals(0, admission.inFlight());
    assertEquals(0, timers.pending());
    Request d = admit(false); // the list is whole again after emptying
    timers.advanceTo(timers.nowMs + READ_TIMEOUT_MS + admission.sweepIntervalMs());
    assertEquals(1, d.cutOffs);
  }

  @Test
  void budgetsHoldAndDoneIsIdempotent() {
    List<Request> peers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      peers.add(admit(true));
    }
    assertNull(admission.admit(true, () -> false, () -> { }), "the peers' budget is spent");
    assertNotNull(admission.admit(false, () -> false, () -> { }), "clients have their own");
    peers.get(0).ticket.done();
    peers.get(0).ticket.done();
    assertEquals(10, admission.inFlight());
    assertTrue(admission.admit(true, () -> false, () -> { }) != null);
    assertFalse(admission.admit(true, () -> false, () -> { }) != null);
  }

  @Test
  void theSweepPeriodIsAQuarterOfTheTimeoutWithinBounds() {
    assertEquals(250, admission.sweepIntervalMs());
    assertEquals(Admission.SWEEP_INTERVAL_MS_MAX, new Admission(timers, () -> 0, 1, 1, 1,
        15_000).sweepIntervalMs());
    assertEquals(Admission.SWEEP_INTERVAL_MS_MIN, new Admission(timers, () -> 0, 1, 1, 1,
        20).sweepIntervalMs());
  }
}
