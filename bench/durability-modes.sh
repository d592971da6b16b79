#!/usr/bin/env bash
# Issue 15: PUT throughput and latency of each DURABILITY mode, with DATA_DIR on this machine's
# disk, measured back to back in one run (the numbers in BENCHMARKS.md, "Durability modes").
#
#   bench/durability-modes.sh            # 1 node (1 shard) and 6 nodes (3 shards x 2), each mode
#
# For each cluster size and mode: N nodes on 127.0.0.1:8082.. started as `./kvs up` starts them
# (SHARD_COUNT=S, DURABILITY=<mode>, DATA_DIR=<a fresh directory under $DATA_ROOT>, default
# /var/tmp/ringkv-bench-durability, refused if it is a tmpfs; the bench's node JVM flags), then
# `kvs-bench --target` with workload W (updates only: every operation is a PUT), 32
# connections, then the nodes are stopped (SIGTERM). (`kvs-bench --start-cluster` gives its
# nodes no DATA_DIR, and `./kvs up` gives a busy machine 20 s to start six nodes.) Prints one
# line per run (and keeps each run's report, JSON and node logs in $OUT) with the load average
# before and after it and what each node's log syncer did (from its last log line).
# Environment: SIZES ("1,1 6,3"), MODES ("os periodic sync"), ROUNDS (1), RECORDS (20000),
# WARMUP (10s), DURATION (20s), CONNECTIONS (32).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DATA_ROOT=${DATA_ROOT:-/var/tmp/ringkv-bench-durability}
OUT=${OUT:-bench/target/durability-modes}
SIZES=${SIZES:-"1,1 6,3"}
MODES=${MODES:-"os periodic sync"}
ROUNDS=${ROUNDS:-1}
RECORDS=${RECORDS:-20000}
WARMUP=${WARMUP:-10s}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
JVM_FLAGS="-Xms64m -Xmx512m -XX:+UseSerialGC" # the bench's default --node-jvm-flags

[[ -f node/target/kvs-node.jar && -f bench/target/kvs-bench.jar ]] \
  || { echo "build first: mvn -B -q package -DskipTests" >&2; exit 2; }
mkdir -p "$DATA_ROOT" "$OUT"
fs=$(stat -f -c %T "$DATA_ROOT")
[[ "$fs" != tmpfs && "$fs" != ramfs ]] || { echo "$DATA_ROOT is on $fs, not a disk" >&2; exit 2; }

PIDS=()
stop_cluster() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_cluster EXIT

# start_cluster NODES SHARDS MODE LOGDIR: starts the nodes, waits (120 s at most) until all serve.
start_cluster() {
  local nodes=$1 shards=$2 mode=$3 logs=$4 port view="" i
  for ((port = 8082; port < 8082 + nodes; port++)); do
    view+="${view:+,}127.0.0.1:$port"
  done
  for ((port = 8082; port < 8082 + nodes; port++)); do
    SOCKET_ADDRESS=127.0.0.1:$port VIEW=$view SHARD_COUNT=$shards DURABILITY=$mode \
      DATA_DIR="$DATA_ROOT/data/node-$port" EXIT_WITH_PARENT=1 \
      java $JVM_FLAGS -jar node/target/kvs-node.jar >"$logs/node-$port.log" 2>&1 &
    PIDS+=($!)
  done
  for ((port = 8082; port < 8082 + nodes; port++)); do
    local served=0
    for ((i = 0; i < 1200; i++)); do
      if ready "$port"; then
        served=1
        break
      fi
      sleep 0.1
    done
    ((served == 1)) \
      || { echo "node $port not ready in 120 s" >&2; tail -20 "$logs/node-$port.log" >&2; exit 1; }
  done
}

# ready PORT: whether the node serves, caught up (GET /health/ready answers 200; unlike
# /internal/ping it needs no peer signature when the nodes have a CLUSTER_SECRET).
ready() {
  curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$1/health/ready"
}

echo "data on $(df --output=source "$DATA_ROOT" | tail -1) ($fs); $(nproc) cores"
for ((round = 1; round <= ROUNDS; round++)); do
  for size in $SIZES; do
    nodes=${size%,*}
    shards=${size#*,}
    for mode in $MODES; do
      rm -rf "$DATA_ROOT/data"
      logs="$OUT/round$round-$nodes-nodes-$mode-logs"
      rm -rf "$logs"
      mkdir -p "$logs"
      start_cluster "$nodes" "$shards" "$mode" "$logs"
      load_before=$(cut -d' ' -f1-3 /proc/loadavg)
      json="$OUT/round$round-$nodes-nodes-$mode.json"
      java -jar bench/target/kvs-bench.jar --target 127.0.0.1:8082 --workload W \
        --connections "$CONNECTIONS" --records "$RECORDS" --warmup "$WARMUP" \
        --duration "$DURATION" --json "$json" >"$OUT/round$round-$nodes-nodes-$mode.txt" 2>&1 \
        || { cat "$OUT/round$round-$nodes-nodes-$mode.txt" >&2; exit 1; }
      load_after=$(cut -d' ' -f1-3 /proc/loadavg)
      stop_cluster
      syncs=$(grep -ho 'syncs=[0-9]* sync-us-mean=[0-9]* acks-per-sync-max=[0-9]*' \
        "$logs"/node-*.log | tr '\n' ';' || true)
      summary=$(python3 - "$json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["targets"][0]["measure"]
l = m["latency-ms"]
print(f"ops/s={m['throughput']:.0f} p50-ms={l['p50']:.2f} p99-ms={l['p99']:.2f} "
      f"p99.9-ms={l['p99.9']:.2f} errors={sum(m['errors'].values())}")
PY
)
      echo "round=$round nodes=$nodes mode=$mode load-before=[$load_before]" \
        "load-after=[$load_after] $summary nodes-log-syncer=[$syncs]"
    done
  done
done
