package ringkv.tests.chaos;

import java.util.function.IntConsumer;

/**
 * How a backend kills (SIGKILL or its equivalent), stops (gracefully, waiting for the exit),
 * starts again (waiting until it serves), pauses and resumes one node of its cluster: the
 * cluster's own methods, whose names differ from cluster to cluster. {@link BackendBase} turns
 * them into the {@link ClusterBackend} faults.
 */
record NodeFaults(IntConsumer kill, IntConsumer stop, IntConsumer start, IntConsumer pause,
    IntConsumer resume) {}
