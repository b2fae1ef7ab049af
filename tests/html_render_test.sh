#!/usr/bin/env bash
# Renders the HTML readiness report in headless Chromium: it must log no
# console error, and the screenshot must show the charts' bars drawn.
#   tests/html_render_test.sh FTREADY_BINARY SOURCE_DIR
set -uo pipefail
FTREADY="$1"; ROOT="$2"
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
PY="$CACHE/python/3.13t/prefix/bin/python3"
command -v chromium >/dev/null || { echo "skip: chromium is not installed (scripts/install-deps.sh installs it)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$FTREADY" report --format html --root "$ROOT/corpus/cache_racy" \
  "$ROOT/tests/golden/report.json" -o "$tmp/report.html" || { echo "FAIL: report"; exit 1; }
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
  --window-size=1100,1400 --screenshot="$tmp/shot.png" "file://$tmp/report.html" \
  >"$tmp/chromium.log" 2>&1
[ -s "$tmp/shot.png" ] || { echo "FAIL: no screenshot"; tail -5 "$tmp/chromium.log"; exit 1; }
if grep -E 'CONSOLE|Uncaught' "$tmp/chromium.log"; then
  echo "FAIL: console messages while rendering the report"; exit 1
fi
# Count the pixels of the bars' colour (#4a7bd0) in the screenshot.
bars=$("$PY" - "$tmp/shot.png" <<'PYEOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
pos, idat, width, height = 8, b"", 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        channels = {2: 3, 6: 4}[ctype]
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = width * channels
prev = bytearray(stride)
count = 0
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - channels] if x >= channels else 0
        b = prev[x]
        c = prev[x - channels] if x >= channels else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, channels):
        r, g, bl = line[x:x + 3]
        if abs(r - 0x4a) < 12 and abs(g - 0x7b) < 12 and abs(bl - 0xd0) < 12:
            count += 1
    prev = line
print(count)
PYEOF
)
echo "bar pixels in the screenshot: $bars"
[ "${bars:-0}" -gt 2000 ] || { echo "FAIL: the charts' bars are not drawn"; exit 1; }
echo "the HTML report renders with its charts and no console error"
