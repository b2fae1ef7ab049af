#!/usr/bin/env bash
# Benchmark: the wall time of `ftready scan` over CPython 3.13's Modules/
# against `clang -fsyntax-only` over the same translation units, same flags,
# same -j, measured side by side in one run. Prints both and their ratio.
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
[ -d "$SRC/Modules" ] || { echo "no CPython source: run scripts/toolchain.sh" >&2; exit 2; }
FLAGS=(-I"$SRC/Include" -I"$SRC/Include/internal" -DPy_BUILD_CORE_MODULE
       -I"$SRC/Modules/_decimal/libmpdec" -I"$SRC/Modules/_hacl/include")
mapfile -t FILES < <(find "$SRC/Modules" -name '*.c' -o -name '*.cc' -o -name '*.cpp' | sort)
EXTRA=()
for f in "${FLAGS[@]}"; do EXTRA+=(--extra-arg="$f"); done

syntax_only() {
  printf '%s\0' "${FILES[@]}" | xargs -0 -n 1 -P "$J" \
    clang-16 -fsyntax-only -w -ferror-limit=0 -fno-caret-diagnostics \
    -isystem "$INC" "${FLAGS[@]}" 2>/dev/null || true
}
SCAN_CACHE=$(mktemp -d)
trap 'rm -rf "$SCAN_CACHE"' EXIT
scan() { # with the per-TU result cache in a scratch folder
  rm -f "$SCAN_CACHE/out.json"
  # exit 2 is expected: some Modules/ files do not parse with these flags
  FTREADY_CACHE="$SCAN_CACHE" ./build/ftready -q scan -j "$J" --python "$PY" \
    --format json -o "$SCAN_CACHE/out.json" "${EXTRA[@]}" "$SRC/Modules" || true
  [ -s "$SCAN_CACHE/out.json" ] || { echo "ftready scan wrote no report" >&2; exit 1; }
}
now() { date +%s.%N; }

echo "CPython $(basename "$SRC") Modules/: ${#FILES[@]} translation units, -j $J, $ROUNDS round(s)"
for r in $(seq "$ROUNDS"); do
  rm -rf "${SCAN_CACHE:?}"/scan-cache
  t0=$(now); syntax_only; t1=$(now); scan; t2=$(now); scan; t3=$(now)
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v r="$r" 'BEGIN {
    s = b - a; f = c - b; w = d - c;
    printf "round %d: clang -fsyntax-only %.1f s | ftready scan, cold cache %.1f s (ratio %.2f) | unchanged sources, warm cache %.1f s (ratio %.2f)\n", r, s, f, f / s, w, w / s }'
done
