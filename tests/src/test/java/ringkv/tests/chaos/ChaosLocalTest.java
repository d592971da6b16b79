package ringkv.tests.chaos;

import java.nio.file.Path;

/*
 * Goal: the chaos suite (ChaosSuite: workload, nemesis, lost-write, convergence and causality
 * checks) over node processes on 127.0.0.1 in the shard dialect.
 * Method: LocalCluster with 6 nodes, SHARD_COUNT=2 and a DATA_DIR each; faults are SIGKILL with
 * restart and SIGSTOP/SIGCONT. The nodes share the machine's network, so partitions are skipped
 * here (ChaosNetnsTest injects them).
 */
class ChaosLocalTest extends ChaosSuite {
  @Override
  ClusterBackend startBackend(Path data) {
    return LocalBackend.start(getClass().getSimpleName(), NODES, SHARDS, data, START_TIMEOUT);
  }

  @Override
  String skippedFaults() {
    return "partition faults skipped: the nodes share 127.0.0.1 (ChaosNetnsTest cuts networks)";
  }
}
