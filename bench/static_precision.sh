#!/usr/bin/env bash
# The static findings on real extension projects, each scanned exactly as
# its own build compiles it (scan --from-build), and what changed between
# two versions of the analyzer: the material for hand-checking precision.
#
#   bench/static_precision.sh [--ftready BIN] [--out DIR] [--only NAME]...
#       one scan per project of bench/real_projects.list; prints findings
#       per rule and writes DIR/PACKAGE.json
#   bench/static_precision.sh --compare DIR_BEFORE DIR_AFTER
#       prints every finding only one of the two runs gave (rule, place,
#       function, message), and the totals
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
PY="$CACHE/python/3.13t/prefix/bin/python3"
FTREADY="$ROOT/build/ftready"; OUT=$(mktemp -d /tmp/ftready-precision-XXXXXX); ONLY=()

compare() {
  "$PY" - "$1" "$2" <<'PYEOF'
import glob, json, os, sys
def load(d):
    out = {}
    for path in sorted(glob.glob(os.path.join(d, "*.json"))):
        pkg = os.path.basename(path)[:-5]
        try:
            j = json.load(open(path))
        except ValueError:
            continue
        for f in j["findings"]:
            if f["status"] in ("vendored", "suppressed"):
                continue
            out[(pkg, f["rule"], f["file"], f["line"], f["function"])] = f["message"]
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
for title, x, y in (("only before", a, b), ("only after", b, a)):
    gone = sorted(k for k in x if k not in y)
    print("## %s: %d" % (title, len(gone)))
    for k in gone:
        print("- %s %s %s:%d in %s: %s" % (k[0], k[1], k[2], k[3], k[4], x[k][:220]))
print("\ntotal before %d, after %d, in both %d" % (len(a), len(b), len(set(a) & set(b))))
PYEOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --ftready) FTREADY="$2"; shift 2 ;;
    --out) OUT="$2"; mkdir -p "$OUT"; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    --compare) [ $# -eq 3 ] || { echo "usage: $0 --compare DIR_BEFORE DIR_AFTER" >&2; exit 2; }
               compare "$2" "$3"; exit ;;
    *) echo "usage: $0 [--ftready BIN] [--out DIR] [--only NAME]... | --compare A B" >&2; exit 2 ;;
  esac
done
[ -x "$FTREADY" ] || { echo "no $FTREADY: build first" >&2; exit 2; }
. "$ROOT/bench/real_projects_lib.sh"

echo "ftready scan --from-build ($FTREADY), results in $OUT"
echo
echo "| project | units scanned | findings by rule | diagnostics | wall |"
echo "|---|---|---|---|---|"
for p in "${PROJECTS[@]}"; do
  wanted "$(cut -d'|' -f2 <<<"$p")" ${ONLY[@]+"${ONLY[@]}"} || continue
  project_setup "$p"
  if ! dir=$(bash "$ROOT/scripts/fetch-sources.sh" "$SUITE" "$PKG" 2>/dev/null); then
    echo "| $PKG | not downloadable from Debian $SUITE here | | | |"
    continue
  fi
  t0=$(date +%s)
  rm -f "$OUT/$PKG.json" # never a previous run's report
  env ${ENVS[@]+"${ENVS[@]}"} timeout --kill-after=30 1800 "$FTREADY" -q scan --no-cache \
    --from-build "$dir" ${BUILD[@]+"${BUILD[@]}"} --root "$dir" --format json \
    -o "$OUT/$PKG.json" >"$OUT/$PKG.out" 2>&1
  wall=$(( $(date +%s) - t0 ))
  "$PY" - "$OUT/$PKG.json" "$PKG" "$wall" <<'PYEOF'
import collections, json, sys
path, pkg, wall = sys.argv[1:4]
try:
    j = json.load(open(path))
except Exception:
    print("| %s | no report | | | %ss |" % (pkg, wall)); sys.exit()
c = collections.Counter(f["rule"] for f in j["findings"]
                        if f["status"] not in ("vendored", "suppressed"))
print("| %s | %d | %s | %d | %ss |" % (pkg, j["summary"]["files_scanned"],
      " ".join("%s=%d" % kv for kv in sorted(c.items())) or "none",
      len(j["diagnostics"]), wall))
PYEOF
done
