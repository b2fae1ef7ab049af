#include "ftready/interpreters.h"

#include "ftready/process.h"

#include <cstdlib>
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
  static const char *script = R"PY(
import json, sys, sysconfig
args = sysconfig.get_config_var('CONFIG_ARGS') or ''
print(json.dumps({
  'version': sys.version.split()[0],
  'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),
  'gil': sys._is_gil_enabled() if hasattr(sys, '_is_gil_enabled') else True,
  'tsan': 'with-thread-sanitizer' in args,
  'include': sysconfig.get_path('include'),
  'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX') or '',
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
  try {
    auto j = nlohmann::json::parse(r.out);
    Interpreter in;
    in.path = path;
    in.version = j.at("version").get<std::string>();
    in.gil_disabled_build = j.at("ft").get<bool>();
    in.gil_enabled_at_run = j.at("gil").get<bool>();
    in.tsan = j.at("tsan").get<bool>();
    in.include_dir = j.at("include").get<std::string>();
    in.ext_suffix = j.at("ext_suffix").get<std::string>();
    return in;
  } catch (const std::exception &) {
    if (error)
      *error = path + " answered something other than a CPython probe";
    return std::nullopt;
  }
}

} // namespace ftready
