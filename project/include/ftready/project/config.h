// [tool.ftready] of a project's pyproject.toml: what the user configured,
// parsed and checked. The command line decides what wins.
#pragma once

#include "ftready/finding.h"

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ftready::project {

struct ToolConfig {
  std::optional<std::string> rules; // "FT001,FT002"
  std::vector<std::string> paths;   // as written, relative to the project
  std::optional<unsigned> threads;
  std::optional<std::string> budget, fail_on, module, build_cmd;
  // A managed flavour (3.13t-tsan), a program on PATH (python3.13t), or a
  // path, relative to the project when it is not absolute.
  std::optional<std::string> python;
  std::set<std::string> modules, exclude_modules;
  bool include_vendored = false;
  std::map<std::string, Severity> severity; // rule -> severity
};

// A pyproject.toml that does not parse, or a [tool.ftready] key with a value
// of the wrong kind: the message names the file and the key.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The [tool.ftready] table of a pyproject.toml's text (`file` names it in
// errors); nullopt when there is none.
std::optional<ToolConfig> parseToolConfig(const std::string &text,
                                          const std::string &file);

} // namespace ftready::project
