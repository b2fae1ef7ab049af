#!/usr/bin/env bash
# Benchmark: the wall time of `ftready scan` against `clang -fsyntax-only`
# over the same translation units, same flags, same -j, measured side by
# side in one run. Two sets of units:
#   - CPython 3.13's Modules/, every .c file, with one set of flags;
#   - the compile database of CPython's own build: the Modules/ units the
#     managed 3.13t build compiled, each with its own command, taken from
#     that build's log (the build folder itself is gone: a stand-in holds
#     its pyconfig.h).
# For ftready: cold (no result cache, no kept preamble), preambles kept from
# an earlier run but results cold (an edited unit, or new flags for the
# results), cold without the shared preamble, and warm (nothing changed).
# The last column is the cold pair's CPU time (user + sys): clang's includes
# each unit's process start-up (about 135 ms of CPU per run on the machine
# of 2026-12-02, an empty unit's), which a wall ratio alone hides.
#
#   bench/scan_vs_syntax_only.sh [-j N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
J=$(nproc)
if [ "${1:-}" = "-j" ]; then J="$2"; shift 2; fi
ROUNDS="${1:-1}"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
SRC=$(readlink -f "$CACHE/python/3.13t/source")
PY="$CACHE/python/3.13t/prefix/bin/python3"
INC=$("$PY" -c 'import sysconfig; print(sysconfig.get_path("include"))')
LOG="$CACHE/python/3.13t/build.log"
[ -d "$SRC/Modules" ] || { echo "no CPython source: run scripts/toolchain.sh" >&2; exit 2; }
WORK=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
now() { date +%s.%N; }

# --- the units and how each is compiled -----------------------------------
FLAGS=(-I"$SRC/Include" -I"$SRC/Include/internal" -DPy_BUILD_CORE_MODULE
       -I"$SRC/Modules/_decimal/libmpdec" -I"$SRC/Modules/_hacl/include")
mapfile -t FILES < <(find "$SRC/Modules" -name '*.c' -o -name '*.cc' -o -name '*.cpp' | sort)

# compile_commands.json from the build log's compiler lines, run in a
# stand-in for the build folder; one NUL-separated clang command per unit.
mkdir -p "$WORK/build" "$WORK/db"
cp "$INC/pyconfig.h" "$WORK/build/"
"$PY" - "$LOG" "$SRC" "$WORK/build" "$WORK/db" <<'PYEOF'
import json, os, shlex, sys
log, src, build, db = sys.argv[1:]
units, seen = [], set()
for line in open(log, errors="replace"):
    if not line.startswith(("gcc ", "cc ", "clang ")):
        continue
    args = shlex.split(line)
    if "-c" not in args:
        continue
    files = [a for a in args if a.startswith(src + "/Modules/") and a.endswith(".c")]
    if len(files) != 1 or files[0] in seen:
        continue
    seen.add(files[0])
    units.append({"directory": build, "file": files[0], "arguments": args})
json.dump(units, open(os.path.join(db, "compile_commands.json"), "w"), indent=1)
with open(os.path.join(db, "files"), "w") as f:
    f.write("\n".join(u["file"] for u in units) + "\n")
with open(os.path.join(db, "clang"), "w") as f:
    for u in units:
        a, out, skip = u["arguments"], ["clang-16"], False
        for x in a[1:]:
            if skip:
                skip = False
            elif x == "-o":
                skip = True
            elif x != "-c":
                out.append(x)
        out += ["-fsyntax-only", "-w", "-ferror-limit=0", "-fno-caret-diagnostics"]
        f.write("cd %s && %s\0" % (shlex.quote(build), shlex.join(out)))
PYEOF
mapfile -t DBFILES < "$WORK/db/files"

# --- the two sides --------------------------------------------------------
syntax_only_modules() {
  printf '%s\0' "${FILES[@]}" | xargs -0 -n 1 -P "$J" \
    clang-16 -fsyntax-only -w -ferror-limit=0 -fno-caret-diagnostics \
    -isystem "$INC" "${FLAGS[@]}" 2>/dev/null || true
}
syntax_only_db() {
  xargs -0 -n 1 -P "$J" bash -c 2>/dev/null < "$WORK/db/clang" || true
}
# ftready scan with its cache in $WORK/cache; extra arguments first.
# Exit 2 is expected: some units do not parse as given (Windows-only ones).
scan_modules() {
  local extra=()
  for f in "${FLAGS[@]}"; do extra+=(--extra-arg="$f"); done
  FTREADY_CACHE="$WORK/cache" ./build/ftready -q scan -j "$J" --python "$PY" \
    --format json -o "$WORK/out.json" "${extra[@]}" "$@" "$SRC/Modules" || true
  [ -s "$WORK/out.json" ] || { echo "ftready scan wrote no report" >&2; exit 1; }
}
scan_db() {
  FTREADY_CACHE="$WORK/cache" ./build/ftready -q scan -j "$J" -p "$WORK/db" \
    --format json -o "$WORK/out.json" "$@" "${DBFILES[@]}" || true
  [ -s "$WORK/out.json" ] || { echo "ftready scan wrote no report" >&2; exit 1; }
}
# Wall seconds of a command; its CPU seconds (user + sys of everything it
# ran) are left in $WORK/cpu. `times` is the shell builtin, redirected
# rather than piped or captured, which would run it in a subshell whose
# counters start at zero; its second line is the waited-for descendants'.
timed() {
  local t0; t0=$(now)
  times >"$WORK/times.0"
  "$@" >/dev/null 2>&1
  times >"$WORK/times.1"
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
  awk 'function sec(f) { split(f, a, /[ms]/); return a[1] * 60 + a[2] }
       FNR == 2 { t[FILENAME] = sec($1) + sec($2) }
       END { printf "%.2f", t[ARGV[2]] - t[ARGV[1]] }' \
    "$WORK/times.0" "$WORK/times.1" >"$WORK/cpu"
}
forget_results() { rm -f "$WORK"/cache/scan-cache/*.json; }
forget_all() { rm -rf "$WORK/cache"; }

# one round over one set: prints a table row
round() {
  local name="$1" base="$2" scanner="$3" s cold kept plain warm scpu ccpu
  s=$(timed "$base"); scpu=$(cat "$WORK/cpu")
  forget_all; cold=$(timed "$scanner"); ccpu=$(cat "$WORK/cpu")
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print("  %s: %d findings, %d parse-error diagnostics" % (sys.argv[2], len(j["findings"]), sum(1 for d in j.get("diagnostics", []) if "parse error" in d.get("message", ""))), file=sys.stderr)' "$WORK/out.json" "$name"
  forget_results; kept=$(timed "$scanner")
  warm=$(timed "$scanner")
  forget_all; plain=$(timed "$scanner" --no-shared-preamble)
  awk -v n="$name" -v s="$s" -v c="$cold" -v k="$kept" -v p="$plain" -v w="$warm" \
      -v sc="$scpu" -v cc="$ccpu" 'BEGIN {
    printf "| %s | %.1f s | %.1f s (%.2f) | %.1f s (%.2f) | %.1f s (%.2f) | %.1f s (%.2f) | %.1f / %.1f s (%.2f) |\n",
      n, s, c, c / s, k, k / s, p, p / s, w, w / s, cc, sc, cc / sc }'
}

echo "-j $J, $ROUNDS round(s); CPython $(basename "$SRC")"
echo "Modules/: ${#FILES[@]} units, one set of flags; CPython's build: ${#DBFILES[@]} units, each with its own command"
echo
echo "| units | clang -fsyntax-only | ftready cold (ratio) | preambles kept, results cold | cold, no shared preamble | warm | CPU, cold: ftready / clang (ratio) |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  round "Modules/ (round $r)" syntax_only_modules scan_modules
  round "CPython's build (round $r)" syntax_only_db scan_db
done
