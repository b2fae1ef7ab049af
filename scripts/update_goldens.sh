#!/usr/bin/env bash
# Regenerates tests/golden/ on purpose, never as a side effect of a test:
# a live `ftready check` of corpus/cache_racy becomes report.json (its root
# replaced by @ROOT@), and every format is rendered from it. Review the diff
# before committing: the goldens are reviewed text, and the test
# Check.RacyModuleGivesTheGoldenReport holds later runs to them.
#   scripts/update_goldens.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
FTREADY="$BUILD/ftready"
CORPUS="$ROOT/corpus/cache_racy"
GOLDEN="$ROOT/tests/golden"
PY="${FTREADY_CACHE:-$HOME/.cache/ftready}/python/3.13t/prefix/bin/python3"
[ -x "$FTREADY" ] || { echo "no $FTREADY: build first" >&2; exit 2; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
status=0
"$FTREADY" -q check "$CORPUS" --budget 30s --threads 4 -o "$out/check" >/dev/null || status=$?
[ "$status" = 1 ] || { echo "check exited $status, expected 1 (NOT READY)" >&2; exit 1; }
replace_root() { "$PY" -c 'import sys; sys.stdout.write(sys.stdin.read().replace(sys.argv[1], "@ROOT@"))' "$CORPUS"; }
replace_root <"$out/check/report.json" >"$GOLDEN/report.json"
render() { # format extension
  "$FTREADY" report --format "$1" --root "$CORPUS" "$GOLDEN/report.json" |
    replace_root >"$GOLDEN/report.$2"
}
render text txt
render json out.json
render sarif sarif
render md md
render html html
render junit junit.xml
git -C "$ROOT" diff --stat -- tests/golden
