#!/usr/bin/env bash
# The supply-chain benchmark (docs/benchmarks.md, "Supply: pack verification
# and commissioning"; the targets of DESIGN.md §8: pack verification over
# HTTP >= 20,000/s with p99 <= 5 ms). One node (solo ordering) on 127.0.0.1
# and the load driver on the same machine, in a fresh folder under /tmp:
#
#   1. builds carechain and carechain_load in BUILD (SKIP_BUILD=1: use them as they are);
#   2. `carechain_load supply-init` and starts the node;
#   3. commissions PACKS packs, 1000 per transaction (`supply-commission`),
#      then dispenses a thousand of them and recalls one batch;
#   4. verification over keep-alive HTTP (`supply-verify`), VERIFY_SECONDS
#      each, for every connection count in VERIFY_CONNS: the signed
#      pharmacist query GET /v1/modules/supply/check (the FMD path; requests
#      pre-signed before the clock starts) and the public unsigned
#      GET /v1/packs/check; then, at the first connection count, the signed
#      query signed inline by the driver and the pack record query
#      GET /v1/modules/supply/packs/<gtin>/<serial> (EXTRA_RUNS=0 skips them).
#      The first run also measures the machine's Ed25519 verify rate;
#   5. stops the node and prints one JSON summary on stdout (also DIR/summary.json).
#
# Every reply's verdict is checked against the pack's known state; a
# mismatch or an error fails the run (exit status 1, after the summary).
# Progress goes to stderr. Everything it started is stopped on exit; the
# folder (logs, each step's JSON) is kept and named on stderr, without the
# node's data unless KEEP_DATA=1.
#
#   bench/supply.sh
#   PACKS=1000000 VERIFY_SECONDS=20 VERIFY_CONNS="4 16" bench/supply.sh    # the defaults
#   BUILD=build-helperB SKIP_BUILD=1 bench/supply.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$root/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
JOBS=${JOBS:-2}
SKIP_BUILD=${SKIP_BUILD:-0}
CARECHAIN=${CARECHAIN:-$BUILD/src/carechain}
LOAD=${LOAD:-$BUILD/bench/carechain_load}
PACKS=${PACKS:-1000000}
COMMISSION_CONNS=${COMMISSION_CONNS:-4}   # one manufacturer key each
COMMISSION_BATCH=${COMMISSION_BATCH:-4}   # commission transactions per POST
MAX_BLOCK_TXS=${MAX_BLOCK_TXS:-16}        # ~1.4 MB blocks of commission transactions
VERIFY_SECONDS=${VERIFY_SECONDS:-20}
VERIFY_CONNS=${VERIFY_CONNS:-"4 16"}
EXTRA_RUNS=${EXTRA_RUNS:-1}
KEEP_DATA=${KEEP_DATA:-0}

log() { echo "supply.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [ "$SKIP_BUILD" != 1 ]; then
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring $BUILD (Release)"
    cmake -S "$root" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCARECHAIN_BENCH=ON >/dev/null
  fi
  log "building carechain and carechain_load in $BUILD (-j $JOBS)"
  cmake --build "$BUILD" -j "$JOBS" --target carechain carechain_load >&2
fi
for b in "$CARECHAIN" "$LOAD"; do [ -x "$b" ] || die "$b not found (build it, or set BUILD)"; done

work=$(mktemp -d /tmp/carechain-supply-bench.XXXXXX)
dir=$work/node
node_pid=""
log "folder $work"

stop_node() {
  [ -n "$node_pid" ] || return 0
  if kill -0 "$node_pid" 2>/dev/null; then
    kill "$node_pid"
    for _ in $(seq 1 300); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$node_pid" 2>/dev/null || true
  fi
  wait "$node_pid" 2>/dev/null || true
  node_pid=""
}
cleanup() {
  stop_node
  [ "$KEEP_DATA" = 1 ] || rm -rf "$dir/node-data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >"$work/machine"
log "machine: $(cat "$work/machine")"

"$LOAD" supply-init --dir "$dir" --max-block-txs "$MAX_BLOCK_TXS" >"$work/init.json"
(cd "$dir" && exec "$CARECHAIN" node --config node.toml) </dev/null >"$dir/node.out" 2>"$dir/node.log" &
node_pid=$!
url=""
for _ in $(seq 1 600); do
  # node.out may not exist yet: the background shell opens it.
  url=$(sed -n 's|^carechain node listening on \(http://[0-9.:]*\).*|\1|p' "$dir/node.out" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  kill -0 "$node_pid" 2>/dev/null || die "the node exited; see $dir/node.log"
  sleep 0.1
done
[ -n "$url" ] || die "the node did not start within 60 s; see $dir/node.log"
log "node $url (pid $node_pid)"

failed=0
log "commissioning $PACKS packs: $COMMISSION_CONNS connections, $COMMISSION_BATCH transactions per POST"
"$LOAD" supply-commission --dir "$dir" --node "$url" --packs "$PACKS" --conns "$COMMISSION_CONNS" \
  --batch "$COMMISSION_BATCH" --cpu-pids "$node_pid" >"$work/commission.json" 2>"$work/commission.err" \
  || die "commissioning failed: $(tail -3 "$work/commission.err")"
du -sb "$dir/node-data" | cut -f1 >"$work/store-bytes"
grep VmRSS "/proc/$node_pid/status" | awk '{print $2 * 1024}' >"$work/node-rss-bytes"

# verify <name> <args...>: one supply-verify run into $work/<name>.json.
# The first run measures the Ed25519 verify rate; the later ones pre-sign
# for 1.25 times that rate (the node verifies one signature per request, so
# it cannot answer signed queries faster; the margin covers a rate measured
# while other jobs held the cores).
verify_args=(--verify-seconds 2)
verify() {
  local name=$1; shift
  log "verify: $name ($VERIFY_SECONDS s)"
  if ! "$LOAD" supply-verify --dir "$dir" --node "$url" --seconds "$VERIFY_SECONDS" \
      "${verify_args[@]}" --cpu-pids "$node_pid" "$@" >"$work/$name.json" 2>"$work/$name.err"; then
    log "verify $name FAILED: $(tail -3 "$work/$name.err")"
    failed=1
  fi
  echo "$name" >>"$work/runs"
  if [ "${verify_args[1]}" != 0 ]; then
    local rate
    rate=$(python3 -c "import json,sys; print(int(1.25 * json.load(open(sys.argv[1]))['verify_per_s']['threads_2']))" \
      "$work/$name.json" 2>/dev/null) || die "the first run gave no verify rate; see $work/$name.err"
    verify_args=(--verify-seconds 0 --presign-rate "$rate")
  fi
}
: >"$work/runs"
for c in $VERIFY_CONNS; do
  verify "signed-$c" --path signed --sign ahead --conns "$c"
  verify "public-$c" --path public --conns "$c"
done
if [ "$EXTRA_RUNS" = 1 ]; then
  first=${VERIFY_CONNS%% *}
  verify "signed-inline-$first" --path signed --sign inline --conns "$first"
  verify "packs-$first" --path packs --sign ahead --conns "$first"
fi
stop_node

python3 - "$work" <<'EOF' | tee "$work/summary.json"
import json, os, sys
w = sys.argv[1]
load = lambda f: json.load(open(os.path.join(w, f)))
ms = lambda d: {k: round(v, 2) for k, v in d.items()}
com = load("commission.json")
def cores(c):
    out = {("node" if k not in ("driver", "machine") else k): round(v, 2) for k, v in c.items()}
    if "machine" in out:  # busy cores of processes this benchmark did not start
        out["others"] = round(max(0.0, out["machine"] - out.get("node", 0) - out.get("driver", 0)), 2)
    return out
runs, verify_rate = [], None
for name in open(os.path.join(w, "runs")).read().split():
    try:
        r = load(name + ".json")
    except (OSError, ValueError):
        runs.append({"run": name, "failed": "no output"}); continue
    verify_rate = verify_rate or r.get("verify_per_s")
    runs.append({
        "run": name, "target": r["target"], "signed": r["signed"], "sign": r.get("sign"), "conns": r["conns"],
        "verifications_per_s": round(r["verifications_per_s"]), "latency_ms": ms(r["latency_ms"]),
        "answered": r["answered"], "mismatches": r["mismatches"], "errors": r["errors"],
        "presigned_exhausted": r.get("presigned_exhausted"), "connect_ms_max": round(r.get("connect_ms_max", 0), 1),
        "node_cpu_us_per_verification": round(r.get("node_cpu_us_per_verification", 0), 1),
        "cpu_cores": cores(r["cpu_cores"]),
        # DESIGN.md §8: >= 20,000/s and p99 <= 5 ms (EU FMD: 300 ms).
        "ratio_rate_to_20000": round(r["verifications_per_s"] / 20000, 3),
        "ratio_p99_to_5ms": round(r["latency_ms"]["p99"] / 5, 3),
        "ratio_p99_to_300ms": round(r["latency_ms"]["p99"] / 300, 4),
    })
out = {
    "folder": w,
    "machine": open(os.path.join(w, "machine")).read().strip(),
    "verify_per_s": {k: round(v) for k, v in (verify_rate or {}).items()},
    "commission": {
        "packs": com["packs"], "txs": com["txs"], "packs_per_tx": com["packs_per_tx"],
        "bytes_per_tx": round(com["bytes_per_tx"]), "seconds": round(com["seconds"], 2),
        "packs_per_s": round(com["packs_per_s"]), "tx_per_s": round(com["tx_per_s"], 1),
        "mb_per_s": round(com["mb_per_s"], 2), "latency_ms": ms(com["latency_ms"]),
        "blocks": com["blocks"], "mean_txs_per_block": round(com["mean_txs_per_block"], 1),
        "cpu_cores": cores(com.get("cpu_cores", {})),
        "store_bytes": int(open(os.path.join(w, "store-bytes")).read()),
        "node_rss_bytes": int(open(os.path.join(w, "node-rss-bytes")).read() or 0),
        "setup": com["setup"],
    },
    "verify": runs,
}
print(json.dumps(out, indent=2))
EOF
log "done; logs and each step's JSON in $work"
exit $failed
