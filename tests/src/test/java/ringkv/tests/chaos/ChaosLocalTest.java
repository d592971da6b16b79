package ringkv.tests.chaos;

import java.nio.file.Path;

/*
 * Goal: the chaos suite (ChaosSuite: workload, nemesis, lost-write, convergence and causality
 * checks) over node processes on 127.0.0.1 in the shard dialect.
 * Method: LocalCluster with 6 nodes, SHARD_COUNT=2 and a DATA_DIR each; faults are SIGKILL with
 * restart and SIGSTOP/SIGCONT. The nodes share the machine's network, so partitions are skipped
 * here (ChaosNetnsTest injects them). The nemesis's two reshards (issue 17: view changes amid
 * kills, stops and clock faults) are on by default on this backend; -Dchaos.viewChanges=false
 * turns them off.
 */
class ChaosLocalTest extends ChaosSuite {
  @Override
  ClusterBackend startBackend(Path data) {
    return LocalBackend.start(getClass().getSimpleName(), NODES, SHARDS, data, START_TIMEOUT);
  }

  /** Reshards mid-run unless {@code -Dchaos.viewChanges=false}. */
  @Override
  boolean viewChanges() {
    return Boolean.parseBoolean(System.getProperty("chaos.viewChanges", "true"));
  }

  @Override
  String skippedFaults() {
    return "partition faults skipped: the nodes share 127.0.0.1 (ChaosNetnsTest cuts networks)";
  }
}
