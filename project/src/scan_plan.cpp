// From a build to what the analyzer scans, and what of its findings are
// vendored or Cython-level.
#include "ftready/project/project.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace ftready::project {

ScanPlan scanPlan(const ProjectBuild &b) {
  ScanPlan plan;
  plan.compile_commands_dir = b.compile_commands_dir;
  plan.root = b.tree;
  std::set<std::string> seen;
  std::string prefix = b.tree + "/";
  for (const auto &u : b.units)
    if (u.file.rfind(prefix, 0) == 0 && fs::exists(u.file) &&
        seen.insert(u.file).second)
      plan.files.push_back(u.file);
  return plan;
}

unsigned markVendored(std::vector<Finding> &findings, const ProjectBuild &b) {
  unsigned n = 0;
  for (auto &f : findings) {
    if (f.status == Status::Suppressed || f.location.file.empty() ||
        fs::path(f.location.file).is_absolute())
      continue;
    if (isVendored(b.tree, f.location.file)) {
      f.status = Status::Vendored;
      ++n;
    }
  }
  return n;
}

Location definitionOf(const ProjectBuild &b, const ExtensionModule &m,
                      const std::string &name) {
  // "name(" on a line that does not end a declaration or a call.
  const std::regex def("(^|[^A-Za-z0-9_])" + name + R"(\s*\([^;]*$)");
  for (const auto &src : m.sources) {
    std::ifstream in(src);
    unsigned n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (line.find(name) == std::string::npos || !std::regex_search(line, def))
        continue;
      std::string orig = toOriginal(b, src);
      fs::path rel = fs::path(orig).lexically_relative(b.source_root);
      return {rel.empty() || rel.native().rfind("..", 0) == 0 ? orig
                                                              : rel.string(),
              n, 0};
    }
  }
  return {};
}

std::vector<Finding> cythonDirectiveFindings(const std::string &root) {
  std::vector<Finding> out;
  for (const auto &c : cythonSources(root)) {
    if (c.freethreading_compatible)
      continue;
    Finding f;
    f.rule = "FT004";
    f.severity = Severity::Warning;
    f.location = {c.file, c.directive_line ? c.directive_line : 1, 1};
    f.message = c.directive_line
                    ? "Cython module declares freethreading_compatible = "
                      "False: importing it re-enables the GIL"
                    : "Cython module does not declare "
                      "freethreading_compatible: importing it re-enables the "
                      "GIL on free-threaded Python";
    f.fix = "once its code is thread-safe, add `# cython: "
            "freethreading_compatible = True` at the top of the .pyx (Cython "
            ">= 3.1), the Cython form of Py_MOD_GIL_NOT_USED";
    f.fingerprint = makeFingerprint(f.rule, f.location.file, "", "cython");
    out.push_back(std::move(f));
  }
  return out;
}

} // namespace ftready::project
