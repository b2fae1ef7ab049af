#!/usr/bin/env bash
# Installs the Debian packages ftready builds and tests with, only those missing.
# Idempotent: a second run checks with dpkg and installs nothing.
#   scripts/install-deps.sh [--runtime]
# --runtime: only what building and running ftready needs, not its tests
# (the container image and the GitHub Action).
set -euo pipefail

RUNTIME=0
case "${1:-}" in
  --runtime) RUNTIME=1 ;;
  "") ;;
  *) echo "[deps] error: unknown argument '$1' (--runtime)" >&2; exit 2 ;;
esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# LLVM/Clang: the analyzer builds against 14 to 19, and the -tsan
# interpreters and the extensions' ThreadSanitizer builds use that clang.
# FTREADY_LLVM picks one; else one already installed whole (16, the version
# the tests' expectations were made with, first), else what the
# distribution offers: 16 if it has it, else its newest in 19..14.
llvm_packages() { # version
  echo "clang-$1 libclang-cpp$1-dev libclang-$1-dev llvm-$1-dev libclang-rt-$1-dev llvm-$1"
}
# Whole outputs first, then grep: under pipefail, `cmd | grep -q` fails when
# grep stops reading early and cmd dies of SIGPIPE (apt-cache policy does).
installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ "$status" == *"install ok installed"* ]]
}
offered() { # package
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  grep -q 'Candidate: [^(]' <<<"$policy"
}
choose_llvm() {
  if [ -n "${FTREADY_LLVM:-}" ]; then echo "$FTREADY_LLVM"; return 0; fi
  local v p all
  for v in 16 19 18 17 15 14; do
    all=1
    for p in $(llvm_packages "$v"); do installed "$p" || { all=0; break; }; done
    [ $all -eq 1 ] && { echo "$v"; return 0; }
  done
  $SUDO apt-get update -qq >&2
  for v in 16 19 18 17 15 14; do
    all=1
    for p in $(llvm_packages "$v"); do offered "$p" || { all=0; break; }; done
    [ $all -eq 1 ] && { echo "$v"; return 0; }
  done
  echo "[deps] error: this distribution offers no LLVM/Clang 14-19 with its ThreadSanitizer runtime (libclang-rt-N-dev)" >&2
  return 1
}
LLVM=$(choose_llvm)
case "$LLVM" in 14|15|16|17|18|19) ;; *) echo "[deps] error: FTREADY_LLVM=$LLVM: ftready supports LLVM/Clang 14 to 19" >&2; exit 2 ;; esac

# Only for the test suite.
TEST_ONLY=(libgtest-dev libgmock-dev libbenchmark-dev chromium npm)

PACKAGES=(
  # build
  cmake ninja-build make pkg-config g++ dpkg-dev xz-utils ca-certificates
  # Clang LibTooling, clang and its TSan runtime
  $(llvm_packages "$LLVM")
  # libraries the tool links
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # CPython build dependencies (free-threaded interpreters)
  libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev
  libreadline-dev libncurses-dev uuid-dev libgdbm-dev libexpat1-dev
  # compile_commands.json for real-code scans
  bear
  # native stacks of hung stress children
  gdb
  # the HTML report's rendering test (headless)
  chromium
  # the SARIF validation test fetches Microsoft's SARIF Multitool with it
  # (skipped below when an npm is already on PATH, e.g. Node's own)
  npm
)

missing=()
for p in "${PACKAGES[@]}"; do
  if [ $RUNTIME -eq 1 ] && [[ " ${TEST_ONLY[*]} " == *" $p "* ]]; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#PACKAGES[@]} Debian packages present: nothing to do"
  exit 0
fi

echo "[deps] installing ${#missing[@]} missing packages: ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "[deps] done"
