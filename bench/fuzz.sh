#!/usr/bin/env bash
# Fuzzes every reader of outside text for a fixed time each, with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer (clang-16), and prints the
# executions run and the crashes found per target.
#
#   bash bench/fuzz.sh [--seconds N] [--only TARGET]
#
# Targets (tests/fuzz/): tsan_report, findings, config, suppressions. They
# start from tests/fuzz/inputs/TARGET/; a crashing input is written to
# build-fuzz/crashes/TARGET/: copy it into tests/fuzz/inputs/TARGET/ with the
# fix, and the fuzz_replay_TARGET test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--only TARGET]" >&2; exit 2 ;;
  esac
done
targets=(tsan_report findings config suppressions)
[ -n "$only" ] && targets=("$only")

echo "[fuzz] configure build-fuzz/ (clang-16, -fsanitize=fuzzer,address,undefined)"
CC=clang-16 CXX=clang++-16 cmake -S . -B build-fuzz -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON -DFTREADY_FUZZ=ON \
  >build-fuzz.log 2>&1 || { tail -20 build-fuzz.log >&2; exit 1; }
ninja -C build-fuzz "${targets[@]/#/fuzz_}" >>build-fuzz.log 2>&1 ||
  { grep -E 'error' build-fuzz.log | head -20 >&2; exit 1; }

printf '%-14s %12s %10s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t crashes=build-fuzz/crashes/$t
  mkdir -p "$work" "$crashes"
  cp -n tests/fuzz/inputs/$t/* "$work"/ 2>/dev/null || true
  log=build-fuzz/fuzz-$t.log
  # -fork keeps fuzzing past a crash, so that every crash of the run is kept.
  ./build-fuzz/tests/fuzz_$t "$work" -max_total_time="$seconds" \
    -artifact_prefix="$crashes/" -print_final_stats=1 -fork=1 \
    -ignore_crashes=1 -close_fd_mask=3 >"$log" 2>&1 || true
  # Fork mode's status lines: "#91951: cov: ... oom/timeout/crash: 0/0/0 ...".
  last=$(grep -E '^#[0-9]+: ' "$log" | tail -1 || true)
  runs=$(echo "$last" | grep -Eo '^#[0-9]+' | tr -d '#' || true)
  runs=${runs:-0}
  found=$(find "$crashes" -type f | wc -l)
  printf '%-14s %12s %10s %8s\n' "$t" "$runs" "$(( runs / seconds ))" "$found"
done
echo "[fuzz] logs: build-fuzz/fuzz-TARGET.log; crashing inputs: build-fuzz/crashes/"
