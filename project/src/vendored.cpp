// Vendored code, sources the build never compiled, and Cython's
// free-threading directive.
#include "ftready/project/project.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace ftready::project {

namespace {

bool hasOwnLicence(const fs::path &dir) {
  static const char *names[] = {"LICENSE", "LICENSE.txt", "LICENSE.md",
                                "LICENCE", "COPYING",     "COPYING.txt"};
  for (const char *n : names)
    if (fs::exists(dir / n))
      return true;
  return false;
}

bool skippedFolder(const std::string &name) {
  return (!name.empty() && name[0] == '.') || name == "build" ||
         name == "dist" || name == "__pycache__";
}

// Every regular file of the project's tree, version-control and build
// folders left out.
void forEachProjectFile(const std::string &root,
                        const std::function<void(const fs::path &)> &visit) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    if (it->is_directory() && skippedFolder(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file())
      visit(it->path());
  }
}

} // namespace

bool isVendored(const std::string &root, const std::string &relative) {
  // Copies of other projects' headers kept verbatim in extensions.
  static const std::set<std::string> files = {"pythoncapi_compat.h"};
  static const std::set<std::string> folders = {
      "vendor",      "vendored", "third_party", "thirdparty",
      "third-party", "3rdparty", "external",    "extern",
      "deps",        "contrib",  "subprojects", "bundled"};
  fs::path rel = fs::path(relative).lexically_normal();
  if (rel.is_absolute() || rel.empty() || *rel.begin() == "..")
    return false;
  if (files.count(rel.filename().string()))
    return true;
  fs::path dir = fs::path(root);
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    if (std::next(it) == rel.end())
      break; // the file itself
    dir /= *it;
    if (folders.count(it->string()))
      return true;
    // A folder with a licence of its own that is not a Python package: a
    // bundled library (zstd/, lz4/).
    if (hasOwnLicence(dir) && !fs::exists(dir / "__init__.py"))
      return true;
  }
  return false;
}

std::vector<std::string>
notBuiltSources(const std::string &root, const std::vector<CompileUnit> &units,
                const std::vector<std::string> &included) {
  std::set<std::string> used;
  for (const auto &u : units)
    used.insert(fs::path(u.file).lexically_normal().string());
  for (const auto &i : included)
    used.insert(fs::path(i).lexically_normal().string());
  std::vector<std::string> out;
  forEachProjectFile(root, [&](const fs::path &file) {
    if (!isSourceFile(file.string()))
      return;
    std::string abs = fs::absolute(file).lexically_normal().string();
    if (!used.count(abs))
      out.push_back(fs::relative(abs, root).string());
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::string toOriginal(const ProjectBuild &b, const std::string &path) {
  if (!b.tree.empty() && b.tree != b.source_root &&
      path.rfind(b.tree + "/", 0) == 0)
    return b.source_root + path.substr(b.tree.size());
  return path;
}

std::vector<CythonSource> cythonSources(const std::string &root) {
  static const std::regex directive(
      R"(^#\s*cython\s*:.*freethreading_compatible\s*=\s*(True|False))");
  std::vector<CythonSource> out;
  // A project-wide directive in setup.py (compiler_directives=...).
  bool projectWide = false;
  if (std::ifstream setup(fs::path(root) / "setup.py"); setup) {
    std::string text((std::istreambuf_iterator<char>(setup)), {});
    static const std::regex wide(
        R"(['"]freethreading_compatible['"]\s*:\s*True)");
    projectWide = std::regex_search(text, wide);
  }
  forEachProjectFile(root, [&](const fs::path &file) {
    if (file.extension() != ".pyx")
      return;
    CythonSource c;
    c.file = fs::relative(file, root).string();
    c.freethreading_compatible = projectWide;
    std::ifstream in(file);
    unsigned n = 0;
    for (std::string line; std::getline(in, line) && n < 200;) {
      ++n;
      std::smatch m;
      if (std::regex_search(line, m, directive)) {
        c.directive_line = n;
        c.freethreading_compatible = m[1] == "True";
        break;
      }
      // Directives must come before any code.
      if (!line.empty() && line[0] != '#' &&
          line.find_first_not_of(" \t\r") != std::string::npos)
        break;
    }
    out.push_back(std::move(c));
  });
  std::sort(out.begin(), out.end(),
            [](const auto &a, const auto &b) { return a.file < b.file; });
  return out;
}

} // namespace ftready::project
