// What stopped a build, read from its log, and how to get past it.
#include "ftready/project/project.h"

#include <fstream>
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
  static const std::regex pyError(
      R"(^(?:\w+\.)*(\w*(?:Error|Exception)): (.+)$)");
  static const std::regex missingSource(
      R"(error: no such file or directory: '([^']+)')");
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
    else if (std::regex_search(line, m, missingSource))
      add({"source '" + std::string(m[1]) + "' is not in the tree",
           "a bundled library the source package leaves out: install the "
           "system library's Debian -dev package and select it with the "
           "project's own switch (see the build's environment switches)"});
    else if (std::regex_search(line, m, pyModule))
      add(missingPythonModule(m[1]));
    else if (std::regex_match(line, m, pyError) &&
             m[1] != "ModuleNotFoundError")
      add({"the build stopped: " + std::string(m[1]) + ": " +
               std::string(m[2]).substr(0, 300),
           "supply what the project's build asks for (a Debian -dev package, "
           "the project's own switch), or give --build-cmd"});
    else if (std::regex_search(line, m, compileError) && otherErrors++ < 3)
      add({"compiler error: " + std::string(m[1]),
           "the code does not compile for this Python with clang; fix it, or "
           "pass the defines it needs with --extra-arg/CFLAGS"});
  }
  return out;
}

std::vector<std::string> environmentSwitches(const std::string &project) {
  static const std::regex env(
      R"((?:os\.environ\.get|os\.getenv|os\.environ\.setdefault)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]|os\.environ\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])");
  std::ifstream in(project + "/setup.py");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), env);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1].matched ? (*it)[1] : (*it)[2];
    if (seen.insert(name).second)
      out.push_back(name);
  }
  return out;
}

} // namespace ftready::project
