// The project layer without a build: compile logs, build-log diagnosis,
// vendored code, module names, sources the build never compiled, Cython's
// directive, and the compiler wrapper's records.
#include "ftready/process.h"
#include "ftready/project/project.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ftready::project;

namespace {

class Tree {
public:
  Tree() {
    root_ = (fs::temp_directory_path() /
             ("ftready-project-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter_++)))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~Tree() { fs::remove_all(root_); }
  void write(const std::string &rel, const std::string &text = "") {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string path(const std::string &rel = "") const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }

private:
  static inline int counter_ = 0;
  std::string root_;
};

TEST(CompileLog, UnitsKeepTheirOwnSourceAndFlags) {
  Tree t;
  nlohmann::json compile = {
      {"directory", t.path()},
      {"arguments",
       {"clang-16", "-Isrc", "-DX=1", "-c", "src/a.c", "-o", "build/a.o"}}};
  nlohmann::json both = {
      {"directory", t.path("sub")},
      {"arguments", {"clang-16", "-shared", "b.c", "c.cpp", "-o", "m.so"}}};
  nlohmann::json noise = {{"directory", t.path()},
                          {"arguments", {"clang-16", "--version"}}};
  t.write("log.jsonl", compile.dump() + "\n" + both.dump() + "\n" +
                           noise.dump() + "\nnot json\n");
  ProjectBuild b;
  readCompileLog(t.path("log.jsonl"), b);
  ASSERT_EQ(b.units.size(), 3u);
  EXPECT_EQ(b.units[0].file, t.path("src/a.c"));
  EXPECT_EQ(b.units[0].output, t.path("build/a.o"));
  EXPECT_EQ(b.units[0].arguments,
            (std::vector<std::string>{"clang-16", "-Isrc", "-DX=1", "-c",
                                      "src/a.c", "-o", "build/a.o"}));
  EXPECT_EQ(b.units[1].file, t.path("sub/b.c"));
  // The other source of a two-source command is not in this unit's line.
  EXPECT_EQ(std::count(b.units[1].arguments.begin(), b.units[1].arguments.end(),
                       "c.cpp"),
            0);
  EXPECT_EQ(b.units[2].file, t.path("sub/c.cpp"));
  EXPECT_TRUE(b.modules.empty()); // m.so was never written
}

TEST(CompileLog, DatabaseRoundTrips) {
  Tree t;
  ProjectBuild b;
  b.units.push_back({t.path("a.c"), t.path(), {"cc", "-c", "a.c"}, ""});
  std::string err;
  ASSERT_TRUE(writeCompileDatabase(b, t.path("db"), &err)) << err;
  ProjectBuild back;
  ASSERT_TRUE(readCompileDatabase(t.path("db"), back, &err)) << err;
  ASSERT_EQ(back.units.size(), 1u);
  EXPECT_EQ(back.units[0].file, t.path("a.c"));
  EXPECT_EQ(back.units[0].arguments, b.units[0].arguments);
  EXPECT_FALSE(readCompileDatabase(t.path("nowhere"), back, &err));
  EXPECT_NE(err.find("no compile_commands.json"), std::string::npos);
  t.write("bad/compile_commands.json", "{\"not\": \"a list\"}");
  EXPECT_FALSE(readCompileDatabase(t.path("bad"), back, &err));
  // Entries of the wrong shape are a clear error, not an exception.
  t.write("shape/compile_commands.json",
          "[{\"directory\": 3, \"file\": \"a.c\", \"arguments\": [1]}]");
  EXPECT_FALSE(readCompileDatabase(t.path("shape"), back, &err));
  EXPECT_NE(err.find("not a compile command"), std::string::npos) << err;
}

TEST(BuildLog, NamesWhatIsMissingAndHowToFixIt) {
  auto p = diagnoseBuildLog(
      "c-ext/x.c:3:10: fatal error: 'zdict.h' file not found\n"
      "src/y.c:1:10: fatal error: xxhash.h: No such file or directory\n"
      "/usr/bin/ld: cannot find -lbrotlienc: No such file or directory\n"
      "ModuleNotFoundError: No module named 'Cython'\n"
      "ModuleNotFoundError: No module named 'setuptools_scm'\n"
      "a.c:5:1: error: unknown type name 'BROTLI_INTERNAL'\n"
      "RuntimeError: RapidJSON sources not found: see README\n"
      "clang: error: no such file or directory: 'deps/xxhash/xxhash.c'\n");
  ASSERT_EQ(p.size(), 8u);
  EXPECT_EQ(p[6].what, "the build stopped: RuntimeError: RapidJSON sources "
                       "not found: see README");
  EXPECT_EQ(p[7].what, "source 'deps/xxhash/xxhash.c' is not in the tree");
  EXPECT_NE(p[7].fix.find("switch"), std::string::npos);
  EXPECT_EQ(p[0].what, "header 'zdict.h' not found");
  EXPECT_NE(p[0].fix.find("-dev package"), std::string::npos);
  EXPECT_NE(p[0].fix.find("--extra-arg -I"), std::string::npos);
  EXPECT_EQ(p[1].what, "header 'xxhash.h' not found");
  EXPECT_EQ(p[2].what, "library '-lbrotlienc' not found at link time");
  EXPECT_NE(p[2].fix.find("libbrotlienc-dev"), std::string::npos);
  EXPECT_EQ(p[3].what, "Python module 'Cython' not available to the build");
  EXPECT_NE(p[3].fix.find("Cython (3.1 or later"), std::string::npos);
  EXPECT_EQ(p[4].what,
            "Python module 'setuptools_scm' not available to the build");
  EXPECT_EQ(p[5].what, "compiler error: a.c:5:1: error: unknown type name "
                       "'BROTLI_INTERNAL'");
  EXPECT_TRUE(diagnoseBuildLog("running build_ext\n").empty());
}

TEST(BuildLog, EnvironmentSwitchesOfSetupPy) {
  Tree t;
  t.write("setup.py", "import os\nif os.environ.get('XXHASH_LINK_SO'):\n"
                      "  pass\nx = os.getenv(\"ZSTD_EXTERNAL\")\n"
                      "y = os.environ['CC']\nz = os.environ.get('CC')\n");
  EXPECT_EQ(
      environmentSwitches(t.path()),
      (std::vector<std::string>{"XXHASH_LINK_SO", "ZSTD_EXTERNAL", "CC"}));
  EXPECT_TRUE(environmentSwitches(t.path("none")).empty());
}

TEST(Vendored, BundledCopiesAreRecognisedAndTheProjectIsNot) {
  Tree t;
  t.write("LICENSE");
  t.write("zstd/LICENSE");
  t.write("zstd/lib/zstd.c");
  t.write("pkg/__init__.py");
  t.write("pkg/LICENSE");
  t.write("pkg/_speedups.c");
  t.write("src/pythoncapi_compat.h");
  t.write("src/third_party/x.c");
  t.write("src/mod.c");
  EXPECT_TRUE(isVendored(t.path(), "zstd/lib/zstd.c"));
  EXPECT_TRUE(isVendored(t.path(), "src/pythoncapi_compat.h"));
  EXPECT_TRUE(isVendored(t.path(), "src/third_party/x.c"));
  EXPECT_FALSE(isVendored(t.path(), "src/mod.c"));
  EXPECT_FALSE(isVendored(t.path(), "pkg/_speedups.c")); // a package
  EXPECT_FALSE(isVendored(t.path(), "../elsewhere/zstd.c"));
  EXPECT_FALSE(isVendored(t.path(), "/usr/include/zstd.h"));

  std::vector<ftready::Finding> findings(3);
  findings[0].location.file = "zstd/lib/zstd.c";
  findings[1].location.file = "src/mod.c";
  findings[2].location.file = "src/pythoncapi_compat.h";
  findings[2].status = ftready::Status::Suppressed;
  ProjectBuild b;
  b.tree = t.path();
  EXPECT_EQ(markVendored(findings, b), 1u);
  EXPECT_EQ(findings[0].status, ftready::Status::Vendored);
  EXPECT_EQ(findings[1].status, ftready::Status::StaticOnly);
  EXPECT_EQ(findings[2].status, ftready::Status::Suppressed);
}

TEST(Modules, DottedNameFromPackageFolders) {
  Tree t;
  t.write("src/pkg/__init__.py");
  t.write("src/pkg/sub/__init__.py");
  t.write("src/pkg/sub/_fast.cpython-313t-x86_64-linux-gnu.so");
  t.write("top.cpython-313t-x86_64-linux-gnu.so");
  auto m =
      moduleOf(t.path("src/pkg/sub/_fast.cpython-313t-x86_64-linux-gnu.so"));
  EXPECT_EQ(m.name, "pkg.sub._fast");
  EXPECT_EQ(m.import_dir, t.path("src"));
  auto top = moduleOf(t.path("top.cpython-313t-x86_64-linux-gnu.so"));
  EXPECT_EQ(top.name, "top");
  EXPECT_EQ(top.import_dir, t.path());
}

TEST(NotBuilt, SourcesNeitherCompiledNorIncluded) {
  Tree t;
  t.write("src/a.c");
  t.write("src/unity_part.c");
  t.write("tools/cli.c");
  t.write("python2/old.c");
  t.write(".git/x.c");
  t.write("build/temp/y.c");
  std::vector<CompileUnit> units = {{t.path("src/a.c"), t.path(), {}, ""}};
  auto out = notBuiltSources(t.path(), units, {t.path("src/unity_part.c")});
  EXPECT_EQ(out, (std::vector<std::string>{"python2/old.c", "tools/cli.c"}));
}

TEST(Cython, FreethreadingDirective) {
  Tree t;
  t.write("a.pyx", "# cython: language_level=3, freethreading_compatible=True\n"
                   "def f(): pass\n");
  t.write("b.pyx", "# comment\n# cython: freethreading_compatible = False\n");
  t.write("c.pyx", "def g(): pass\n# cython: freethreading_compatible=True\n");
  auto srcs = cythonSources(t.path());
  ASSERT_EQ(srcs.size(), 3u);
  EXPECT_TRUE(srcs[0].freethreading_compatible);
  EXPECT_EQ(srcs[0].directive_line, 1u);
  EXPECT_FALSE(srcs[1].freethreading_compatible);
  EXPECT_EQ(srcs[1].directive_line, 2u);
  // A directive after code is not a directive.
  EXPECT_FALSE(srcs[2].freethreading_compatible);
  EXPECT_EQ(srcs[2].directive_line, 0u);
  auto findings = cythonDirectiveFindings(t.path());
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].rule, "FT004");
  EXPECT_EQ(findings[0].location.file, "b.pyx");
  EXPECT_EQ(findings[0].location.line, 2u);
  EXPECT_EQ(findings[1].location.file, "c.pyx");
  EXPECT_EQ(findings[1].location.line, 1u);
  // setup.py's compiler_directives cover every .pyx.
  t.write("setup.py", "directives = {'freethreading_compatible': True}\n");
  EXPECT_EQ(cythonDirectiveFindings(t.path()).size(), 1u); // b says False
}

TEST(BuildKind, FromTheFolder) {
  Tree t;
  std::string why;
  EXPECT_EQ(detectBuildKind(t.path(), &why), BuildKind::LooseSources);
  t.write("pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n");
  EXPECT_EQ(detectBuildKind(t.path(), &why), BuildKind::PyprojectSetuptools);
  t.write("pyproject.toml", "[build-system]\nbuild-backend = \"mesonpy\"\n");
  EXPECT_EQ(detectBuildKind(t.path(), &why), BuildKind::Unsupported);
  EXPECT_NE(why.find("mesonpy"), std::string::npos);
  t.write("pyproject.toml", "[build-system\n");
  EXPECT_EQ(detectBuildKind(t.path(), &why), BuildKind::Unsupported);
  t.write("setup.py");
  EXPECT_EQ(detectBuildKind(t.path(), &why), BuildKind::SetupPy);
  EXPECT_EQ(chooseBuildKind(t.path(), "make", "", &why), BuildKind::Command);
  EXPECT_EQ(chooseBuildKind(t.path(), "", "b", &why),
            BuildKind::CompileDatabase);
}

// A run killed with SIGKILL cannot remove its folder: the next run removes
// the folders of processes that are gone, and only those.
TEST(WorkDir, OrphansOfDeadProcessesAreRemoved) {
  auto gone =
      ftready::runProcess({"sh", "-c", "echo $$"}, ftready::withTimeout(30));
  std::string deadPid = gone.out.substr(0, gone.out.find('\n'));
  fs::path tmp = fs::temp_directory_path();
  // Any ftready folder of a dead process goes, whatever it was for (a
  // killed check leaves a stress run's folder too); a live one stays, and
  // so does a folder that only looks like one (a user's report folder).
  fs::path orphan = tmp / ("ftready-check-" + deadPid + "-abcdef");
  fs::path otherKind = tmp / ("ftready-run-" + deadPid + "-ghijkl");
  fs::path alive =
      tmp / ("ftready-check-" + std::to_string(::getpid()) + "-abcdef");
  fs::path lookalike = tmp / ("ftready-report-" + deadPid + "-06-01");
  fs::path notMkdtemp = tmp / ("ftready-check-" + deadPid + "-keep");
  for (const auto &p :
       {orphan / "tree", otherKind, alive, lookalike, notMkdtemp})
    fs::create_directories(p);
  {
    WorkDir w("ftready-scan");
    EXPECT_FALSE(fs::exists(orphan));
    EXPECT_FALSE(fs::exists(otherKind));
    EXPECT_TRUE(fs::exists(alive));
    EXPECT_TRUE(fs::exists(lookalike));
    EXPECT_TRUE(fs::exists(notMkdtemp));
  }
  fs::remove_all(lookalike);
  fs::remove_all(notMkdtemp);
  fs::remove_all(alive);
}

TEST(WorkDir, RemovedWithEverythingInIt) {
  std::string path;
  {
    WorkDir w("ftready-project-test");
    path = w.path();
    std::ofstream(path + "/f") << "x";
    fs::create_directories(path + "/a/b");
    EXPECT_TRUE(fs::is_directory(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(Wrapper, RecordsEveryArgumentExactlyThenRunsTheCompiler) {
  Tree t;
  std::string log = t.path("cc.jsonl");
  auto r =
      ftready::runProcess({FTREADY_CC_WRAPPER, "sh", "-c",
                           "printf 'ran %s\\n' \"$0\"", "a\"b\\c\td"},
                          ftready::withTimeout(30, {{"FTREADY_CC_LOG", log}}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran a\"b\\c\td\n");
  std::ifstream in(log);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["arguments"],
            (std::vector<std::string>{"sh", "-c", "printf 'ran %s\\n' \"$0\"",
                                      "a\"b\\c\td"}));
  EXPECT_EQ(j["directory"], fs::current_path().string());
  EXPECT_EQ(j["exit"], 0);
  // The compiler's status is kept, and recorded: a failed compile is one
  // the build skipped.
  auto failing =
      ftready::runProcess({FTREADY_CC_WRAPPER, "sh", "-c", "exit 3"},
                          ftready::withTimeout(30, {{"FTREADY_CC_LOG", log}}));
  EXPECT_EQ(failing.exit_code, 3);
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["exit"], 3);
  // Through a link named ftready-cc-COMPILER: one word for CC/LDSHARED.
  fs::create_symlink(FTREADY_CC_WRAPPER, t.path("ftready-cc-sh"));
  auto linked = ftready::runProcess(
      {t.path("ftready-cc-sh"), "-c", "printf 'linked %s\\n' \"$0\"", "x y"},
      ftready::withTimeout(30, {{"FTREADY_CC_LOG", log}}));
  EXPECT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_EQ(linked.out, "linked x y\n");
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["arguments"],
            (std::vector<std::string>{"sh", "-c",
                                      "printf 'linked %s\\n' \"$0\"", "x y"}));
  auto missing = ftready::runProcess({FTREADY_CC_WRAPPER, "/nonexistent/cc"},
                                     ftready::withTimeout(30));
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("cannot run"), std::string::npos);
}

} // namespace
