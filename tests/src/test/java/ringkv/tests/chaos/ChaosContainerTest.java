package ringkv.tests.chaos;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import ringkv.tests.support.ContainerEngine;

/*
 * Goal: the chaos suite (ChaosSuite: workload, nemesis, lost-write, convergence and causality
 * checks) against real containers of the image built from the Dockerfile, with Docker's own
 * faults (issue 8 item 4).
 * Method: ContainerCluster on the shared engine (a private network namespace with its own
 * dockerd, CONTAINERS.md) with 6 containers, SHARD_COUNT=2 and DATA_DIR on a named volume each;
 * the run starts once the image's health check reports every container healthy; faults are
 * docker kill + docker start (always the first fault: a kill mid-writes, restarted from its
 * volume), docker stop (SIGTERM) + docker start, docker pause + docker unpause, and partitions
 * (iptables in the engine's namespace drops the packets of the connections between a minority
 * side and the rest, matched by each container's group).
 * Skipped, with the reason, where the machine cannot run containers (root, docker.io, socat,
 * debootstrap or a cached base image), like the other container tests.
 */
@Tag("containers")
@ExtendWith(ContainerEngine.Shared.class)
class ChaosContainerTest extends ChaosSuite {
  private ContainerBackend backend;

  @Override
  ClusterBackend startBackend(Path data) {
    // DATA_DIR lives on the containers' named volumes; the suite's directory stays unused.
    backend = ContainerBackend.start(getClass().getSimpleName(), NODES, SHARDS, START_TIMEOUT);
    return backend;
  }

  @Override
  String skippedFaults() {
    String problem = backend == null ? null : backend.partitionProblem();
    return problem == null ? null : "partition faults skipped: " + problem;
  }
}
