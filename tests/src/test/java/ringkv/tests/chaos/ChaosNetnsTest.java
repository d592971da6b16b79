package ringkv.tests.chaos;

import java.nio.file.Path;

/*
 * Goal: the chaos suite (ChaosSuite: workload, nemesis, lost-write, convergence and causality
 * checks) with every fault kind, partitions included, in the view-change dialect.
 * Method: NetnsCluster with 6 nodes, REPL_FACTOR=3 (2 shards of 3) and a DATA_DIR each, inside
 * a network namespace the test creates; faults are SIGKILL with restart, SIGSTOP/SIGCONT and
 * partitions (iptables drops the packets between a minority side and the rest). Skipped, with
 * the reason, where namespaces, iptables or root are unavailable.
 */
class ChaosNetnsTest extends ChaosSuite {
  @Override
  ClusterBackend startBackend(Path data) {
    // NetnsCluster keeps each DATA_DIR in its own working directory, owned by the node's uid.
    return NetnsBackend.start(getClass().getSimpleName(), NODES, NODES / SHARDS, START_TIMEOUT);
  }

  @Override
  String skippedFaults() {
    return null;
  }
}
