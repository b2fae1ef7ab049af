#!/usr/bin/env bash
# Runs `ftready stress` on every hostile module of corpus/hostile/ and prints,
# per module: the wall time against the budget, the findings, and the
# processes of the run still alive afterwards (must be 0).
#
#   bash bench/hostile_modules.sh [--budget SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
budget=20
[ "${1:-}" = "--budget" ] && budget="$2"
ftready=build/ftready
[ -x "$ftready" ] || { echo "build ftready first (scripts/bootstrap.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-22s %8s %8s %5s  %s\n' module budget wall left findings
for src in corpus/hostile/*/ftcorpus_*.c; do
  module=$(basename "$src" .c)
  extra=()
  [ "$module" = ftcorpus_grower ] && extra=(--max-rss 1G)
  t0=$(date +%s%N)
  "$ftready" -q stress --sources "$src" --module "$module" --budget "${budget}s" \
    --threads 4 --hang-seconds 5 --format json --jsonl /dev/null \
    "${extra[@]}" >"$out/$module.json" 2>"$out/$module.err" || true
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wall="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  # "[f]tcorpus_x": the pattern does not match grep's own command line.
  left=$(grep -l "\"module\":\"[${module:0:1}]${module:1}\"" /proc/[0-9]*/cmdline 2>/dev/null | wc -l || true)
  findings=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(", ".join("%s %s" % (f["rule"], f["function"]) for f in r["findings"]) or "none")
' "$out/$module.json" 2>/dev/null || echo "no report: $(tail -1 "$out/$module.err")")
  printf '%-22s %7ss %7ss %5s  %s\n' "$module" "$budget" "$wall" "$left" "$findings"
done
