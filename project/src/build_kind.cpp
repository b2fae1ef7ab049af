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
