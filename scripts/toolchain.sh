#!/usr/bin/env bash
# Builds ftready's managed free-threaded interpreters into a cache outside the repo.
#
#   scripts/toolchain.sh [--flavour F]... [--with-3.14] [--rebuild] [--list]
#                        [--cpython-source TARBALL|DIR]
#
# Flavours: 3.13t (release, --disable-gil, shared libpython, pip + setuptools)
#           3.13t-tsan (--disable-gil --with-thread-sanitizer --with-pydebug, clang)
#           3.14t, 3.14t-tsan (optional, --with-3.14; sources from Debian sid)
# --cpython-source builds the pair of the given CPython source (a release
# tarball or an unpacked tree, 3.13 or newer) instead of Debian's: its
# version decides the flavours (3.14.0 -> 3.14t, 3.14t-tsan).
# Cache: $FTREADY_CACHE (default ~/.cache/ftready). Each flavour has
#   python/<flavour>/{prefix/, build.log, stamp}
# and is rebuilt only when its stamp (upstream version + configure flags) changes.
# Sources come from Debian's python3.13 source package through a private apt
# configuration under the cache; /etc/apt is never touched.
set -euo pipefail

CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
JOBS="${FTREADY_JOBS:-$(nproc)}"
FLAVOURS=()
WITH_314=0
REBUILD=0
LIST=0
CPYTHON_SOURCE=""

die() { echo "[toolchain] error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --flavour) [ $# -ge 2 ] || die "--flavour needs a value"; FLAVOURS+=("$2"); shift 2 ;;
    --with-3.14) WITH_314=1; shift ;;
    --rebuild) REBUILD=1; shift ;;
    --list) LIST=1; shift ;;
    --cpython-source) [ $# -ge 2 ] || die "--cpython-source needs a tarball or folder"; CPYTHON_SOURCE="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done

mkdir -p "$CACHE" 2>/dev/null || die "cache folder '$CACHE' cannot be created"
[ -w "$CACHE" ] || die "cache folder '$CACHE' is not writable"

# The clang that builds the -tsan flavours (extensions for them are built
# with the same one, read back from the interpreter's sysconfig CC):
# FTREADY_CLANG, else clang-$FTREADY_LLVM, else the first installed in the
# order scripts/install-deps.sh chooses (16, then 19 down to 14).
tsan_clang() {
  if [ -n "${FTREADY_CLANG:-}" ]; then echo "$FTREADY_CLANG"; return 0; fi
  if [ -n "${FTREADY_LLVM:-}" ]; then echo "clang-$FTREADY_LLVM"; return 0; fi
  local v
  for v in 16 19 18 17 15 14; do
    if command -v "clang-$v" >/dev/null; then echo "clang-$v"; return 0; fi
  done
  die "no clang-14..19 installed for the ThreadSanitizer flavours (scripts/install-deps.sh installs one)"
}

# A given CPython source: an unpacked tree is used where it is, a tarball is
# unpacked once under the cache (keyed by its checksum). Prints the tree.
source_tree_of() {
  local given="$1"
  [ -e "$given" ] || die "--cpython-source '$given' does not exist"
  if [ -d "$given" ]; then (cd "$given" && pwd); return 0; fi
  local sum dir
  sum=$(sha256sum "$given" | cut -c1-16)
  dir="$CACHE/src/cpython-$sum"
  if [ ! -f "$dir/.unpacked" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xf "$given" -C "$dir" --strip-components=1 2>"$dir.log" ||
      die "--cpython-source '$given' is neither a folder nor a tarball tar can unpack (log: $dir.log)"
    touch "$dir/.unpacked"
  fi
  echo "$dir"
}

# PY_VERSION of a CPython source tree ("3.13.5"), or a clear error.
source_version_of() {
  local tree="$1" v
  [ -f "$tree/configure" ] && [ -f "$tree/Include/patchlevel.h" ] ||
    die "'$tree' is not a CPython source tree (no configure and Include/patchlevel.h)"
  v=$(sed -n 's/^#define[[:space:]]*PY_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' "$tree/Include/patchlevel.h")
  [ -n "$v" ] || die "'$tree/Include/patchlevel.h' has no PY_VERSION"
  echo "$v"
}

SOURCE_TREE="" SOURCE_VERSION=""
if [ -n "$CPYTHON_SOURCE" ]; then
  SOURCE_TREE=$(source_tree_of "$CPYTHON_SOURCE")
  SOURCE_VERSION=$(source_version_of "$SOURCE_TREE")
  minor_of_source=$(echo "$SOURCE_VERSION" | cut -d. -f1,2)
  case "$minor_of_source" in
    3.13|3.14) ;;
    3.[0-9]|3.1[0-2]) die "CPython $SOURCE_VERSION has no free-threaded build: give 3.13 or newer" ;;
    *) die "CPython $SOURCE_VERSION: ftready manages 3.13t and 3.14t only" ;;
  esac
  if [ ${#FLAVOURS[@]} -eq 0 ]; then FLAVOURS=("${minor_of_source}t" "${minor_of_source}t-tsan"); fi
  for f in "${FLAVOURS[@]}"; do
    case "$f" in "${minor_of_source}t"|"${minor_of_source}t-tsan") ;;
      *) die "flavour '$f' cannot be built from CPython $SOURCE_VERSION (its flavours: ${minor_of_source}t, ${minor_of_source}t-tsan)" ;;
    esac
  done
fi

if [ ${#FLAVOURS[@]} -eq 0 ]; then
  FLAVOURS=(3.13t 3.13t-tsan)
  if [ $WITH_314 -eq 1 ]; then FLAVOURS+=(3.14t 3.14t-tsan); fi
fi

# Chosen here, in the script's own shell, so that a missing clang stops the
# run (inside a command substitution `die` would only end a subshell).
TSAN_CC="" TSAN_CXX=""
if [[ " ${FLAVOURS[*]} " == *-tsan* ]]; then
  TSAN_CC=$(tsan_clang)
  # clang-16 -> clang++-16, /opt/llvm/bin/clang -> /opt/llvm/bin/clang++
  TSAN_CXX="${FTREADY_CLANGXX:-${TSAN_CC%clang*}clang++${TSAN_CC##*clang}}"
fi

now() { date +%s; }
step_start=0
step() { step_start=$(now); echo "[toolchain] $*"; }
step_done() { echo "[toolchain]   done in $(( $(now) - step_start ))s"; }
fail_step() { echo "[toolchain] FAILED: $1 (log: $2)" >&2; tail -n 20 "$2" >&2 || true; exit 1; }

# Which Debian suite and source package a flavour's sources come from.
suite_of() { case "$1" in 3.13t*) echo trixie ;; 3.14t*) echo sid ;; esac; }
srcpkg_of() { case "$1" in 3.13t*) echo python3.13 ;; 3.14t*) echo python3.14 ;; esac; }

configure_flags_of() {
  local prefix="$1"
  case "$2" in
    *-tsan) echo "CC=$TSAN_CC CXX=$TSAN_CXX --prefix=$prefix --disable-gil --with-thread-sanitizer --with-pydebug --without-ensurepip --disable-test-modules" ;;
    *) echo "CC=gcc CXX=g++ --prefix=$prefix --disable-gil --enable-shared LDFLAGS=-Wl,-rpath,$prefix/lib --with-ensurepip=install --disable-test-modules" ;;
  esac
}

# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

fetch_setuptools_wheel() {
  local dir="$CACHE/wheels"
  if ls "$dir"/setuptools-*.whl >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir/deb"
  local log="$dir/download.log"
  step "download python3-setuptools-whl (trixie)"
  apt_update_once trixie
  (cd "$dir/deb" && apt_private trixie apt-get download python3-setuptools-whl) >"$log" 2>&1 ||
    fail_step "download python3-setuptools-whl" "$log"
  dpkg -x "$dir"/deb/python3-setuptools-whl_*.deb "$dir/x" >>"$log" 2>&1 || fail_step "unpack setuptools wheel" "$log"
  find "$dir/x" -name 'setuptools-*.whl' -exec cp {} "$dir/" \;
  ls "$dir"/setuptools-*.whl >/dev/null 2>&1 || fail_step "setuptools wheel not found in package" "$log"
  step_done
}

# python3 exists in every flavour (the debug build names its binary
# python3.13td).
interpreter_of() { # prefix flavour
  echo "$1/bin/python3"
}

build_flavour() {
  local flavour="$1"
  local suite pkg version origin=""
  suite=$(suite_of "$flavour"); pkg=$(srcpkg_of "$flavour")
  [ -n "$suite" ] || die "unknown flavour '$flavour' (3.13t, 3.13t-tsan, 3.14t, 3.14t-tsan)"
  if [ -n "$SOURCE_TREE" ]; then
    version="$SOURCE_VERSION"; origin="$SOURCE_TREE"
  else
    apt_update_once "$suite" || return 1
    version=$(upstream_version "$suite" "$pkg")
    if [ -z "$version" ]; then
      echo "[toolchain] $flavour unavailable: Debian $suite has no $pkg source package here" >&2
      return 3
    fi
  fi
  local home="$CACHE/python/$flavour"
  local prefix="$home/prefix"
  local flags stamp
  flags=$(configure_flags_of "$prefix" "$flavour")
  # The Debian route's stamp is the same as before --cpython-source existed,
  # so existing builds stay valid.
  stamp="version=$version flags=$flags"
  if [ -n "$SOURCE_TREE" ]; then stamp="version=$version source=$origin flags=$flags"; fi
  local exe
  exe=$(interpreter_of "$prefix" "$flavour")
  if [ $REBUILD -eq 0 ] && [ -x "$exe" ] && [ "$(cat "$home/stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "[toolchain] $flavour $version up to date ($exe): nothing to do"
    return 0
  fi
  local tree
  if [ -n "$SOURCE_TREE" ]; then
    tree="$SOURCE_TREE"
  elif ! tree=$(fetch_source "$suite" "$pkg" "$version"); then
    echo "[toolchain] $flavour unavailable: the $pkg $version upstream tarball could not be downloaded from $suite" >&2
    return 3
  fi
  rm -rf "$home/build" "$prefix" "$home/stamp"
  mkdir -p "$home/build"
  local log="$home/build.log"
  : >"$log"
  local t0; t0=$(now)
  step "configure $flavour ($flags)"
  # autoconf takes VAR=value arguments as well as options.
  # shellcheck disable=SC2086
  (cd "$home/build" && "$tree/configure" $flags) >>"$log" 2>&1 ||
    fail_step "configure $flavour" "$log"
  step_done
  step "make -j$JOBS $flavour"
  (cd "$home/build" && make -j"$JOBS") >>"$log" 2>&1 || fail_step "make $flavour" "$log"
  step_done
  step "install $flavour into $prefix"
  (cd "$home/build" && make install) >>"$log" 2>&1 || fail_step "make install $flavour" "$log"
  step_done
  if [[ "$flavour" != *-tsan ]] && [ -n "$SOURCE_TREE" ] && ! (fetch_setuptools_wheel); then
    # A given source on a machine without Debian's archive (an Ubuntu CI
    # runner): the interpreter works; setup.py builds need setuptools.
    echo "[toolchain] warning: no setuptools wheel from Debian here: $flavour has no setuptools (install it with its pip for setup.py projects)" >&2
  elif [[ "$flavour" != *-tsan ]]; then
    fetch_setuptools_wheel
    step "pip install setuptools (offline) into $flavour"
    "$exe" -m pip install --no-index --disable-pip-version-check "$CACHE"/wheels/setuptools-*.whl >>"$log" 2>&1 ||
      fail_step "pip install setuptools into $flavour" "$log"
    step_done
  fi
  # The TSan tree keeps CPython's own suppression file next to the interpreter.
  if [ -f "$tree/Tools/tsan/suppressions_free_threading.txt" ]; then
    cp "$tree/Tools/tsan/suppressions_free_threading.txt" "$home/tsan-suppressions.txt"
  fi
  # The source tree's Doc/data/refcounts.dat feeds the analyzer's borrowed-API table.
  ln -sfn "$tree" "$home/source"
  rm -rf "$home/build"
  echo "$stamp" >"$home/stamp"
  echo "[toolchain] $flavour $version built in $(( $(now) - t0 ))s: $exe"
}

# setuptools (and, through it, distutils) for every flavour: the release
# flavour's pip installs Debian's wheel into the -tsan flavour's
# site-packages (it has no pip of its own). Checked by importing, so an
# existing build gains it without a rebuild.
ensure_setuptools() {
  local flavour="$1" exe pip_exe site log
  exe=$(interpreter_of "$CACHE/python/$flavour/prefix" "$flavour")
  [ -x "$exe" ] || return 0
  if "$exe" -c 'import setuptools, distutils.core' >/dev/null 2>&1; then return 0; fi
  pip_exe=$(interpreter_of "$CACHE/python/${flavour%-tsan}/prefix" "${flavour%-tsan}")
  [ -x "$pip_exe" ] || die "$flavour needs ${flavour%-tsan} (its pip) to install setuptools"
  fetch_setuptools_wheel
  site=$("$exe" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  log="$CACHE/python/$flavour/setuptools.log"
  step "install setuptools (offline) into $flavour"
  PYTHON_GIL=0 "$pip_exe" -m pip install --no-index --disable-pip-version-check --upgrade \
    --target "$site" "$CACHE"/wheels/setuptools-*.whl >"$log" 2>&1 ||
    fail_step "install setuptools into $flavour" "$log"
  "$exe" -c 'import setuptools, distutils.core' >>"$log" 2>&1 ||
    fail_step "setuptools in $flavour does not import" "$log"
  step_done
}

list_flavours() {
  for f in 3.13t 3.13t-tsan 3.14t 3.14t-tsan; do
    local home="$CACHE/python/$f"
    local exe; exe=$(interpreter_of "$home/prefix" "$f")
    if [ -x "$exe" ]; then
      echo "$f $(sed -e 's/^version=\([^ ]*\).*/\1/' "$home/stamp" 2>/dev/null) $exe"
    else
      echo "$f missing"
    fi
  done
}

if [ $LIST -eq 1 ]; then list_flavours; exit 0; fi

status=0
for f in "${FLAVOURS[@]}"; do
  case "$f" in 3.13t|3.13t-tsan|3.14t|3.14t-tsan) ;; *) die "unknown flavour '$f' (3.13t, 3.13t-tsan, 3.14t, 3.14t-tsan)" ;; esac
  rc=0
  build_flavour "$f" || rc=$?
  if [ $rc -eq 0 ] && [[ "$f" == *-tsan ]]; then ensure_setuptools "$f"; fi
  if [ $rc -ne 0 ]; then
    case "$f" in 3.14t*) echo "[toolchain] $f is optional: skipped" >&2 ;; *) status=$rc ;; esac
  fi
done
exit $status
