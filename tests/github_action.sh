#!/usr/bin/env bash
# The GitHub Action, run here as GitHub would run its steps: action.yml's
# steps call scripts/github-action.sh with a known step and declared inputs;
# `check` on the fixed corpus module writes the Markdown report and the
# JUnit counts to the job summary and the verdict to the step outputs;
# extra arguments reach ftready; a check that cannot run says so in the
# summary; `gate` exits as the check did, with an error annotation.
#   tests/github_action.sh FTREADY SOURCE_DIR
set -uo pipefail
FTREADY="$1"; ROOT="$2"
ACTION="$ROOT/scripts/github-action.sh"
fail() { echo "github_action: $1" >&2; exit 1; }
work=$(mktemp -d /tmp/ftready-action-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# action.yml: every run step is `github-action.sh setup|check|gate`, and
# every input it uses is declared.
runs=$(grep -E '^ +run: ' "$ROOT/action.yml")
[ "$(echo "$runs" | wc -l)" -eq 3 ] || fail "action.yml should have 3 run steps: $runs"
echo "$runs" | grep -vqE 'github-action\.sh" (setup|check|gate)$' && fail "a run step is not the script: $runs"
for used in $(grep -oE 'inputs\.[a-z-]+' "$ROOT/action.yml" | sort -u | cut -d. -f2); do
  grep -qE "^  $used:$" "$ROOT/action.yml" || fail "action.yml uses input '$used' it does not declare"
done

step() { # name env... -- : runs one step with GitHub's files
  local name="$1"; shift
  env FTREADY_BINARY="$FTREADY" GITHUB_OUTPUT="$work/$name.out" \
    GITHUB_STEP_SUMMARY="$work/$name.md" "$@" bash "$ACTION" "${name%%-*}" \
    >"$work/$name.log" 2>&1
}

step check-fixed INPUT_PATH="$ROOT/corpus/cache_fixed" INPUT_BUDGET=20s \
  INPUT_REPORT_DIR="$work/report" INPUT_FAIL_ON=warning
rc=$?
[ "$rc" -eq 0 ] || fail "the check step itself failed ($rc): $(tail "$work/check-fixed.log")"
grep -qx 'exit-code=0' "$work/check-fixed.out" || fail "outputs: $(cat "$work/check-fixed.out")"
grep -qx 'verdict=READY' "$work/check-fixed.out" || fail "outputs: $(cat "$work/check-fixed.out")"
grep -qx "sarif=$work/report/report.sarif" "$work/check-fixed.out" || fail "outputs: $(cat "$work/check-fixed.out")"
grep -qx '\*\*Verdict: READY\*\*' "$work/check-fixed.md" || fail "the summary lacks the verdict: $(head "$work/check-fixed.md")"
grep -qx '| 1 | 0 | 0 |' "$work/check-fixed.md" || fail "the summary lacks the JUnit counts: $(tail "$work/check-fixed.md")"
for f in report.sarif junit.xml report.html; do
  [ -s "$work/report/$f" ] || fail "no $f in the report folder"
done

# Quoted words stay one argument: ftready sees the budget "5 parsecs".
step check-args INPUT_PATH="$ROOT/corpus/cache_fixed" INPUT_ARGS='--threads 4 --budget "5 parsecs"' \
  INPUT_REPORT_DIR="$work/report-args"
grep -qx 'exit-code=2' "$work/check-args.out" || fail "the args did not reach ftready: $(cat "$work/check-args.out")"
grep -qF "'5 parsecs' is not a duration" "$work/check-args.log" || fail "the quoted argument was split: $(cat "$work/check-args.log")"
grep -qx 'verdict=none' "$work/check-args.out" || fail "a check that did not run has a verdict"
grep -q 'ftready check did not run (exit 2)' "$work/check-args.md" || fail "the summary hides that the check did not run"

step gate-pass FTREADY_EXIT_CODE=0 || fail "gate with exit code 0 failed"
step gate-incomplete FTREADY_EXIT_CODE=4; rc=$?
[ "$rc" -eq 4 ] || fail "gate with exit code 4 exited $rc"
grep -q '^::error title=ftready::INCOMPLETE' "$work/gate-incomplete.log" || fail "gate did not annotate INCOMPLETE"
step gate-missing; rc=$?
[ "$rc" -eq 2 ] || fail "gate without an exit code exited $rc"
echo "github_action: ok"
