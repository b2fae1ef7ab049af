#!/usr/bin/env bash
# Validates ftready's SARIF against the SARIF 2.1.0 schema and rules with
# Microsoft's SARIF Multitool (npm package @microsoft/sarif-multitool-linux,
# installed at test time into the cache). Any result of level "error" fails.
#   tests/sarif_validate.sh FTREADY_BINARY SOURCE_DIR
set -uo pipefail
FTREADY="$1"; ROOT="$2"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
PY="$CACHE/python/3.13t/prefix/bin/python3"
TOOLDIR="$CACHE/npm/sarif-multitool"
TOOL="$TOOLDIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
command -v npm >/dev/null || { echo "skip: npm is not installed"; exit 77; }
if [ ! -x "$TOOL" ]; then
  mkdir -p "$TOOLDIR"
  (cd "$TOOLDIR" && npm install --no-audit --no-fund --silent @microsoft/sarif-multitool-linux@5.7.0) >/dev/null 2>&1 ||
    { echo "skip: npm could not install @microsoft/sarif-multitool-linux"; exit 77; }
  chmod +x "$TOOL"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# 1. a scan of the racy corpus module (suppressions, fingerprints, rules)
"$FTREADY" scan --format sarif -o "$tmp/scan.sarif" "$ROOT/corpus/cache_racy" >/dev/null
# 2. a check report with run-time findings and their threadFlows (the golden
#    fixture, its @ROOT@ made real)
sed "s|@ROOT@|$ROOT/corpus/cache_racy|g" "$ROOT/tests/golden/report.json" >"$tmp/report.json"
"$FTREADY" report --format sarif -o "$tmp/check.sarif" "$tmp/report.json"
fail=0
for f in scan check; do
  "$TOOL" validate "$tmp/$f.sarif" -o "$tmp/$f.validation.sarif" >"$tmp/$f.log" 2>&1
  errors=$("$PY" -c '
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
bad = [r for r in results if r.get("level") == "error"]
for r in bad:
    print(r["ruleId"], json.dumps(r["message"])[:300], file=sys.stderr)
print(len(bad))' "$tmp/$f.validation.sarif")
  echo "$f.sarif: $errors schema or rule errors"
  [ "$errors" = "0" ] || fail=1
done
exit $fail
