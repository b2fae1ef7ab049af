// What stopped a build, read from its log, and how to get past it.
#include "ftready/project/project.h"

#include <regex>
#include <set>
#include <sstream>

namespace ftready::project {

namespace {

BuildProblem missingHeader(const std::string &header) {
  return {"header '" + header + "' not found",
          "install the Debian -dev package that ships it (`apt-file search "
          "/" +
              header +
              "`), pass its folder with --extra-arg -I<dir> (or "
              "CPPFLAGS=-I<dir>), or use the project's own switch to build its "
              "bundled copy instead of the system library"};
}

BuildProblem missingLibrary(const std::string &lib) {
  return {"library '-l" + lib + "' not found at link time",
          "install the Debian -dev package that ships lib" + lib +
              ".so (often lib" + lib +
              "-dev), pass its folder with "
              "LDFLAGS=-L<dir>, or use the project's own switch to build its "
              "bundled copy"};
}

BuildProblem missingPythonModule(const std::string &module) {
  std::string fix =
      "the build imports '" + module +
      "': ftready builds offline, without build isolation, with the managed "
      "interpreter; make it importable there (PYTHONPATH) or build with "
      "--build-cmd";
  if (module == "Cython" || module.rfind("Cython.", 0) == 0)
    fix = "the build needs Cython (3.1 or later for free-threading) "
          "importable by the managed interpreter; Debian 12's cython3 is "
          "0.29, for its own Python: commit the generated C, point PYTHONPATH "
          "at a Cython 3.1 source tree, or build with --build-cmd";
  return {"Python module '" + module + "' not available to the build", fix};
}

} // namespace

std::vector<BuildProblem> diagnoseBuildLog(const std::string &log) {
  static const std::regex clangHeader(
      R"(fatal error: '([^']+)' file not found)");
  static const std::regex gccHeader(
      R"(fatal error: ([^:\s]+): No such file or directory)");
  static const std::regex library(R"(cannot find -l([A-Za-z0-9_+.-]+))");
  static const std::regex pyModule(
      R"(ModuleNotFoundError: No module named '([^']+)')");
  static const std::regex compileError(R"(^(\S+:\d+:\d+: error: .*)$)");
  std::vector<BuildProblem> out;
  std::set<std::string> seen;
  auto add = [&](BuildProblem p) {
    if (seen.insert(p.what).second)
      out.push_back(std::move(p));
  };
  std::istringstream in(log);
  unsigned otherErrors = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, clangHeader) ||
        std::regex_search(line, m, gccHeader))
      add(missingHeader(m[1]));
    else if (std::regex_search(line, m, library))
      add(missingLibrary(m[1]));
    else if (std::regex_search(line, m, pyModule))
      add(missingPythonModule(m[1]));
    else if (std::regex_search(line, m, compileError) && otherErrors++ < 3)
      add({"compiler error: " + std::string(m[1]),
           "the code does not compile for this Python with clang; fix it, or "
           "pass the defines it needs with --extra-arg/CFLAGS"});
  }
  return out;
}

} // namespace ftready::project
