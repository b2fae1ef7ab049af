#!/usr/bin/env bash
# The GitHub Action's steps (action.yml at the repository root), in one
# script so that they run, and are tested, anywhere:
#   scripts/github-action.sh setup   Debian packages, ftready's build, and the
#                                    managed interpreters unless INPUT_PYTHON
#                                    names the user's own
#   scripts/github-action.sh check   `ftready check` with the inputs; the
#                                    Markdown report and the JUnit counts
#                                    become the job summary, the verdict and
#                                    exit code the step's outputs
#   scripts/github-action.sh gate    exits as the check did, with an error
#                                    annotation saying why
# Inputs come as GitHub passes them: INPUT_PATH, INPUT_BUDGET,
# INPUT_FAIL_ON, INPUT_BASELINE, INPUT_PYTHON, INPUT_CPYTHON_SOURCE,
# INPUT_ARGS, INPUT_REPORT_DIR; `gate` reads FTREADY_EXIT_CODE. Outside
# GitHub, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY default to files in the
# report folder. FTREADY_BUILD_DIR (default build/) is where setup builds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FTREADY_BUILD_DIR:-$ROOT/build}"
FTREADY="${FTREADY_BINARY:-$BUILD/ftready}"
REPORT="${INPUT_REPORT_DIR:-ftready-report}"

die() { echo "::error title=ftready::$*" >&2; exit 2; }

setup() {
  bash "$ROOT/scripts/install-deps.sh" --runtime
  if [ -n "${INPUT_CPYTHON_SOURCE:-}" ]; then
    bash "$ROOT/scripts/toolchain.sh" --cpython-source "$INPUT_CPYTHON_SOURCE"
  elif [ -z "${INPUT_PYTHON:-}" ]; then
    bash "$ROOT/scripts/toolchain.sh"
  else
    echo "[action] using the given interpreter $INPUT_PYTHON: no managed toolchain built"
  fi
  mkdir -p "$BUILD"
  { cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBUILD_TESTING=OFF && ninja -C "$BUILD" -j"$(nproc)" ftready; } >"$BUILD/setup.log" 2>&1 ||
    { tail -n 40 "$BUILD/setup.log" >&2; die "building ftready failed (log: $BUILD/setup.log)"; }
  echo "[action] ready: $FTREADY"
}

# The first match of a regex group in a file, or "" (also when there is no
# such file).
first() { { sed -n "s/$1/\\1/p" "$2" 2>/dev/null || true; } | sed -n 1p; }

check() {
  local out="${GITHUB_OUTPUT:-}" summary="${GITHUB_STEP_SUMMARY:-}"
  local args=(check "${INPUT_PATH:-.}" -o "$REPORT")
  [ -n "${INPUT_BUDGET:-}" ] && args+=(--budget "$INPUT_BUDGET")
  [ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
  [ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
  [ -n "${INPUT_PYTHON:-}" ] && args+=(--python "$INPUT_PYTHON")
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Split as a shell would, quotes kept together (--build-cmd "make -j4"),
    # without evaluating anything.
    local extra=()
    mapfile -t extra < <(printf '%s' "$INPUT_ARGS" | xargs -n1 printf '%s\n') ||
      die "args: unbalanced quotes in '$INPUT_ARGS'"
    args+=("${extra[@]}")
  fi
  [ -x "$FTREADY" ] || die "no $FTREADY: run 'scripts/github-action.sh setup' first"
  mkdir -p "$REPORT"
  out="${out:-$REPORT/github-output.txt}"
  summary="${summary:-$REPORT/github-summary.md}"
  local rc
  set +e
  "$FTREADY" "${args[@]}" 2>&1 | tee "$REPORT/ftready.log"
  rc=${PIPESTATUS[0]}
  set -e
  local verdict
  verdict=$(first '^\*\*Verdict: \(.*\)\*\*$' "$REPORT/report.md")
  {
    echo "exit-code=$rc"
    echo "verdict=${verdict:-none}"
    echo "report-dir=$REPORT"
    echo "sarif=$REPORT/report.sarif"
  } >>"$out"
  {
    if [ -f "$REPORT/report.md" ]; then
      cat "$REPORT/report.md"
    else
      echo "## ftready check did not run (exit $rc)"
      echo
      echo '```'
      tail -n 20 "$REPORT/ftready.log"
      echo '```'
    fi
    if [ -f "$REPORT/junit.xml" ]; then
      echo
      echo "### JUnit ($REPORT/junit.xml)"
      echo
      echo "| tests | failures | skipped |"
      echo "|---|---|---|"
      echo "| $(first '.*<testsuites[^>]* tests="\([0-9]*\)".*' "$REPORT/junit.xml") | $(first '.*<testsuites[^>]* failures="\([0-9]*\)".*' "$REPORT/junit.xml") | $(first '.*<testsuite [^>]* skipped="\([0-9]*\)".*' "$REPORT/junit.xml") |"
    fi
  } >>"$summary"
  echo "[action] verdict ${verdict:-none}, exit $rc (summary: $summary)"
}

gate() {
  local rc="${FTREADY_EXIT_CODE:-}"
  [ -n "$rc" ] || die "no FTREADY_EXIT_CODE: the check step did not run"
  case "$rc" in
    0) echo "[action] ftready check passed" ;;
    1) echo "::error title=ftready::NOT READY, or findings at or above the fail-on severity: see the job summary and $REPORT/report.md" ;;
    4) echo "::error title=ftready::INCOMPLETE: ftready could not build, parse, import or exercise something; the job summary says what and how to fix it" ;;
    2) echo "::error title=ftready::bad input: see the check step's log" ;;
    *) echo "::error title=ftready::ftready check failed (exit $rc)" ;;
  esac
  exit "$rc"
}

case "${1:-}" in
  setup) setup ;;
  check) check ;;
  gate) gate ;;
  *) echo "usage: $0 setup|check|gate" >&2; exit 2 ;;
esac
