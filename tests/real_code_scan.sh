#!/usr/bin/env bash
# Scans real extension code downloaded from Debian source packages at test
# time (never committed): CPython 3.13's own Modules/ (the toolchain's
# source tree) and third-party extensions from sid. Asserts the scan survives
# them (no internal error, no crash, valid JSON) and that audited CPython code
# declares its GIL support (no FT004); prints the findings per rule, which
# docs/triage-cpython-3.13.md explains.
#   tests/real_code_scan.sh FTREADY_BINARY SOURCE_DIR
set -uo pipefail
FTREADY="$1"; ROOT="$2"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
PY="$CACHE/python/3.13t/prefix/bin/python3"
fail=0; scanned=0; missing=""

summarise() { # json-file -> "N files, rule counts, D diagnostics"
  "$PY" -c '
import collections, json, sys
j = json.load(open(sys.argv[1]))
c = collections.Counter(f["rule"] for f in j["findings"] if f["status"] == "static-only")
print("%d files, %s, %d diagnostics" % (j["summary"]["files_scanned"],
      " ".join("%s=%d" % kv for kv in sorted(c.items())) or "no findings",
      len(j["diagnostics"])))' "$1"
}

scan() { # name dir [ftready scan options...]
  local name="$1" dir="$2"; shift 2
  local out; out=$(mktemp)
  "$FTREADY" -q scan -j "$(nproc)" --format json -o "$out" --root "$dir" "$@" "$dir"
  local rc=$?
  if [ $rc -ge 3 ]; then
    echo "FAIL $name: ftready exited $rc"; fail=1; return
  fi
  if ! summary=$(summarise "$out"); then
    echo "FAIL $name: the JSON report does not parse"; fail=1; return
  fi
  echo "$name: exit $rc, $summary"
  scanned=$((scanned + 1))
  LAST_JSON="$out"
}

SRC=$(readlink -f "$CACHE/python/3.13t/source")
if [ -d "$SRC/Modules" ]; then
  scan "cpython-3.13 Modules" "$SRC/Modules" \
    --extra-arg=-I"$SRC/Include" --extra-arg=-I"$SRC/Include/internal" \
    --extra-arg=-DPy_BUILD_CORE_MODULE \
    --extra-arg=-I"$SRC/Modules/_decimal/libmpdec" \
    --extra-arg=-I"$SRC/Modules/_hacl/include"
  if [ -n "${LAST_JSON:-}" ]; then
    ft004=$("$PY" -c 'import json,sys; print(sum(f["rule"]=="FT004" for f in json.load(open(sys.argv[1]))["findings"]))' "$LAST_JSON")
    if [ "$ft004" != "0" ]; then echo "FAIL cpython: $ft004 FT004 findings on modules that declare Py_mod_gil"; fail=1; fi
  fi
else
  echo "skip cpython: no source tree at $SRC (run scripts/toolchain.sh)"
  missing="$missing cpython"
fi

for pkg in pyrsistent python-xxhash python-zstandard; do
  if dir=$(bash "$ROOT/scripts/fetch-sources.sh" sid "$pkg" 2>/dev/null); then
    case "$pkg" in
      python-zstandard) scan "$pkg" "$dir/c-ext" --extra-arg=-I"$dir/zstd" --extra-arg=-I"$dir/c-ext" ;;
      *) scan "$pkg" "$dir" ;;
    esac
  else
    echo "skip $pkg: the Debian sid source package cannot be downloaded here"
    missing="$missing $pkg"
  fi
done

[ $fail -eq 0 ] || exit 1
echo "$scanned of 4 real code bases scanned"
# A partial scan is not a pass: it is a skip, listed with its reason at the
# end of the test run.
[ -z "$missing" ] || { echo "skip: not scanned:$missing"; exit 77; }
