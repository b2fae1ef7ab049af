#!/usr/bin/env bash
# Downloads a Debian source package's upstream tree into the cache (private
# apt configuration) and prints its path. Used by tests and benchmarks that
# scan real extension code; nothing of it is committed.
#
#   scripts/fetch-sources.sh SUITE PACKAGE     e.g. sid pyrsistent
# Exit 0 with the path on stdout; 3 when the package cannot be downloaded
# here (callers skip with that reason); 2 on bad arguments.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SUITE PACKAGE" >&2; exit 2; }
CACHE="${FTREADY_CACHE:-$HOME/.cache/ftready}"
mkdir -p "$CACHE" || { echo "cache folder '$CACHE' cannot be created" >&2; exit 2; }
# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
suite="$1" pkg="$2"
apt_update_once "$suite" || exit 3
version=$(upstream_version "$suite" "$pkg")
[ -n "$version" ] || { echo "$pkg: no source package in Debian $suite" >&2; exit 3; }
fetch_source "$suite" "$pkg" "$version" || exit 3
