// The free-threaded interpreters scripts/toolchain.sh builds into the cache.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ftready {

struct Interpreter {
  std::string flavour;             // 3.13t, 3.13t-tsan, 3.14t, 3.14t-tsan
  std::string path;                // the python executable
  std::string version;             // sys.version, first word
  bool gil_disabled_build = false; // sysconfig Py_GIL_DISABLED
  bool gil_enabled_at_run = true;  // sys._is_gil_enabled() after start-up
  bool tsan = false;               // built --with-thread-sanitizer
  std::string include_dir;         // sysconfig include path
  std::string ext_suffix; // EXT_SUFFIX, e.g. .cpython-313t-x86_64-linux-gnu.so
};

// $FTREADY_CACHE, else $HOME/.cache/ftready. Throws std::runtime_error when
// neither is set.
std::string cacheDirectory();

const std::vector<std::string> &managedFlavours();

// The managed executable path for a flavour (may not exist).
std::string managedInterpreterPath(const std::string &cache,
                                   const std::string &flavour);

// Runs `path` to ask what it is. std::nullopt (with `error` set) when it does
// not run or is not a CPython >= 3.13.
std::optional<Interpreter> probeInterpreter(const std::string &path,
                                            std::string *error = nullptr);

} // namespace ftready
