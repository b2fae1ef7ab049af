// The one place that understands a user's project: how it builds, what its
// build compiles (compile commands), which extension modules it produces and
// from which sources, and which of its code is vendored. scan, stress and
// check all see the project through this.
#pragma once

#include "ftready/work_dir.h"

#include "ftready/finding.h"
#include "ftready/interpreters.h"

#include <string>
#include <vector>

namespace ftready::project {

enum class BuildKind {
  SetupPy,             // setup.py
  PyprojectSetuptools, // pyproject.toml, build-backend setuptools
  Command,             // --build-cmd
  CompileDatabase,     // an existing compile_commands.json (meson, CMake)
  LooseSources,        // C files with a PyInit_ and no build system
  Unsupported,         // another build backend, with no compile database
};
const char *toString(BuildKind k);

// What kind of build the folder has (or Command/CompileDatabase when given).
// `why` says what was seen, for Unsupported ("build-backend mesonpy").
BuildKind detectBuildKind(const std::string &project, std::string *why);

// --build-cmd wins, then --compile-commands, then what the folder has.
BuildKind chooseBuildKind(const std::string &project,
                          const std::string &buildCmd,
                          const std::string &compdbDir, std::string *why);

// The project's build copy lives in a private temporary folder (a failed
// build leaves nothing behind).
using ftready::WorkDir;

// One compiler invocation that compiled one source.
struct CompileUnit {
  std::string file;      // absolute
  std::string directory; // where the compiler ran
  std::vector<std::string> arguments;
  std::string output; // the object file, if named
  int exit_code = 0;  // the compiler's: non-zero, the build skipped it
};

struct ExtensionModule {
  std::string name;                 // dotted import name
  std::string path;                 // the built .so
  std::string import_dir;           // put on sys.path to import `name`
  std::vector<std::string> sources; // absolute, as compiled
  // Built with -fsanitize=thread (false for a compile database's own build
  // without it: races in it cannot be seen).
  bool tsan_instrumented = true;
};

// A C or C++ source, by its extension (.c, .cc, .cpp, .cxx, .c++, .C).
bool isSourceFile(const std::string &path);

// Does the .so call into ThreadSanitizer's runtime (__tsan_*)?
bool isTsanInstrumented(const std::string &soPath);

// Something that stopped the build, in words a maintainer can act on.
struct BuildProblem {
  std::string what; // "header 'zdict.h' not found"
  std::string fix;  // "install the Debian -dev package that ships it ..."
};

struct BuildRequest {
  std::string project;                 // the user's tree; never written to
  BuildKind kind = BuildKind::SetupPy; // from detectBuildKind
  std::string build_cmd;               // for Command
  std::string compdb_dir;              // for CompileDatabase
  // For LooseSources: the files or folders to build (default: project).
  std::vector<std::string> sources;
  Interpreter interpreter;          // built for it (TSan when it is)
  std::string work_dir;             // the copy, logs, compile database
  std::string wrapper;              // the ftready-cc executable
  std::vector<std::string> cflags;  // after the project's (CFLAGS)
  std::vector<std::string> ldflags; // link flags (the shims)
  double timeout_seconds = 900;
};

// A request for `project` built for `interpreter` in `workDir` through the
// `wrapper`: the kind chosen by chooseBuildKind (`why` says why it is
// Unsupported, when it is).
BuildRequest requestFor(const std::string &project, const std::string &buildCmd,
                        const std::string &compdbDir,
                        const Interpreter &interpreter,
                        const std::string &workDir, const std::string &wrapper,
                        std::string *why);

struct ProjectBuild {
  BuildKind kind = BuildKind::SetupPy;
  bool ok = false;         // the build command succeeded
  std::string source_root; // the user's tree, absolute
  std::string tree;        // where it was built (a copy), absolute
  std::vector<CompileUnit> units;
  std::vector<ExtensionModule> modules;
  std::vector<BuildProblem> problems;
  std::string log;                  // the build's output (tail)
  std::string compile_commands_dir; // holds compile_commands.json
};

// Runs the project's own build once, in a copy under request.work_dir, with
// the compiler wrapped so that every compile and link command is recorded;
// writes compile_commands.json. Never throws for a failing build: `ok` and
// `problems` say what happened.
ProjectBuild build(const BuildRequest &request);

// The recorded invocations (JSON lines of ftready-cc) as compile units and
// extension modules: the .so files of successful link commands that export
// their PyInit_<name>. Lines that are not records are skipped.
void readCompileLog(const std::string &logPath, ProjectBuild &out);

// Writes out.units as compile_commands.json into `dir`.
bool writeCompileDatabase(const ProjectBuild &out, const std::string &dir,
                          std::string *error);

// Reads an existing compile_commands.json (meson, CMake) into units.
bool readCompileDatabase(const std::string &dir, ProjectBuild &out,
                         std::string *error);

// Problems a build log shows (missing header, library, Python module,
// compiler error), each with how to fix it.
std::vector<BuildProblem> diagnoseBuildLog(const std::string &log);

// Environment variables setup.py reads (os.environ.get("X"), os.getenv):
// the switches a project offers, such as one that links a system library
// instead of a bundled copy.
std::vector<std::string> environmentSwitches(const std::string &project);

// The dotted import name and sys.path entry of a built extension: the file
// name up to its first dot, under every parent folder with an __init__.py.
ExtensionModule moduleOf(const std::string &soPath);

// Vendored code: bundled copies of other projects (pythoncapi_compat.h,
// a vendored C library with its own licence, folders named vendor,
// third_party, ...). `relative` is relative to `root`.
bool isVendored(const std::string &root, const std::string &relative);

// The C/C++ sources of the tree the build did not compile (nor include, as
// `included` lists), relative to `root`; .git and build folders skipped.
std::vector<std::string>
notBuiltSources(const std::string &root, const std::vector<CompileUnit> &units,
                const std::vector<std::string> &included);

// `path` in the build copy as the user's own file (unchanged if outside).
std::string toOriginal(const ProjectBuild &b, const std::string &path);

// .pyx files of the tree and whether each declares
// `freethreading_compatible = True` (the Cython form of Py_MOD_GIL_NOT_USED).
struct CythonSource {
  std::string file; // relative to root
  bool freethreading_compatible = false;
  unsigned directive_line = 0; // 0: no directive
};
std::vector<CythonSource> cythonSources(const std::string &root);

// What to scan for a build: exactly the translation units it compiled
// (under its tree), with its compile database; findings relative to the
// tree, which mirrors the user's folder.
struct ScanPlan {
  std::vector<std::string> files;
  std::string compile_commands_dir;
  std::string root;
};
ScanPlan scanPlan(const ProjectBuild &b);

// Marks findings in vendored code (paths relative to b.tree) Vendored.
unsigned markVendored(std::vector<Finding> &findings, const ProjectBuild &b);

// Where C function `name` is defined among the module's sources (file
// relative to the user's tree, line); an empty file when it is not found.
// Places run-time findings that have no stack, such as the GIL coming back
// in PyInit_<name>.
Location definitionOf(const ProjectBuild &b, const ExtensionModule &m,
                      const std::string &name);

// FT004 for .pyx modules without `freethreading_compatible = True`.
std::vector<Finding> cythonDirectiveFindings(const std::string &root);

} // namespace ftready::project
