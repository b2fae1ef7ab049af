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
  int major = 0, minor = 0;        // sys.version_info
  std::string implementation;      // sys.implementation.name: cpython
  bool gil_disabled_build = false; // sysconfig Py_GIL_DISABLED
  bool gil_enabled_at_run = true;  // sys._is_gil_enabled() after start-up
  bool tsan = false;               // built --with-thread-sanitizer
  std::string include_dir;         // sysconfig include path
  std::string ext_suffix; // EXT_SUFFIX, e.g. .cpython-313t-x86_64-linux-gnu.so
  std::string cc, cxx;    // sysconfig CC and CXX, first word (clang-16)
};

// The C and C++ compilers that build extensions for `in`: the ones it was
// built with when they are on PATH (a ThreadSanitizer extension must use the
// runtime the interpreter carries), else `fallbackC` and its C++ twin.
struct Compilers {
  std::string c, cxx;
};
Compilers compilersFor(const Interpreter &in, const std::string &fallbackC);

// $FTREADY_CACHE, else $HOME/.cache/ftready. Throws std::runtime_error when
// neither is set.
std::string cacheDirectory();

const std::vector<std::string> &managedFlavours();

// The managed executable path for a flavour (may not exist).
std::string managedInterpreterPath(const std::string &cache,
                                   const std::string &flavour);

// Runs `path` to ask what it is. std::nullopt (with `error` set) when it does
// not run or does not answer the probe. It does not judge the answer: see
// checkFreeThreaded.
std::optional<Interpreter> probeInterpreter(const std::string &path,
                                            std::string *error = nullptr);

// The probe's JSON answer read into an Interpreter (std::nullopt, with
// `error` set, when it is not one).
std::optional<Interpreter> interpreterFromProbe(const std::string &path,
                                                const std::string &answer,
                                                std::string *error = nullptr);

// Whether ftready can use an interpreter to build and stress extensions for
// free-threaded Python: a CPython 3.13 or newer built with Py_GIL_DISABLED.
// `error` says why not and what to use instead; `warning` is set for a
// version newer than the ones ftready knows (3.13, 3.14), which is used.
struct InterpreterVerdict {
  std::string error;
  std::string warning;
};
InterpreterVerdict checkFreeThreaded(const Interpreter &in);

// CPython's TSan suppression file as scripts/toolchain.sh keeps it, beside
// a managed interpreter's prefix (python/<flavour>/tsan-suppressions.txt);
// stress runs use it only when it exists.
std::string tsanSuppressionsBeside(const Interpreter &in);

// How to get a ThreadSanitizer build, for reports of runs without one.
std::string howToGetTsanBuild();

} // namespace ftready
