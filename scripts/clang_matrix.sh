#!/usr/bin/env bash
# The analyzer on every LLVM/Clang 14-19 installed here: for each, a build
# of its own (build-llvmN/, FTREADY_LLVM_VERSION=N), the rule and corpus
# tests, and a scan of the corpus whose findings must equal those of the
# main build (build/). Prints one line per version and exits 1 if any
# installed version fails. Install more with
#   apt-get install libclang-N-dev libclang-cpp-N-dev llvm-N-dev
#   scripts/clang_matrix.sh [VERSION...]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  for v in 14 15 16 17 18 19; do
    [ -f "/usr/lib/llvm-$v/lib/cmake/clang/ClangConfig.cmake" ] && versions+=("$v")
  done
fi
[ ${#versions[@]} -gt 0 ] || { echo "no LLVM/Clang 14-19 development packages installed" >&2; exit 2; }
[ -x build/ftready ] || { echo "no build/ftready: run scripts/bootstrap.sh first" >&2; exit 2; }

findings() { # ftready -> the corpus's findings, sorted, as rule:file:line:function
  "$1" scan --no-cache --format json corpus 2>/dev/null |
    "${FTREADY_CACHE:-$HOME/.cache/ftready}/python/3.13t/prefix/bin/python3" -c '
import json, sys
d = json.load(sys.stdin)
for f in sorted(d["findings"], key=lambda f: (f["file"], f["line"], f["rule"])):
    print("%s:%s:%s:%s" % (f["rule"], f["file"], f["line"], f.get("function", "")))'
}
reference=$(findings build/ftready)
[ -n "$reference" ] || { echo "the main build's scan of corpus/ gave no findings" >&2; exit 2; }

status=0
printf '%-8s %-10s %-8s %-22s %s\n' LLVM build seconds "rule+corpus tests" "corpus findings vs build/"
for v in "${versions[@]}"; do
  dir="build-llvm$v"; t0=$(date +%s); mkdir -p "$dir"; log="$ROOT/$dir/clang_matrix.log"
  if ! { cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
           -DFTREADY_LLVM_VERSION="$v" && ninja -C "$dir" ftready analyzer_tests; } >"$log" 2>&1; then
    printf '%-8s %-10s %-8s %-22s %s\n' "$v" FAILED "$(( $(date +%s) - t0 ))" - "- (log: $dir/clang_matrix.log)"
    status=1; continue
  fi
  secs=$(( $(date +%s) - t0 ))
  tests=$("$dir/tests/analyzer_tests" 2>&1 | tail -n 3)
  passed=$(echo "$tests" | sed -n 's/.*PASSED.* \([0-9]*\) tests\?.*/\1/p')
  failed=$(echo "$tests" | sed -n 's/.*FAILED.* \([0-9]*\) tests\?.*/\1/p')
  result="${passed:-0} passed"; [ -n "$failed" ] && { result="$result, $failed FAILED"; status=1; }
  got=$(findings "$dir/ftready")
  if [ "$got" = "$reference" ]; then same="equal ($(echo "$got" | wc -l) findings)"; else
    same="DIFFERENT: $(diff <(echo "$reference") <(echo "$got") | grep -c '^[<>]') lines"; status=1; fi
  printf '%-8s %-10s %-8s %-22s %s\n' "$v" ok "$secs" "$result" "$same"
done
exit $status
