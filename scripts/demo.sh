#!/usr/bin/env bash
# The README's main command: set up whatever is missing, then run the whole
# readiness check (scan + TSan stress + merged report) on a bundled corpus
# module and show its report.
#   scripts/demo.sh [PROJECT]   (default: corpus/cache_racy)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
target="${1:-corpus/cache_racy}"
echo "== ftready check $target --budget 60s -o ftready-report" >&2
set +e
./build/ftready check "$target" --budget 60s -o ftready-report
rc=$?
set -e
echo "== exit code $rc (0 READY, 1 NOT READY or findings, 2 bad input, 3 internal error, 4 INCOMPLETE)" >&2
echo "== reports: ftready-report/report.{md,html,json,sarif}, junit.xml, findings.jsonl" >&2
exit 0
