package ringkv.gossip.sim;

/*
 * Goal: find seeds for SimRegressionTest: with a fix reverted in the working tree (never
 * committed), list the seeds whose run fails, so one can be pinned that fails without the fix
 * and passes with it. Not a test; run by hand:
 *   java -cp <gossip test classpath> ringkv.gossip.sim.SeedSearch <from> <count> <seconds>
 *       [viewChanges] [kind-prefix]
 * Method: runs seeds from..from+count-1 in order, stops after <seconds> of wall time (bounded),
 * prints every failing seed with its violation's kind, tick and message (one line each); with
 * a kind prefix, only failures of that kind (e.g. "causality").
 */
final class SeedSearch {
  private SeedSearch() {}

  public static void main(String[] args) {
    long from = Long.parseLong(args[0]);
    int count = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    boolean viewChanges = args.length > 3 && Boolean.parseBoolean(args[3]);
    String kind = args.length > 4 ? args[4] : "";
    long deadlineNs = System.nanoTime() + seconds * 1_000_000_000L;
    int run = 0;
    int failed = 0;
    long servedInStop = 0;
    for (long seed = from; seed < from + count && System.nanoTime() < deadlineNs; seed++) {
      SimResult r = new SimCluster(seed, ReplicaBug.NONE, viewChanges).run();
      run++;
      servedInStop += r.stats().servedInStop();
      if (!r.passed() && r.violation().kind().startsWith(kind)) {
        failed++;
        String message = String.valueOf(r.violation().getMessage());
        System.out.println("FAIL seed=" + seed + " tick=" + r.tick() + " phase=" + r.phase()
            + " " + message.substring(0, Math.min(200, message.length())));
      }
    }
    System.out.println("searched " + run + " seeds from " + from + " (viewChanges="
        + viewChanges + "): " + failed + " failed; reads served by stopped nodes: "
        + servedInStop);
  }
}
