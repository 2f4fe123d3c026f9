#!/usr/bin/env bash
# Builds the libFuzzer targets (scripts/build fuzz) and runs each for SECONDS
# (default 60), one after the other. Each target first replays its seed
# corpus fuzz/corpus/<target>/ (regressions included), then fuzzes a scratch
# corpus outside the repo merged from it; crash reproducers land in the
# scratch folder's artifacts/. Exits non-zero if any target crashes, leaks,
# times out or violates a property.
#   fuzz/run.sh [SECONDS] [TARGET...]
#   FUZZ_WORK=/tmp/cc-fuzz fuzz/run.sh 180 tx_decode   (scratch folder)
#   FUZZ_ARGS="-only_ascii=1" fuzz/run.sh                (more libFuzzer flags)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
all=(tx_decode block_decode canonical_json tx_json proof_verify genesis_parse config_parse records_payload checkpoint_json gs1_parse coldchain_anchor research_payload)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
work="${FUZZ_WORK:-${TMPDIR:-/tmp}/carechain-fuzz}"

# Longest input per target: room for a few structures, small enough to stay fast.
max_len() {
  case "$1" in
    block_decode) echo 16384 ;;
    proof_verify|genesis_parse) echo 8192 ;;
    *) echo 4096 ;;
  esac
}
dict() {
  case "$1" in
    tx_decode|block_decode) ;;
    config_parse) echo "-dict=fuzz/dict/toml.dict" ;;
    *) echo "-dict=fuzz/dict/json.dict" ;;
  esac
}

scripts/build fuzz
# The build lets UBSan recover; a finding must stop the run to be reported.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for t in "${targets[@]}"; do
  bin="build-fuzz/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "no fuzz target $t (${all[*]})" >&2; exit 2; }
  corpus="$work/$t/corpus"
  artifacts="$work/$t/artifacts"
  mkdir -p "$corpus" "$artifacts"
  opts=(-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 $(dict "$t") ${FUZZ_ARGS:-})
  # Replay the seeds first: they hold the regression inputs, and a merge
  # would quietly leave out an input that crashes.
  "$bin" "${opts[@]}" -runs=0 "fuzz/corpus/$t" >"$work/$t/seeds.log" 2>&1 ||
    { echo "== $t: a seed input fails (log $work/$t/seeds.log)"; failed+=("$t"); continue; }
  "$bin" -merge=1 "${opts[@]}" "$corpus" "fuzz/corpus/$t" >"$work/$t/merge.log" 2>&1 ||
    { echo "== $t: merging the seeds failed (log $work/$t/merge.log)"; failed+=("$t"); continue; }
  echo "== $t: ${secs}s, corpus $corpus"
  if "$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" >"$work/$t/fuzz.log" 2>&1; then
    grep -E '^#[0-9]+.*(DONE|cov:)' "$work/$t/fuzz.log" | tail -1 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$work/$t/fuzz.log" || true
  else
    echo "== $t FAILED (log $work/$t/fuzz.log, reproducer in $artifacts/):"
    grep -E 'ERROR|SUMMARY|fuzz property|Test unit written' "$work/$t/fuzz.log" | head -5 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
echo "all targets ran clean: ${targets[*]}"
