#!/usr/bin/env bash
# ftready check over real extension projects, each the unpatched upstream
# tree of a Debian source package downloaded now (never committed). Prints
# one table row per project: built, units compiled/scanned/parsed, modules
# stressed, calls, verdict, wall time; then the completion rate (runs whose
# evidence was whole: built, fully parsed, every module imported and called).
#
#   bench/real_projects_sweep.sh [--budget 60s] [--only NAME]... [--out DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FTREADY="$ROOT/build/ftready"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
PY="$CACHE/python/3.13t/prefix/bin/python3"
BUDGET=60s; OUT=$(mktemp -d /tmp/ftready-sweep-XXXXXX); ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET="$2"; shift 2 ;;
    --only) ONLY+=("$2"); shift 2 ;;
    --out) OUT="$2"; mkdir -p "$OUT"; shift 2 ;;
    *) echo "usage: $0 [--budget 60s] [--only NAME]... [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$FTREADY" ] || { echo "build ftready first (scripts/bootstrap.sh)" >&2; exit 2; }

# The projects and the Debian settings each needs: bench/real_projects.list.
. "$ROOT/bench/real_projects_lib.sh"

row() { # report.json wall rc -> table cells
  "$PY" - "$@" <<'PYEOF'
import json, sys
path, wall, rc = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    j = json.load(open(path))
except Exception as e:
    print("| no report (exit %s) | | | | | %ss | no |" % (rc, wall)); sys.exit()
r = j.get("readiness", {}); e = r.get("evidence", {})
mods = e.get("modules", [])
stressed = sum(1 for m in mods if m.get("imported") and m.get("calls", 0) > 0)
complete = r.get("verdict") != "INCOMPLETE" and not e.get("gaps")
print("| %s | %d / %d / %d | %d of %d | %d | %s | %ss | %s |" % (
    "yes" if e.get("built") else "no", e.get("units_compiled", 0),
    e.get("units_scanned", 0), e.get("units_parsed", 0), stressed, len(mods),
    sum(m.get("calls", 0) for m in mods), r.get("verdict", "?"), wall,
    "yes" if complete else "no"))
gaps = e.get("gaps", [])
for g in gaps[:3]:
    sys.stderr.write("    gap: %s\n" % g["what"][:160])
PYEOF
}

echo "ftready check, budget $BUDGET per project, reports in $OUT"
echo
echo "| project | version | built | units compiled / scanned / parsed | modules stressed | calls | verdict | wall | complete |"
echo "|---|---|---|---|---|---|---|---|---|"
tried=0; complete=0
for p in "${PROJECTS[@]}"; do
  wanted "$(cut -d'|' -f2 <<<"$p")" ${ONLY[@]+"${ONLY[@]}"} || continue
  project_setup "$p"
  suite=$SUITE pkg=$PKG
  if ! dir=$(bash "$ROOT/scripts/fetch-sources.sh" "$suite" "$pkg" 2>/dev/null); then
    echo "| $pkg | | not downloadable from Debian $suite here | | | | | | |"
    continue
  fi
  version=$(basename "$dir"); version=${version#"$pkg"-}
  tried=$((tried + 1))
  t0=$(date +%s)
  env ${ENVS[@]+"${ENVS[@]}"} timeout --kill-after=30 1800 "$FTREADY" -q check "$dir" --budget "$BUDGET" \
    ${BUILD[@]+"${BUILD[@]}"} -o "$OUT/$pkg" >"$OUT/$pkg.out" 2>"$OUT/$pkg.err"
  rc=$?
  wall=$(( $(date +%s) - t0 ))
  cells=$(row "$OUT/$pkg/report.json" "$wall" "$rc" 2>"$OUT/$pkg.gaps")
  echo "| $pkg | $version${SETTINGS:+ ($SETTINGS)} $cells"
  sed 's/^/  /' "$OUT/$pkg.gaps" >&2
  case "$cells" in *"| yes |") complete=$((complete + 1)) ;; esac
done
echo
echo "completed end to end: $complete of $tried projects tried"
