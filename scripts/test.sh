#!/usr/bin/env bash
# The README's test command: set up whatever is missing, build, run CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
