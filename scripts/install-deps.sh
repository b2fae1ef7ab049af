#!/usr/bin/env bash
# Installs the Debian packages ftready builds and tests with, only those missing.
# Idempotent: a second run checks with dpkg and installs nothing.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build make pkg-config g++ dpkg-dev xz-utils ca-certificates
  # Clang LibTooling, clang-16 and its TSan runtime
  clang-16 libclang-cpp16-dev libclang-16-dev llvm-16-dev libclang-rt-16-dev llvm-16
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
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#PACKAGES[@]} Debian packages present: nothing to do"
  exit 0
fi

echo "[deps] installing ${#missing[@]} missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "[deps] done"
