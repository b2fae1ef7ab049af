# Sourced by the set-up scripts: Debian source and binary packages through a
# private apt configuration under the cache. /etc/apt is never touched.
# Needs CACHE set; defines apt_private, apt_update_once, fetch_source.

APTDIR="$CACHE/apt"

# The Debian archive this machine's own apt uses: FTREADY_DEBIAN_MIRROR, else
# the first URI of a main-suite entry (not -security, -updates or
# -backports) in the deb822 *.sources files or the one-line sources.list
# files. No archive address is written into the project.
debian_mirror() {
  if [ -n "${FTREADY_DEBIAN_MIRROR:-}" ]; then echo "${FTREADY_DEBIAN_MIRROR%/}"; return 0; fi
  local etc="${FTREADY_APT_ETC:-/etc/apt}" uri
  uri=$(
    for f in "$etc"/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      # deb822: paragraphs of "Key: value" lines, blank-line separated.
      awk 'BEGIN { RS=""; FS="\n" }
        { uris=""; suites=""; enabled=1
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/, "", uris) }
            if ($i ~ /^Suites:/) { suites=$i; sub(/^Suites:[ \t]*/, "", suites) }
            if ($i ~ /^Enabled:[ \t]*no/) enabled=0
          }
          if (!enabled) next
          n = split(suites, s, /[ \t]+/)
          for (k = 1; k <= n; k++) if (s[k] != "" && s[k] !~ /-/) { split(uris, u, /[ \t]+/); print u[1]; exit }
        }' "$f"
    done
    for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      sed -e 's/\[[^]]*\]//' "$f" | awk '$1 ~ /^deb(-src)?$/ && $3 !~ /-/ { print $2 }'
    done | sed -n 1p # reads all: no SIGPIPE under pipefail
  )
  uri=$(echo "$uri" | { grep -v -i security || true; } | sed -n 1p)
  if [ -z "$uri" ]; then
    echo "[apt] no Debian archive found in $etc (sources.list, sources.list.d); set FTREADY_DEBIAN_MIRROR" >&2
    return 1
  fi
  echo "${uri%/}"
}

apt_private() {
  local suite="$1"; shift
  local dir="$APTDIR/$suite" mirror
  mirror=$(debian_mirror) || return 1
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  cat >"$dir/sources.list" <<EOF2
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main
EOF2
  "$@" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
    -o APT::Sandbox::User=root -o Debug::NoLocking=1
}

apt_update_once() {
  local suite="$1"
  if [ -n "$(ls -A "$APTDIR/$suite/lists" 2>/dev/null | grep -v partial || true)" ]; then return 0; fi
  echo "[apt] update ($suite, private config)" >&2
  local log="$APTDIR/$suite-update.log"
  mkdir -p "$APTDIR"
  apt_private "$suite" apt-get update >"$log" 2>&1 || { echo "[apt] FAILED: update $suite (log: $log)" >&2; return 1; }
}

# Prints the upstream version of a source package in a suite (e.g. 3.13.5).
upstream_version() {
  local suite="$1" pkg="$2"
  apt_private "$suite" apt-cache showsrc "$pkg" 2>/dev/null |
    awk '/^Version:/ {print $2; exit}' | sed -e 's/^[0-9]*://' -e 's/-[^-]*$//'
}

# Unpacks the upstream tarball into $CACHE/src/<pkg>-<version>; prints that
# path. Returns 1 when the orig tarball cannot be downloaded (the .dsc or
# .debian.tar may 404 while the orig tarball downloads: keep what came).
fetch_source() {
  local suite="$1" pkg="$2" version="$3"
  local srcroot="$CACHE/src"
  local tree="$srcroot/$pkg-$version"
  if [ -d "$tree" ] && [ -n "$(ls -A "$tree")" ]; then echo "$tree"; return 0; fi
  mkdir -p "$srcroot"
  local log="$srcroot/$pkg-download.log"
  echo "[apt] download $pkg $version ($suite source package)" >&2
  (cd "$srcroot" && apt_private "$suite" apt-get source --download-only "$pkg") >"$log" 2>&1 || true
  local orig
  orig=$(ls "$srcroot/${pkg}_${version}".orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1 || true)
  if [ -z "$orig" ]; then
    echo "[apt] $pkg $version: no upstream tarball could be downloaded from $suite (log: $log)" >&2
    return 1
  fi
  rm -rf "$tree.tmp" && mkdir -p "$tree.tmp"
  tar -xf "$orig" -C "$tree.tmp" --strip-components=1 >>"$log" 2>&1 || { echo "[apt] FAILED: unpack $orig" >&2; return 1; }
  rm -rf "$tree" && mv "$tree.tmp" "$tree"
  echo "$tree"
}
