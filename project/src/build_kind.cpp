#include "ftready/project/project.h"

#include <toml++/toml.h>

#include <cerrno>
#include <csignal>
#include <stdlib.h>
#include <unistd.h>
#include <vector>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace ftready::project {

const char *toString(BuildKind k) {
  switch (k) {
  case BuildKind::SetupPy:
    return "setup.py";
  case BuildKind::PyprojectSetuptools:
    return "pyproject.toml (setuptools)";
  case BuildKind::Command:
    return "build command";
  case BuildKind::CompileDatabase:
    return "compile_commands.json";
  case BuildKind::LooseSources:
    return "C sources (no build system)";
  case BuildKind::Unsupported:
    return "unsupported build";
  }
  return "unsupported build";
}

BuildKind chooseBuildKind(const std::string &project,
                          const std::string &buildCmd,
                          const std::string &compdbDir, std::string *why) {
  if (!buildCmd.empty())
    return BuildKind::Command;
  if (!compdbDir.empty())
    return BuildKind::CompileDatabase;
  return detectBuildKind(project, why);
}

BuildRequest requestFor(const std::string &project, const std::string &buildCmd,
                        const std::string &compdbDir,
                        const Interpreter &interpreter,
                        const std::string &workDir, const std::string &wrapper,
                        std::string *why) {
  BuildRequest r;
  r.project = project;
  r.kind = chooseBuildKind(project, buildCmd, compdbDir, why);
  r.build_cmd = buildCmd;
  r.compdb_dir = compdbDir;
  r.interpreter = interpreter;
  r.work_dir = workDir;
  r.wrapper = wrapper;
  return r;
}

namespace {

// Folders "<prefix>-<pid>-XXXXXX" whose process is gone: a run killed with
// SIGKILL could not remove its own, the next one does.
void removeOrphans(const std::string &prefix) {
  std::error_code ec;
  std::string start = prefix + "-";
  for (const auto &e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(start, 0) != 0)
      continue;
    std::string rest = name.substr(start.size());
    size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 ||
        rest.find_first_not_of("0123456789") != dash)
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
    if (::kill(pid, 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

} // namespace

WorkDir::WorkDir(const std::string &prefix) {
  removeOrphans(prefix);
  std::string pattern =
      (fs::temp_directory_path() /
       (prefix + "-" + std::to_string(::getpid()) + "-XXXXXX"))
          .string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()))
    path_ = buf.data();
  else
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a folder in " +
                                fs::temp_directory_path().string());
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (!path_.empty())
    fs::remove_all(path_, ec);
}

BuildKind detectBuildKind(const std::string &project, std::string *why) {
  fs::path root(project);
  if (fs::exists(root / "setup.py"))
    return BuildKind::SetupPy;
  fs::path py = root / "pyproject.toml";
  if (fs::exists(py)) {
    std::string backend;
    try {
      auto doc = toml::parse_file(py.string());
      backend = doc["build-system"]["build-backend"].value_or(std::string());
    } catch (const toml::parse_error &e) {
      if (why)
        *why = py.string() + ": " + std::string(e.description());
      return BuildKind::Unsupported;
    }
    // PEP 517: no build-backend means setuptools' legacy backend.
    if (backend.empty() || backend.rfind("setuptools", 0) == 0)
      return BuildKind::PyprojectSetuptools;
    if (fs::exists(root / "compile_commands.json") ||
        fs::exists(root / "build" / "compile_commands.json"))
      return BuildKind::CompileDatabase;
    if (why)
      *why = "build-backend " + backend +
             ": build it yourself and pass --compile-commands DIR, or give "
             "--build-cmd";
    return BuildKind::Unsupported;
  }
  if (fs::exists(root / "compile_commands.json"))
    return BuildKind::CompileDatabase;
  return BuildKind::LooseSources;
}

} // namespace ftready::project
