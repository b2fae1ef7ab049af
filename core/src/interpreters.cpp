#include "ftready/interpreters.h"

#include "ftready/process.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unistd.h>

namespace ftready {

std::string cacheDirectory() {
  if (const char *c = std::getenv("FTREADY_CACHE"); c && *c)
    return c;
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/ftready";
  throw std::runtime_error("neither FTREADY_CACHE nor HOME is set");
}

const std::vector<std::string> &managedFlavours() {
  static const std::vector<std::string> flavours = {"3.13t", "3.13t-tsan",
                                                    "3.14t", "3.14t-tsan"};
  return flavours;
}

std::string managedInterpreterPath(const std::string &cache,
                                   const std::string &flavour) {
  // python3 exists in every flavour; the debug build's own binary is
  // python3.13td.
  return cache + "/python/" + flavour + "/prefix/bin/python3";
}

std::optional<Interpreter> probeInterpreter(const std::string &path,
                                            std::string *error) {
  // Runs on any Python that can import json, so that an old or GIL-enabled
  // interpreter is named for what it is rather than "did not run".
  static const char *script = R"PY(
import json, sys, sysconfig
def var(name):
    return str(sysconfig.get_config_var(name) or '')
launchers = ('ccache', 'sccache', 'distcc')  # CC="ccache gcc": the compiler is gcc
flags = ' '.join(var(n) for n in ('CONFIG_ARGS', 'PY_CFLAGS', 'PY_LDFLAGS',
                                  'CONFIGURE_CFLAGS', 'CONFIGURE_LDFLAGS'))
print(json.dumps({
  'version': sys.version.split()[0],
  'major': sys.version_info[0],
  'minor': sys.version_info[1],
  'implementation': getattr(sys, 'implementation', None) and sys.implementation.name or 'cpython',
  'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),
  'gil': sys._is_gil_enabled() if hasattr(sys, '_is_gil_enabled') else True,
  'tsan': 'with-thread-sanitizer' in flags or '-fsanitize=thread' in flags,
  'include': sysconfig.get_path('include'),
  'ext_suffix': var('EXT_SUFFIX'),
  'cc': ([w for w in var('CC').split() if w not in launchers] or [''])[0],
  'cxx': ([w for w in var('CXX').split() if w not in launchers] or [''])[0],
}))
)PY";
  if (access(path.c_str(), X_OK) != 0) {
    if (error)
      *error = path + " is not an executable file";
    return std::nullopt;
  }
  auto r = runProcess({path, "-c", script}, withTimeout(120));
  if (r.exit_code != 0) {
    if (error)
      *error = path + " did not run: " + r.err.substr(0, 300);
    return std::nullopt;
  }
  return interpreterFromProbe(path, r.out, error);
}

std::optional<Interpreter> interpreterFromProbe(const std::string &path,
                                                const std::string &answer,
                                                std::string *error) {
  try {
    auto j = nlohmann::json::parse(answer);
    Interpreter in;
    in.path = path;
    in.version = j.at("version").get<std::string>();
    in.major = j.at("major").get<int>();
    in.minor = j.at("minor").get<int>();
    in.implementation = j.at("implementation").get<std::string>();
    in.gil_disabled_build = j.at("ft").get<bool>();
    in.gil_enabled_at_run = j.at("gil").get<bool>();
    in.tsan = j.at("tsan").get<bool>();
    in.include_dir = j.at("include").get<std::string>();
    in.ext_suffix = j.at("ext_suffix").get<std::string>();
    in.cc = j.value("cc", "");
    in.cxx = j.value("cxx", "");
    return in;
  } catch (const std::exception &) {
    if (error)
      *error = path + " answered something other than a CPython probe";
    return std::nullopt;
  }
}

InterpreterVerdict checkFreeThreaded(const Interpreter &in) {
  InterpreterVerdict v;
  const std::string what =
      in.path + " (" + in.implementation + " " + in.version + ")";
  if (in.implementation != "cpython") {
    v.error = what + " is not CPython: ftready checks CPython C extensions "
                     "on a free-threaded CPython 3.13t or 3.14t";
  } else if (in.major != 3 || in.minor < 13) {
    v.error = what + " is older than 3.13, the first CPython with a "
                     "free-threaded build: give a python3.13t or python3.14t";
  } else if (!in.gil_disabled_build) {
    v.error = what +
              " is built with the GIL (Py_GIL_DISABLED is 0): give "
              "its free-threaded build, python" +
              std::to_string(in.major) + "." + std::to_string(in.minor) +
              "t (e.g. actions/setup-python with '" + std::to_string(in.major) +
              "." + std::to_string(in.minor) + "t', or `uv python install " +
              std::to_string(in.major) + "." + std::to_string(in.minor) + "t`)";
  } else if (in.minor > 14) {
    v.warning = what + " is newer than the versions ftready knows (3.13, "
                       "3.14): used as it is";
  }
  return v;
}

std::string tsanSuppressionsBeside(const Interpreter &in) {
  // <home>/prefix/bin/python3 -> <home>/tsan-suppressions.txt
  return (std::filesystem::path(in.path)
              .parent_path()
              .parent_path()
              .parent_path() /
          "tsan-suppressions.txt")
      .string();
}

std::string howToGetTsanBuild() {
  return "for data races, run with a ThreadSanitizer build of the "
         "free-threaded interpreter: the managed one (`ftready toolchain "
         "--build`, or `scripts/toolchain.sh`), or your own CPython source "
         "configured with --disable-gil --with-thread-sanitizer "
         "(`ftready toolchain --cpython-source DIR`)";
}

namespace {

// clang-16 -> clang++-16, gcc-12 -> g++-12, cc -> c++.
std::string cxxTwin(const std::string &c) {
  std::string base = c.substr(c.rfind('/') + 1);
  std::string dir = c.substr(0, c.size() - base.size());
  if (base.rfind("clang", 0) == 0)
    return dir + "clang++" + base.substr(5);
  if (base.rfind("gcc", 0) == 0)
    return dir + "g++" + base.substr(3);
  return dir + "c++";
}

// A compiler by name on PATH: the name itself (the build wrapper is named
// after it), or "" when it is not there.
std::string onPath(const std::string &compiler) {
  if (compiler.empty())
    return "";
  std::string base = compiler.substr(compiler.rfind('/') + 1);
  return findOnPath(base).empty() ? "" : base;
}

} // namespace

Compilers compilersFor(const Interpreter &in, const std::string &fallbackC) {
  Compilers out;
  out.c = onPath(in.cc);
  if (out.c.empty())
    return {fallbackC, cxxTwin(fallbackC)};
  out.cxx = onPath(in.cxx);
  if (out.cxx.empty() || out.cxx == out.c)
    out.cxx = cxxTwin(out.c);
  return out;
}

} // namespace ftready
