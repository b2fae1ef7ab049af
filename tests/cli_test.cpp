// build/ftready as a user meets it: exit codes, one-line errors on bad input,
// and results kept for what could be scanned.
#include "ftready/process.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

ftready::ProcessResult
ftready_(std::vector<std::string> args,
         std::vector<std::pair<std::string, std::string>> env = {}) {
  args.insert(args.begin(), FTREADY_BINARY);
  return ftready::runProcess(args, ftready::withTimeout(300, env));
}

std::string corpus(const std::string &p) {
  return std::string(FTREADY_CORPUS_DIR) + "/" + p;
}

unsigned lines(const std::string &s) {
  return static_cast<unsigned>(std::count(s.begin(), s.end(), '\n'));
}

class TempDir {
public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("ftready-cli-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string &name, const std::string &text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string str() const { return path_.string(); }

private:
  fs::path path_;
  static inline int counter_ = 0;
};

TEST(Cli, VersionPrintsVersionAndInterpreters) {
  auto r = ftready_({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("ftready 0.1.0\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("3.13t-tsan"), std::string::npos) << r.out;
}

TEST(Cli, UnknownSubcommandIsAOneLineUsageError) {
  auto r = ftready_({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(Cli, MissingInterpreterIsAUsageError) {
  auto r = ftready_(
      {"scan", "--python", "/nonexistent/python3", corpus("cache_racy")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/python3"), std::string::npos);
}

// Every command that takes --python refuses an interpreter with the GIL or
// older than 3.13, in one line that names it; a bare name is looked up on
// PATH, a missing managed flavour says how to build it.
TEST(Cli, InterpreterThatIsNotFreeThreadedIsRefused) {
  std::string gil = ftready::findOnPath("python3");
  ASSERT_FALSE(gil.empty());
  for (const auto &cmd : std::vector<std::vector<std::string>>{
           {"scan", "--python", gil, corpus("cache_racy")},
           {"stress", "--python", gil, "--sources",
            corpus("cache_racy") + "/ftcorpus_cache_racy.c", "--module",
            "ftcorpus_cache_racy"},
           {"scan", "--python", "python3", corpus("cache_racy")}}) {
    auto r = ftready_(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd[0];
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_TRUE(r.err.find("older than 3.13") != std::string::npos ||
                r.err.find("is built with the GIL") != std::string::npos)
        << r.err;
  }
  auto r = ftready_({"stress", "--python", "no-such-python3.13t", "x.so"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nor a program on PATH"), std::string::npos) << r.err;
  auto empty = fs::temp_directory_path() /
               ("ftready-cli-empty-cache-" + std::to_string(::getpid()));
  fs::create_directories(empty);
  r = ftready_({"stress", "--python", "3.14t-tsan", "x.so"},
               {{"FTREADY_CACHE", empty.string()}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the managed 3.14t-tsan is not built"),
            std::string::npos)
      << r.err;
  fs::remove_all(empty);
}

// -o to something that is not a regular file (a FIFO here; /dev/null in
// practice) is written in place: the write-then-rename of regular files
// once replaced /dev/null with a regular file when the tests ran as root.
TEST(Cli, OutputToAFifoIsWrittenInPlace) {
  fs::path fifo = fs::temp_directory_path() /
                  ("ftready-cli-fifo-" + std::to_string(::getpid()));
  fs::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK); // a reader, never blocks
  ASSERT_GE(fd, 0);
  auto r = ftready_({"scan", "--format", "json", "-o", fifo.string(),
                     corpus("cache_racy") + "/ftcorpus_cache.c"});
  EXPECT_EQ(r.exit_code, 1) << r.err; // the racy module has findings
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the FIFO was replaced";
  char head[2] = {0, 0};
  EXPECT_EQ(read(fd, head, 1), 1);
  EXPECT_EQ(head[0], '{');
  close(fd);
  fs::remove(fifo);
  EXPECT_FALSE(fs::exists(fifo.string() + ".tmp"));
}

TEST(Cli, UnwritableCacheIsAUsageError) {
  auto r = ftready_({"toolchain", "--build"},
                    {{"FTREADY_CACHE", "/proc/ftready-cache"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/proc/ftready-cache"), std::string::npos) << r.err;
}

TEST(Cli, ToolchainListsTheManagedInterpreters) {
  auto r = ftready_({"toolchain"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3.13t        3.13.5    disabled   no"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("3.13t-tsan   3.13.5    disabled   yes"),
            std::string::npos)
      << r.out;
}

TEST(Cli, ScanExitCodes) {
  EXPECT_EQ(ftready_({"scan", corpus("cache_racy")}).exit_code, 1);
  EXPECT_EQ(ftready_({"scan", corpus("cache_fixed")}).exit_code, 0);
  // With only FT004 on, the one finding is a note: below --fail-on warning,
  // at --fail-on note.
  EXPECT_EQ(ftready_({"scan", "--rules", "FT004", "--fail-on", "warning",
                      corpus("cache_racy")})
                .exit_code,
            0);
  EXPECT_EQ(ftready_({"scan", "--rules", "FT004", "--fail-on", "note",
                      corpus("cache_racy")})
                .exit_code,
            1);
  EXPECT_EQ(
      ftready_({"scan", "--rules", "FT999", corpus("cache_racy")}).exit_code,
      2);
}

TEST(Cli, BadPathsKeepResultsForTheRest) {
  TempDir tmp;
  std::string notC = tmp.file("notes.txt", "hello");
  std::string binary = tmp.file("blob.c", std::string("\x7f"
                                                      "ELF\0\0\0",
                                                      7));
  auto r = ftready_({"scan", "--format", "json", "/nonexistent/dir", notC,
                     binary, corpus("cache_racy")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["findings"].size(), 8u);
  EXPECT_EQ(j["diagnostics"].size(), 3u) << j["diagnostics"].dump();
}

TEST(Cli, EmptyFolderIsAUsageError) {
  TempDir tmp;
  auto r = ftready_({"scan", tmp.str()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no C or C++"), std::string::npos) << r.err;
}

TEST(Cli, SyntaxErrorsAndMissingHeadersStillGiveFindings) {
  TempDir tmp;
  std::string broken = tmp.file(
      "broken.c",
      "#include <Python.h>\n"
      "#include \"missing_header.h\"\n"
      "static long n;\n"
      "static PyObject *bump(PyObject *s, PyObject *a) { n++; return NULL; }\n"
      "static PyObject *bad(PyObject *s, PyObject *a) { return 1 +; }\n"
      "static PyMethodDef m[] = {{\"bump\", bump, METH_NOARGS, 0}, {0}};\n");
  auto r = ftready_({"scan", "--format", "json", broken});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 1u) << r.out;
  EXPECT_EQ(j["findings"][0]["rule"], "FT002");
  EXPECT_EQ(j["findings"][0]["function"], "bump");
  EXPECT_GE(j["diagnostics"].size(), 1u);
}

TEST(Cli, BrokenCompilationDatabaseIsAUsageError) {
  TempDir tmp;
  tmp.file("compile_commands.json", "[{ this is not json");
  auto r = ftready_({"scan", "-p", tmp.str(), corpus("cache_racy")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("compile_commands.json"), std::string::npos) << r.err;
}

TEST(Cli, SuppressionsAreCountedNotLost) {
  TempDir tmp;
  std::string src = tmp.file(
      "sup.c", "#include <Python.h>\n"
               "static long a, b, c;\n"
               "static PyObject *f(PyObject *s, PyObject *x) {\n"
               "    a++; // ftready: ignore[FT002] test-only counter\n"
               "    // ftready: ignore-next-line[FT002] also test-only\n"
               "    b++;\n"
               "    c++;\n"
               "    Py_RETURN_NONE;\n"
               "}\n"
               "static PyMethodDef m[] = {{\"f\", f, METH_NOARGS, 0}, {0}};\n");
  auto r = ftready_({"scan", "--format", "json", src});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["summary"]["suppressed"], 2);
  EXPECT_EQ(j["summary"]["warnings"], 1);
  ASSERT_EQ(j["findings"].size(), 3u);
  EXPECT_EQ(j["findings"][0]["status"], "suppressed");
  EXPECT_EQ(j["findings"][0]["suppression_reason"], "test-only counter");
  EXPECT_EQ(j["findings"][2]["status"], "static-only");
  EXPECT_EQ(j["findings"][2]["line"], 7);
}

TEST(Cli, BaselineKeepsOnlyNewFindingsFailing) {
  TempDir tmp;
  fs::copy(corpus("cache_racy"), tmp.str() + "/src");
  std::string source = tmp.str() + "/src/ftcorpus_cache.c";
  std::string sarif = tmp.str() + "/base.sarif";
  auto first = ftready_({"scan", "--no-cache", "--format", "sarif", "-o", sarif,
                         tmp.str() + "/src"});
  EXPECT_EQ(first.exit_code, 1) << first.err;
  auto again =
      ftready_({"scan", "--no-cache", "--baseline", sarif, tmp.str() + "/src"});
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("8 baselined"), std::string::npos) << again.out;
  // A new hazard after the baseline: it alone fails the run.
  std::ofstream(source, std::ios::app)
      << "static long extra_calls;\n"
         "static PyObject *extra(PyObject *s, PyObject *u) {\n"
         "    extra_calls++;\n"
         "    Py_RETURN_NONE;\n"
         "}\n";
  auto grown = ftready_({"scan", "--no-cache", "--format", "json", "--baseline",
                         sarif, tmp.str() + "/src"});
  EXPECT_EQ(grown.exit_code, 1) << grown.out << grown.err;
  auto j = nlohmann::json::parse(grown.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << grown.out;
  std::vector<std::string> failing;
  for (const auto &f : j["findings"])
    if (f["status"] != "baselined")
      failing.push_back(f["rule"].get<std::string>() + " " +
                        f["function"].get<std::string>());
  EXPECT_EQ(failing, std::vector<std::string>{"FT002 extra"}) << grown.out;
  auto unreadable = ftready_(
      {"scan", "--baseline", tmp.str() + "/nope.sarif", corpus("cache_racy")});
  EXPECT_EQ(unreadable.exit_code, 2);
}

TEST(Cli, SarifCarriesWhatCodeScanningNeeds) {
  auto r = ftready_({"scan", "--format", "sarif", "--root", FTREADY_CORPUS_DIR,
                     corpus("cache_racy")});
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], "2.1.0");
  const auto &run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 15u);
  ASSERT_EQ(run["results"].size(), 8u);
  const auto &res = run["results"][0];
  EXPECT_EQ(res["ruleId"], "FT002");
  const auto &loc = res["locations"][0];
  EXPECT_EQ(loc["physicalLocation"]["artifactLocation"]["uri"],
            "cache_racy/ftcorpus_cache.c");
  EXPECT_EQ(loc["physicalLocation"]["region"]["startLine"], 24);
  EXPECT_EQ(loc["logicalLocations"][0]["name"], "Cache_get");
  EXPECT_EQ(res["partialFingerprints"]["ftready/v1"].get<std::string>().size(),
            16u);
  EXPECT_FALSE(res.contains("logicalLocations"));
}

TEST(Cli, UnchangedFilesComeFromTheCacheChangedOnesAreParsedAgain) {
  TempDir tmp, cache;
  std::string src = tmp.file(
      "c.c", "#include <Python.h>\n"
             "static long a;\n"
             "static PyObject *f(PyObject *s, PyObject *x) {\n"
             "    a++;\n"
             "    Py_RETURN_NONE;\n"
             "}\n"
             "static PyMethodDef m[] = {{\"f\", f, METH_NOARGS, 0}, {0}};\n");
  std::vector<std::pair<std::string, std::string>> env = {
      {"FTREADY_CACHE", cache.str()}};
  // FTREADY_CACHE moves the interpreters too: name the real one.
  std::string python = ftready::test::managed("3.13t");
  auto run = [&] {
    auto r =
        ftready_({"scan", "--python", python, "--format", "json", src}, env);
    return nlohmann::json::parse(r.out);
  };
  auto first = run();
  EXPECT_EQ(first["run"]["from cache"], "0 of 1 files");
  EXPECT_EQ(first["findings"].size(), 1u);
  auto second = run();
  EXPECT_EQ(second["run"]["from cache"], "1 of 1 files");
  EXPECT_EQ(second["findings"], first["findings"]);
  // An edit (a second racy write) invalidates the entry.
  tmp.file("c.c",
           "#include <Python.h>\n"
           "static long a, b;\n"
           "static PyObject *f(PyObject *s, PyObject *x) {\n"
           "    a++;\n"
           "    b++;\n"
           "    Py_RETURN_NONE;\n"
           "}\n"
           "static PyMethodDef m[] = {{\"f\", f, METH_NOARGS, 0}, {0}};\n");
  auto third = run();
  EXPECT_EQ(third["run"]["from cache"], "0 of 1 files");
  EXPECT_EQ(third["findings"].size(), 2u);
}

TEST(Cli, CythonGeneratedCIsRecognisedNotDrownedInFindings) {
  TempDir tmp;
  std::string src = tmp.file(
      "gen.c",
      "/* Generated by Cython 3.0.11 */\n"
      "#include <Python.h>\n"
      "static long counter;\n"
      "static PyObject *f(PyObject *s, PyObject *x) {\n"
      "    counter++;\n"
      "    Py_RETURN_NONE;\n"
      "}\n"
      "static PyMethodDef m[] = {{\"f\", f, METH_NOARGS, 0}, {0}};\n"
      "static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, \"gen\", 0, -1, "
      "m};\n"
      "PyMODINIT_FUNC PyInit_gen(void) { return PyModule_Create(&d); }\n");
  auto r = ftready_({"scan", "--format", "json", "--no-cache", src});
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["findings"].size(), 1u) << r.out;
  EXPECT_EQ(j["findings"][0]["rule"], "FT004");
  ASSERT_EQ(j["diagnostics"].size(), 1u);
  EXPECT_NE(j["diagnostics"][0]["message"].get<std::string>().find(
                "Cython-generated C: 1 findings"),
            std::string::npos)
      << j["diagnostics"].dump();
  EXPECT_EQ(r.exit_code, 0); // a note only, at --fail-on warning
}

TEST(Cli, ReportReRendersAndMergesJson) {
  TempDir tmp;
  std::string a = tmp.str() + "/a.json", b = tmp.str() + "/b.json",
              c = tmp.str() + "/c.json";
  ftready_({"scan", "--format", "json", "-o", a, corpus("cache_racy")});
  ftready_(
      {"scan", "--format", "json", "-o", b, corpus("setuptools_project/src")});
  ftready_({"scan", "--format", "json", "-o", c, corpus("cache_racy")});
  auto count = [](const std::string &path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in)["findings"].size();
  };
  size_t racy = count(a), faults = count(b);
  ASSERT_EQ(racy, 8u);
  ASSERT_GT(faults, 0u);
  // Two different reports: every finding of both. The same report again:
  // nothing twice.
  auto r = ftready_({"report", "--format", "json", a, b, c});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto merged = nlohmann::json::parse(r.out)["findings"];
  EXPECT_EQ(merged.size(), racy + faults) << r.out;
  std::set<std::string> files;
  for (const auto &f : merged)
    files.insert(fs::path(f["file"].get<std::string>()).filename().string());
  EXPECT_EQ(files,
            (std::set<std::string>{"ftcorpus_cache.c", "ftcorpus_counter.c"}));
  EXPECT_EQ(ftready_({"report", tmp.str() + "/missing.json"}).exit_code, 2);
}

} // namespace
