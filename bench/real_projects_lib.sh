# Shared by the real-project benchmarks (sourced): the project list and how
# each project is set up. Needs ROOT and CACHE.
SETUPTOOLS_VENDOR="$CACHE/python/3.13t-tsan/prefix/lib/python3.13t/site-packages/setuptools/_vendor"
mapfile -t PROJECTS < <(grep -v '^#' "$ROOT/bench/real_projects.list" | grep . |
  sed "s|@SETUPTOOLS_VENDOR@|$SETUPTOOLS_VENDOR|g")

# project_setup "suite|package|settings..." -> sets SUITE, PKG, ENVS (array),
# BUILD (array: --build-cmd CMD or empty), SETTINGS (text); installs the
# Debian packages the settings name when missing.
project_setup() {
  local f setting
  IFS='|' read -r -a f <<<"$1"
  SUITE=${f[0]} PKG=${f[1]} ENVS=() BUILD=() SETTINGS="${f[*]:2}"
  for setting in "${f[@]:2}"; do
    case "$setting" in
      apt:*) dpkg -s "${setting#apt:}" >/dev/null 2>&1 ||
               apt-get install -y -q "${setting#apt:}" >/dev/null 2>&1 ||
               echo "  (could not install ${setting#apt:})" >&2 ;;
      env:*) ENVS+=("${setting#env:}") ;;
      build:*) BUILD=(--build-cmd "${setting#build:}") ;;
    esac
  done
}

# wanted NAME ONLY... -> true when ONLY is empty or names NAME
wanted() {
  local name="$1"; shift
  [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]
}
