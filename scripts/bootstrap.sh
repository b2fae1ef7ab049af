#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs before ftready runs: Debian
# packages, the managed interpreters, and the CMake build in build/.
# Idempotent: a second run checks and does nothing it need not.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/install-deps.sh
bash scripts/toolchain.sh
echo "[build] cmake + ninja in build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >build-configure.log 2>&1 ||
  { echo "[build] FAILED: cmake configure (log: build-configure.log)" >&2; tail -20 build-configure.log >&2; exit 1; }
rm -f build-configure.log
ninja -C build -j"$(nproc)" >build/ninja.log 2>&1 ||
  { echo "[build] FAILED: ninja (log: build/ninja.log)" >&2; grep -E 'error|FAILED' build/ninja.log | head -20 >&2; exit 1; }
echo "[bootstrap] ready in $(( $(date +%s) - t0 ))s: build/ftready"
