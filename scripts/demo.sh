#!/usr/bin/env bash
# The README's main command: set up whatever is missing, then scan the bundled
# corpus module and show its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
target="${1:-corpus/cache_racy}"
echo "== ftready scan $target" >&2
set +e
./build/ftready scan "$target"
rc=$?
set -e
echo "== exit code $rc (0 clean, 1 findings, 2 bad input, 3 internal error)" >&2
exit 0
