#!/usr/bin/env bash
# Issue 15: PUT throughput and latency of each DURABILITY mode, with DATA_DIR on this machine's
# disk, measured back to back in one run (BENCHMARKS.md, "Durability modes").
#
#   bench/durability-modes.sh            # 1 node (1 shard) and 6 nodes (3 shards x 2), each mode
#
# For each cluster size and mode: a fresh DATA_DIR under $DATA_ROOT (default
# /var/tmp/ringkv-bench-durability; refused if it is a tmpfs), `./kvs up --data` with
# DURABILITY=<mode>, then `kvs-bench --target` with workload W (updates only: every operation
# is a PUT), 32 connections, then the cluster is stopped. Prints one line per run (and keeps
# each run's JSON report in $OUT) with the load average before and after it.
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

cluster_pid=""
stop_cluster() {
  if [[ -n "$cluster_pid" ]]; then
    kill -TERM "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
    cluster_pid=""
  fi
}
trap stop_cluster EXIT

echo "data on $(df --output=source "$DATA_ROOT" | tail -1) ($fs); $(nproc) cores"
for ((round = 1; round <= ROUNDS; round++)); do
  for size in $SIZES; do
    nodes=${size%,*}
    shards=${size#*,}
    for mode in $MODES; do
      rm -rf "$DATA_ROOT/data"
      log="$OUT/kvs-up-$nodes-$mode.log"
      DURABILITY=$mode KVS_JVM_FLAGS="$JVM_FLAGS" ./kvs up --nodes "$nodes" --shards "$shards" \
        --data "$DATA_ROOT/data" >"$log" 2>&1 &
      cluster_pid=$!
      for ((i = 0; i < 600; i++)); do
        grep -q '^ready:' "$log" 2>/dev/null && break
        kill -0 "$cluster_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
      done
      grep -q '^ready:' "$log" || { echo "cluster not ready in 60 s" >&2; cat "$log" >&2; exit 1; }
      load_before=$(cut -d' ' -f1-3 /proc/loadavg)
      json="$OUT/round$round-$nodes-nodes-$mode.json"
      java -jar bench/target/kvs-bench.jar --target 127.0.0.1:8082 --workload W \
        --connections "$CONNECTIONS" --records "$RECORDS" --warmup "$WARMUP" \
        --duration "$DURATION" --json "$json" >"$OUT/round$round-$nodes-nodes-$mode.txt" 2>&1 \
        || { cat "$OUT/round$round-$nodes-nodes-$mode.txt" >&2; exit 1; }
      load_after=$(cut -d' ' -f1-3 /proc/loadavg)
      stop_cluster
      summary=$(python3 - "$json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["targets"][0]["measure"]
l = m["latency-ms"]
print(f"ops/s={m['throughput']:.0f} p50-ms={l['p50']:.2f} p99-ms={l['p99']:.2f} "
      f"p99.9-ms={l['p99.9']:.2f} errors={sum(m['errors'].values())}")
PY
)
      echo "round=$round nodes=$nodes mode=$mode load-before=[$load_before]" \
        "load-after=[$load_after] $summary"
    done
  done
done
