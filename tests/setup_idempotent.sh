#!/usr/bin/env bash
# A second set-up run finds everything in place and says so: both scripts
# exit 0, each part says "nothing to do", and nothing is configured, built,
# downloaded or updated again. Any of these failing fails the test (CTest's
# pass pattern alone would ignore the exit code).
set -uo pipefail
cd "$1"
out=$( { bash scripts/install-deps.sh && bash scripts/toolchain.sh; } 2>&1)
rc=$?
echo "$out"
fail() { echo "setup_is_idempotent: $1" >&2; exit 1; }
[ "$rc" -eq 0 ] || fail "the set-up scripts exited $rc"
echo "$out" | grep -q '^\[deps\] .*nothing to do' || fail "install-deps.sh did something"
for flavour in 3.13t 3.13t-tsan; do
  echo "$out" | grep -q "^\[toolchain\] $flavour .*up to date.*nothing to do" ||
    fail "toolchain.sh rebuilt or lost $flavour"
done
if echo "$out" | grep -Eq '\[(toolchain|apt)\] (configure|make|download|update)'; then
  fail "a second run configured, built, downloaded or updated something"
fi
echo "setup_is_idempotent: ok"
