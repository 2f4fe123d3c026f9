#!/usr/bin/env bash
# The consortium cluster benchmark (docs/benchmarks.md, "Consortium cluster
# (etcd)"): 3 etcd members and 3 carechain nodes on 127.0.0.1, all on this
# machine, in a fresh folder under /tmp. In one run it measures
#
#   1. etcd alone: `etcdctl check perf` (a pass/fail check at a fixed load);
#   2. committed tx/s on every node and commit latency, unpaced load spread
#      over the 3 nodes (`carechain_load run --node URL1,URL2,URL3`); then
#      commit latency at a fixed offered rate, RATE_SHARE of the slowest
#      node's committed tx/s, for PACED_SECONDS;
#   3. fail-over: the same paced load, the proposer killed with SIGKILL
#      KILL_AFTER s in; time from the kill until a surviving node commits a
#      block of the new proposer;
#   4. raw etcd writes over the project's gRPC client with values of the
#      blocks' mean size, 1 and 8 writers (`carechain_load etcd-put`), with
#      the nodes stopped: the ceiling;
#
# and prints one JSON summary on stdout (also DIR/summary.json). Progress
# goes to stderr. Everything it started is stopped on exit; the folder (logs,
# each step's JSON) is kept and named on stderr, without the nodes' and
# members' data (~3 GB) unless KEEP_DATA=1.
#
#   bench/cluster.sh                       # build first: see BUILD below
#   TXS=100000 CONNS=6 BATCH=500 bench/cluster.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$root/build-bench}
CARECHAIN=${CARECHAIN:-$BUILD/src/carechain}
LOAD=${LOAD:-$BUILD/bench/carechain_load}
ETCDCTL=${ETCDCTL:-/usr/bin/etcdctl}
TXS=${TXS:-100000}                      # step 2
CONNS=${CONNS:-6}                       # 2 per node
BATCH=${BATCH:-500}
ACTORS=${ACTORS:-256}
INTERVAL_MS=${INTERVAL_MS:-10}          # block interval
MAX_BLOCK_TXS=${MAX_BLOCK_TXS:-5000}
PERF_LOAD=${PERF_LOAD:-s}               # etcdctl check perf --load (none: skip it)
RATE_SHARE=${RATE_SHARE:-0.5}           # paced runs: this share of the unpaced rate
PACED_SECONDS=${PACED_SECONDS:-10}      # the latency run
PACED_BATCH=${PACED_BATCH:-100}
FAILOVER_SECONDS=${FAILOVER_SECONDS:-20}  # the fail-over run
KILL_AFTER=${KILL_AFTER:-6}
PUT_SECONDS=${PUT_SECONDS:-5}
KEEP_DATA=${KEEP_DATA:-0}
CLUSTER="$root/scripts/cluster"

log() { echo "cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }
for b in "$CARECHAIN" "$LOAD"; do
  [ -x "$b" ] || die "$b not found: cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench --target carechain carechain_load"
done
[ -x "$ETCDCTL" ] || die "$ETCDCTL not found (scripts/deps installs etcd-client)"

work=$(mktemp -d /tmp/carechain-cluster-bench.XXXXXX)
etcd_dir=$work/etcd   # scripts/cluster's folder: etcd-i.* and the nodes' node-i.pid
net=$work/net         # carechain_load init --nodes 3
log "folder $work"

# The nodes' pid files live in the etcd folder, so that `scripts/cluster
# stop` stops them as well as the members.
stop_nodes() {
  local i pid
  for i in 1 2 3; do
    [ -f "$etcd_dir/node-$i.pid" ] || continue
    pid=$(cat "$etcd_dir/node-$i.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$etcd_dir/node-$i.pid"
  done
}
cleanup() {
  stop_nodes
  "$CLUSTER" stop "$etcd_dir" >/dev/null 2>&1 || true
  if [ "$KEEP_DATA" != 1 ]; then
    cp "$etcd_dir"/etcd-*.log "$work/" 2>/dev/null || true
    rm -rf "$etcd_dir" "$net"/node-*-data
  fi
}
trap cleanup EXIT

# A base port with 6 free ports after it (scripts/cluster takes base..base+5).
base=$(python3 - <<'EOF'
import random, socket
for _ in range(200):
    base = random.randrange(30000, 60000, 2)
    socks = []
    try:
        for p in range(base, base + 6):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
EOF
)
[ -n "$base" ] || die "no block of free ports"

log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(cut -d' ' -f1-3 /proc/loadavg)" > "$work/loadavg-start"

# 1. etcd
eps=$("$CLUSTER" etcd "$etcd_dir" "$base" | tail -1)
log "etcd $eps"
if [ "$PERF_LOAD" != none ]; then
  log "etcdctl check perf --load=$PERF_LOAD (60 s)"
  "$ETCDCTL" --endpoints "$eps" check perf --load="$PERF_LOAD" >"$work/check-perf.txt" 2>&1 || true
else
  : >"$work/check-perf.txt"
fi

# 2. the network and its nodes
"$LOAD" init --dir "$net" --nodes 3 --etcd "$eps" --actors "$ACTORS" --interval-ms "$INTERVAL_MS" \
  --max-block-txs "$MAX_BLOCK_TXS" >/dev/null
urls=() pids=()
for i in 1 2 3; do
  (cd "$net" && exec "$CARECHAIN" node --config "node-$i.toml") </dev/null >"$net/node-$i.log" 2>&1 &
  echo $! > "$etcd_dir/node-$i.pid"
  pids+=($!)
  disown  # the fail-over kills one: no job-control notice
done
for i in 1 2 3; do
  url=""
  for _ in $(seq 1 600); do
    url=$(sed -n 's|^carechain node listening on \(http://[0-9.:]*\).*|\1|p' "$net/node-$i.log" | head -1)
    [ -n "$url" ] && break
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || die "node-$i exited; see $net/node-$i.log"
    sleep 0.1
  done
  [ -n "$url" ] || die "node-$i did not start within 60 s; see $net/node-$i.log"
  urls+=("$url")
done
nodes=$(IFS=,; echo "${urls[*]}")
node_pids=$(IFS=,; echo "${pids[*]}")
log "nodes $nodes (pids $node_pids)"

# The driver reports the cores each process used from its first send to its last commit.
cpu_pids=""
for name in node-1 node-2 node-3 etcd-1 etcd-2 etcd-3; do
  pid=$(cat "$etcd_dir/$name.pid")
  cpu_pids+="${cpu_pids:+,}$pid"
  echo "$pid $name" >>"$work/pids"
done
log "load: $TXS transactions, $CONNS connections, batches of $BATCH"
"$LOAD" run --node "$nodes" --txs "$TXS" --conns "$CONNS" --batch "$BATCH" --actors "$ACTORS" \
  --cpu-pids "$cpu_pids" \
  >"$work/run.json" 2>"$work/run.err" || log "run: not every transaction committed on every node (see $work/run.err)"

rate=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(int(float(sys.argv[2]) * min(n['committed_tx_per_s'] for n in r['nodes'])))" "$work/run.json" "$RATE_SHARE")
log "latency: $rate tx/s offered for $PACED_SECONDS s, batches of $PACED_BATCH"
"$LOAD" run --node "$nodes" --txs $((rate * PACED_SECONDS)) --rate "$rate" --conns "$CONNS" \
  --batch "$PACED_BATCH" --actors "$ACTORS" --verify-seconds 0 --cpu-pids "$cpu_pids" \
  >"$work/paced.json" 2>"$work/paced.err" || log "paced run: not every transaction committed on every node (see $work/paced.err)"

# 3. fail-over under the same paced load
log "fail-over: $rate tx/s for $FAILOVER_SECONDS s, the proposer killed after $KILL_AFTER s"
"$LOAD" run --node "$nodes" --txs $((rate * FAILOVER_SECONDS)) --rate "$rate" --conns "$CONNS" \
  --batch "$PACED_BATCH" --actors "$ACTORS" \
  --verify-seconds 0 --kill-proposer-after "$KILL_AFTER" --pids "$node_pids" \
  >"$work/failover.json" 2>"$work/failover.err" || log "fail-over run reported a problem (see $work/failover.err)"

# 4. raw etcd writes, the nodes stopped
stop_nodes
log "etcd-put: values of the blocks' mean size, 1 and 8 writers, $PUT_SECONDS s each"
"$LOAD" etcd-put --etcd "$eps" --blocks-prefix /carechain/carechain-load/blocks/ --threads 1,8 \
  --seconds "$PUT_SECONDS" >"$work/etcd-put.json" 2>"$work/etcd-put.err" || log "etcd-put had errors (see $work/etcd-put.err)"

python3 - "$work" "$PERF_LOAD" <<'EOF' | tee "$work/summary.json"
import json, os, re, sys
w = sys.argv[1]
load = lambda f: json.load(open(os.path.join(w, f)))
run, paced, fo, put = load("run.json"), load("paced.json"), load("failover.json"), load("etcd-put.json")
ms = lambda d: {k: round(v, 1) for k, v in d.items()}
names = dict(l.split() for l in open(os.path.join(w, "pids")))
def cores(r):
    c = {names.get(k, k): round(v, 2) for k, v in r.get("cpu_cores", {}).items()}
    if "machine" in c:  # busy cores of processes this benchmark did not start
        c["others"] = round(c["machine"] - sum(v for k, v in c.items() if k != "machine"), 2)
    return c
perf = open(os.path.join(w, "check-perf.txt")).read()
tps = [n["committed_tx_per_s"] for n in run["nodes"]]
worst = min(tps)
ceil = {f"writers_{r['threads']}": {"puts_per_s": round(r["puts_per_s"], 1), "mb_per_s": round(r["mb_per_s"], 1),
                                    "ceiling_tx_per_s": round(r.get("ceiling_tx_per_s", 0)),
                                    "put_latency_ms": {k: round(v, 2) for k, v in r["latency_ms"].items()}}
        for r in put["runs"]}
out = {
    "folder": w,
    "loadavg_at_start": open(os.path.join(w, "loadavg-start")).read().strip(),
    "committed_tx_per_s": {n["url"]: round(n["committed_tx_per_s"]) for n in run["nodes"]},
    "committed_tx_per_s_slowest_node": round(worst),
    "unpaced": {"latency_ms_own_node": ms(run["latency_ms"]), "latency_ms_all_nodes": ms(run["latency_all_nodes_ms"]),
                "blocks": {n["url"]: {"count": n["blocks"], "mean_txs": round(n["mean_block_txs"], 1),
                                      "max_gap_ms": round(n["max_block_gap_ms"])} for n in run["nodes"]},
                **{k: run[k] for k in ("submitted", "accepted", "refused", "committed", "seconds")}},
    "paced": {"offered_rate": paced["offered_rate"], "seconds": paced["seconds"],
              "committed_tx_per_s": {n["url"]: round(n["committed_tx_per_s"]) for n in paced["nodes"]},
              "latency_ms_own_node": ms(paced["latency_ms"]), "latency_ms_all_nodes": ms(paced["latency_all_nodes_ms"]),
              "latency_ms_sent_to_proposer": ms(paced["latency_direct_ms"]),
              "latency_ms_forwarded": ms(paced["latency_forwarded_ms"]),
              "blocks": {n["url"]: {"count": n["blocks"], "mean_txs": round(n["mean_block_txs"], 1),
                                    "max_gap_ms": round(n["max_block_gap_ms"])} for n in paced["nodes"]},
              "cpu_cores": cores(paced),
              **{k: paced[k] for k in ("submitted", "committed")}},
    "cpu_cores_unpaced": cores(run),
    "tx_counters_unpaced": {n["url"]: {k.replace("carechain_tx_", ""): int(v) for k, v in n.get("metrics", {}).items()}
                            for n in run["nodes"]},
    "verify_per_s_2_threads": round(run.get("verify_per_s", {}).get("threads_2", 0)),
    "failover": dict(fo.get("failover", {}), offered_rate=fo["offered_rate"],
                     latency_ms_own_node=ms(fo["latency_ms"]),
                     uncommitted_sent_to_survivors=fo.get("uncommitted_sent_to_survivors"),
                     uncommitted_sent_to_killed=fo.get("uncommitted_sent_to_killed"),
                     unsent=fo.get("unsent")),
    "etcd_check_perf": {"load": sys.argv[2],
                        "lines": [l.strip() for l in perf.splitlines() if re.match(r"\s*(PASS|FAIL)", l)]},
    "etcd_blocks": put.get("blocks"),
    "etcd_put": ceil,
    # The slowest node's committed tx/s over etcd's, per writer count.
    "ratio_to_etcd_ceiling": {f"writers_{r['threads']}": round(worst / r["ceiling_tx_per_s"], 3)
                              for r in put["runs"] if r.get("ceiling_tx_per_s")},
    "targets": {"tx_per_s_10000": round(worst / 10000, 3),
                "p99_ms_500_unpaced": run["latency_ms"]["p99"] <= 500,
                "p99_ms_500_paced": paced["latency_ms"]["p99"] <= 500,
                "failover_s_5": fo.get("failover", {}).get("seconds", 1e9) <= 5},
}
print(json.dumps(out, indent=2))
EOF
log "done; logs and each step's JSON in $work"
