#!/usr/bin/env bash
# `ftready toolchain --cpython-source` builds the managed pair from a given
# CPython source instead of Debian's: a source that is not CPython, too old,
# or missing is a clear error with exit 2; a real one (a tarball made from
# the 3.13 source the managed 3.13t came from) builds a free-threaded 3.13t
# into a separate cache, listed with its version, and a second run finds it
# up to date. Only the release flavour is built (about 2 minutes on 2 cores).
#   tests/toolchain_source.sh FTREADY
set -uo pipefail
FTREADY="$1"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
fail() { echo "toolchain_source: $1" >&2; exit 1; }
work=$(mktemp -d /tmp/ftready-toolchain-source-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

expect_error() { # what-it-must-say args...
  local want="$1"; shift
  local out rc
  out=$(FTREADY_CACHE="$work/cache" "$FTREADY" toolchain "$@" 2>&1); rc=$?
  [ "$rc" -eq 2 ] || fail "toolchain $* exited $rc, expected 2: $out"
  echo "$out" | grep -qF -- "$want" || fail "toolchain $* did not say '$want': $out"
}

mkdir -p "$work/not-cpython"
expect_error "is not a CPython source tree" --cpython-source "$work/not-cpython"
expect_error "does not exist" --cpython-source "$work/nowhere.tar.gz"
echo "not a tarball" >"$work/junk.tar.gz"
expect_error "neither a folder nor a tarball" --cpython-source "$work/junk.tar.gz"
for v in 3.12.8:"has no free-threaded build" 3.14.0:"cannot be built from CPython 3.14.0"; do
  tree="$work/fake-${v%%:*}"
  mkdir -p "$tree/Include"; touch "$tree/configure"
  printf '#define PY_VERSION "%s"\n' "${v%%:*}" >"$tree/Include/patchlevel.h"
  expect_error "${v#*:}" --cpython-source "$tree" --flavour 3.13t
done

src=$(readlink -f "$CACHE/python/3.13t/source" 2>/dev/null || true)
if [ -z "$src" ] || [ ! -f "$src/Include/patchlevel.h" ]; then
  echo "toolchain_source: no CPython source beside the managed 3.13t ($CACHE/python/3.13t/source): run scripts/toolchain.sh" >&2
  exit 77
fi
version=$(sed -n 's/^#define[[:space:]]*PY_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' "$src/Include/patchlevel.h")
tar -C "$(dirname "$src")" -cf "$work/cpython-$version.tar" "$(basename "$src")" ||
  fail "cannot make a tarball of $src"
# The offline setuptools wheel, so the test downloads nothing.
mkdir -p "$work/cache"; cp -r "$CACHE/wheels" "$work/cache/" 2>/dev/null || true

out=$(FTREADY_CACHE="$work/cache" "$FTREADY" toolchain --cpython-source "$work/cpython-$version.tar" --flavour 3.13t 2>&1); rc=$?
[ "$rc" -eq 0 ] || { echo "$out" | tail -n 30; fail "building 3.13t from the tarball exited $rc"; }
echo "$out" | grep -qE "^3\.13t +$version +disabled +no +$work/cache/python/3.13t/prefix/bin/python3$" ||
  fail "the listing does not show the new 3.13t $version without the GIL: $out"
grep -q "source=$work/cache/src/cpython-" "$work/cache/python/3.13t/stamp" ||
  fail "the stamp does not name the given source: $(cat "$work/cache/python/3.13t/stamp")"
"$work/cache/python/3.13t/prefix/bin/python3" -c 'import sys, setuptools; assert not sys._is_gil_enabled()' ||
  fail "the new 3.13t runs with the GIL or has no setuptools"
out=$(FTREADY_CACHE="$work/cache" "$FTREADY" toolchain --cpython-source "$work/cpython-$version.tar" --flavour 3.13t 2>&1) ||
  fail "the second run failed: $out"
echo "$out" | grep -q "3.13t $version up to date" || fail "the second run did not find 3.13t up to date: $out"
echo "toolchain_source: ok"
