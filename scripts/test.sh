#!/usr/bin/env bash
# The README's test command: set up whatever is missing, build, run CTest,
# then list every test that was skipped and why (on a machine set up by
# bootstrap.sh the list should be empty).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cd build
status=0
rm -f ctest-junit.xml
ctest --output-on-failure --output-junit ctest-junit.xml -j"$(nproc)" "$@" || status=$?
PY="${FTREADY_CACHE:-$HOME/.cache/ftready}/python/3.13t/prefix/bin/python3"
[ -x "$PY" ] && [ -s ctest-junit.xml ] || { echo "skipped tests: unknown (no $PY or no ctest-junit.xml)"; exit $status; }
"$PY" - ctest-junit.xml <<'PYEOF' || true
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
skipped = []
for case in root.iter("testcase"):
    mark = case.find("skipped")
    if mark is None and case.get("status") not in ("notrun", "disabled"):
        continue
    out = (case.findtext("system-out") or "")
    why = [l for l in out.splitlines() if "skip" in l.lower()]
    reason = why[-1].strip() if why else (mark.get("message", "") if mark is not None else "")
    skipped.append((case.get("name"), reason))
print("\nskipped tests: %d" % len(skipped))
for name, reason in skipped:
    print("  %s: %s" % (name, reason or "(no reason printed)"))
PYEOF
exit $status
