// ftready check, the README's main job: the racy corpus module gives the
// reviewed golden report (NOT READY, findings confirmed at run time), its
// fixed twin READY; the report
// folder holds every format; a killed run leaves a report marked incomplete;
// bad input is a clear error and exit 2.
#include "ftready/process.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;

namespace {

std::string corpus(const std::string &p) {
  return std::string(FTREADY_CORPUS_DIR) + "/" + p;
}

std::string scratch(const std::string &name) {
  fs::path p =
      fs::temp_directory_path() /
      ("ftready-check-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  return p.string();
}

nlohmann::json readJson(const std::string &path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

ftready::ProcessResult check(const std::vector<std::string> &args) {
  std::vector<std::string> argv = {FTREADY_BINARY, "-q", "check"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ftready::runProcess(argv, ftready::withTimeout(600));
}

// What a run leaves to chance is dropped (times, call counts, the stacks'
// addresses and threads); everything else must equal the reviewed golden
// report (scripts/update_goldens.sh writes it): verdict, reasons, what was
// exercised, each finding whole and its status. The statuses "confirmed"
// need the stress run: ThreadSanitizer sees these races in the first
// rounds that overlap, and a 30 s run makes over a thousand of them.
nlohmann::json comparable(nlohmann::json j) {
  auto &readiness = j["readiness"];
  for (const char *k : {"budget", "calls", "rounds", "seconds"}) {
    readiness.erase(k);
    for (auto &m : readiness["evidence"]["modules"])
      m.erase(k);
  }
  for (auto &f : j["findings"])
    f.erase("evidence");
  // The interpreter's path is the machine's; the test checks it apart.
  readiness["evidence"].erase("interpreter");
  return j;
}

TEST(Check, RacyModuleGivesTheGoldenReport) {
  std::string out = scratch("racy");
  // 4 threads, as in the golden (the default depends on the cores).
  auto r = check(
      {corpus("cache_racy"), "--budget", "30s", "--threads", "4", "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char *f : {"report.json", "report.sarif", "report.md",
                        "report.html", "junit.xml", "findings.jsonl"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  std::ifstream in(out + "/report.json");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  for (size_t at = 0;
       (at = text.find(corpus("cache_racy"), at)) != std::string::npos;)
    text.replace(at, corpus("cache_racy").size(), "@ROOT@");
  auto live = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(live.is_discarded());
  auto golden = readJson(std::string(FTREADY_TEST_DIR) + "/golden/report.json");
  ASSERT_FALSE(golden.is_discarded());
  EXPECT_EQ(comparable(live).dump(1), comparable(golden).dump(1));
  EXPECT_EQ(live["readiness"]["verdict"], "NOT READY");
  EXPECT_NE(r.out.find("verdict: NOT READY"), std::string::npos);
  std::string interpreter = live["readiness"]["evidence"]["interpreter"];
  EXPECT_EQ(interpreter,
            "CPython " +
                ftready::probeInterpreter(ftready::test::managed("3.13t-tsan"))
                    ->version +
                " free-threaded, ThreadSanitizer (" +
                ftready::test::managed("3.13t-tsan") + ")");
  fs::remove_all(out);
}

TEST(Check, FixedTwinIsReady) {
  std::string out = scratch("fixed");
  auto r = check({corpus("cache_fixed"), "--budget", "20s", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "READY") << j["readiness"].dump(1);
  EXPECT_TRUE(j["readiness"]["declares_support"].get<bool>());
  EXPECT_TRUE(j["findings"].empty());
  EXPECT_TRUE(j["readiness"]["never_exercised"].empty());
  fs::remove_all(out);
}

// A stress round has run: a race found at run time. FT004 does not count,
// the GIL probe confirms it before any round.
bool raceReported(const nlohmann::json &report) {
  for (const auto &f : report["findings"])
    if (f["rule"] == "FTR001" ||
        (f["status"] == "confirmed" && f["rule"] != "FT004"))
      return true;
  return false;
}

// Waits until report.json in `out` shows a race, or 3 minutes.
bool waitForARace(const std::string &out) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto j = readJson(out + "/report.json");
    if (!j.is_discarded() && raceReported(j))
      return true;
  }
  return false;
}

// The temporary folders of ftready process `pid` (/tmp/ftready-*-PID-*).
std::vector<std::string> foldersOf(pid_t pid) {
  std::vector<std::string> out;
  std::string mark = "-" + std::to_string(pid) + "-";
  for (const auto &e : fs::directory_iterator(fs::temp_directory_path())) {
    std::string name = e.path().filename().string();
    if (name.rfind("ftready-", 0) == 0 && name.find(mark) != std::string::npos)
      out.push_back(name);
  }
  return out;
}

// Processes whose command line or environment names one of `folders`:
// what ftready started in them (builds, the stress children).
std::vector<std::string>
processesUsing(const std::vector<std::string> &folders) {
  std::vector<std::string> out;
  for (const auto &e : fs::directory_iterator("/proc")) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    for (const char *file : {"/cmdline", "/environ"}) {
      std::ifstream in(e.path().string() + file);
      std::string text((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
      for (const auto &f : folders)
        if (text.find(f) != std::string::npos) {
          out.push_back(pid);
          break;
        }
    }
  }
  return out;
}

// Processes of `folders` still alive after up to 10 s (a parent-death
// signal is delivered asynchronously).
std::vector<std::string> survivors(const std::vector<std::string> &folders) {
  std::vector<std::string> left = processesUsing(folders);
  for (int i = 0; i < 100 && !left.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = processesUsing(folders);
  }
  return left;
}

// SIGKILL in the middle of a stress round: the report on disk is valid and
// marked incomplete, no process ftready started survives it, and the next
// ftready run removes the folders the killed one could not.
TEST(Check, KilledRunLeavesAReportMarkedIncomplete) {
  std::string out = scratch("killed");
  std::vector<std::string> args = {
      FTREADY_BINARY, "-q", "check", corpus("cache_racy"),
      "--budget",     "5m", "-o",    out};
  pid_t pid = ftready::test::startProcess(args);
  ASSERT_NE(pid, 0);
  bool raced = waitForARace(out);
  std::vector<std::string> folders = foldersOf(pid);
  // The stress child is found this way while it runs.
  bool childSeen = !processesUsing(folders).empty();
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(raced);
  EXPECT_FALSE(folders.empty()); // the build and the stress run's folders
  EXPECT_TRUE(childSeen);
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(j["incomplete"].get<bool>());
  EXPECT_EQ(j["findings"].size(), 8u);
  EXPECT_EQ(survivors(folders), std::vector<std::string>{});
  auto next = ftready::runProcess({FTREADY_BINARY, "toolchain"},
                                  ftready::withTimeout(60));
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(foldersOf(pid), std::vector<std::string>{});
  fs::remove_all(out);
}

// The stress run's own contribution: a race the scan cannot see (a counter
// reached through module state) makes the verdict NOT READY from run-time
// evidence alone. The run makes hundreds of rounds of 4 threads in 20 s;
// ThreadSanitizer reports this race in the first round that overlaps.
TEST(Check, RaceInvisibleToTheScanIsNotReadyFromTheStressRunAlone) {
  std::string out = scratch("hidden");
  auto r = check({corpus("hidden_race"), "--budget", "20s", "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "NOT READY") << j["readiness"].dump(1);
  std::set<std::tuple<std::string, std::string, unsigned, std::string>> found;
  for (const auto &f : j["findings"])
    found.insert({f["rule"].get<std::string>(),
                  f["function"].get<std::string>(), f["line"].get<unsigned>(),
                  f["status"].get<std::string>()});
  EXPECT_EQ(
      found,
      (std::set<std::tuple<std::string, std::string, unsigned, std::string>>{
          {"FTR001", "bump", 17, "dynamic-only"}}))
      << j["findings"].dump(1);
  fs::remove_all(out);
}

// A module that crashes in its init: the import is a target like any other,
// its crash a finding, and the verdict NOT READY (not a usage error).
TEST(Check, CrashInModuleInitIsNotReady) {
  std::string out = scratch("initcrash");
  auto r = check({corpus("hostile/init_crash"), "--budget", "20s", "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "NOT READY") << j["readiness"].dump(1);
  std::set<std::tuple<std::string, std::string, std::string, unsigned>> found;
  for (const auto &f : j["findings"])
    if (f["status"] != "static-only")
      found.insert({f["rule"].get<std::string>(),
                    f["function"].get<std::string>(),
                    f["file"].get<std::string>(), f["line"].get<unsigned>()});
  // Placed on the NULL dereference, from ThreadSanitizer's SEGV report.
  EXPECT_EQ(
      found,
      (std::set<std::tuple<std::string, std::string, std::string, unsigned>>{
          {"FTR002", "PyInit_ftcorpus_init_crash", "ftcorpus_init_crash.c",
           8}}))
      << j["findings"].dump(1);
  fs::remove_all(out);
}

// Ctrl-C during the stress run: what was found is written, the report is
// marked incomplete and says why, the children are gone, exit 130.
TEST(Check, InterruptedRunWritesAnIncompleteReportAndExits130) {
  std::string out = scratch("interrupted");
  pid_t pid = ftready::test::startProcess({FTREADY_BINARY, "-q", "check",
                                           corpus("cache_racy"), "--budget",
                                           "5m", "-o", out});
  ASSERT_NE(pid, 0);
  bool raced = waitForARace(out);
  std::vector<std::string> folders = foldersOf(pid);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(raced);
  // A run that is told to stop removes its own folders, and leaves no
  // process behind.
  EXPECT_FALSE(folders.empty());
  EXPECT_EQ(foldersOf(pid), std::vector<std::string>{});
  EXPECT_EQ(survivors(folders), std::vector<std::string>{});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(j["incomplete"].get<bool>());
  bool said = false;
  for (const auto &g : j["readiness"]["evidence"]["gaps"])
    said |=
        g["what"].get<std::string>().find("interrupted") != std::string::npos;
  EXPECT_TRUE(said) << j["readiness"].dump(1);
  EXPECT_TRUE(fs::exists(out + "/report.md"));
  fs::remove_all(out);
}

TEST(Check, BadInputIsAUsageError) {
  std::string out = scratch("bad");
  EXPECT_EQ(check({"/nonexistent/project", "-o", out}).exit_code, 2);
  std::string project = scratch("config");
  fs::create_directories(project);
  fs::copy(corpus("cache_fixed/ftcorpus_cache_fixed.c"), project);
  std::ofstream(project + "/pyproject.toml")
      << "[tool.ftready]\nthreads = \"many\"\n";
  auto bad = check({project, "-o", out});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("threads must be an integer"), std::string::npos)
      << bad.err;
  std::ofstream(project + "/pyproject.toml")
      << "[tool.ftready]\nbudget = \"15s\"\n";
  EXPECT_EQ(check({project, "--baseline", "/nonexistent/base.sarif", "-o", out})
                .exit_code,
            2);
  // Amounts that are not: infinite, not a number, too small, no unit.
  for (const char *budget : {"inf", "nan", "-5s", "10x"})
    EXPECT_EQ(check({project, "--budget", budget, "-o", out}).exit_code, 2)
        << budget;
  for (const char *rss : {"inf", "1K", "4", "nanG"})
    EXPECT_EQ(check({project, "--max-rss", rss, "-o", out}).exit_code, 2)
        << rss;
  fs::remove_all(project);
  fs::remove_all(out);
}

// Active findings of a report as (rule, file, line, function, status).
std::set<
    std::tuple<std::string, std::string, unsigned, std::string, std::string>>
findingsOf(const nlohmann::json &report, bool staticOnly) {
  std::set<
      std::tuple<std::string, std::string, unsigned, std::string, std::string>>
      out;
  for (const auto &f : report["findings"])
    if (!staticOnly || f["rule"].get<std::string>().rfind("FTR", 0) != 0)
      out.insert({f["rule"], f["file"], f["line"].get<unsigned>(),
                  f["function"], f["status"]});
  return out;
}

// The work folders of `ftready check` now in the temporary folder (a run
// may also remove the orphans of killed runs: compare sets, not counts).
std::set<std::string> workDirs() {
  std::set<std::string> out;
  for (const auto &e : fs::directory_iterator(fs::temp_directory_path())) {
    std::string name = e.path().filename().string();
    if (name.rfind("ftready-check-", 0) == 0 &&
        name.rfind("ftready-check-test-", 0) != 0)
      out.insert(name);
  }
  return out;
}

// Folders in `now` that were not in `before`: what a run left behind.
std::vector<std::string> leftBehind(const std::set<std::string> &before) {
  std::vector<std::string> out;
  for (const auto &n : workDirs())
    if (!before.count(n))
      out.push_back(n);
  return out;
}

// The build's own view: a setup.py that imports distutils builds; exactly
// the units it compiled are scanned, with its flags (the shared header has
// an #error without them), the header's finding reported; tools/ is listed
// as not built; the vendored library's findings are kept apart; both
// modules are imported and called.
TEST(Check, MultiModuleProjectIsBuiltScannedAndStressedModuleByModule) {
  std::string out = scratch("multi");
  auto before = workDirs();
  auto r = check({corpus("multimodule_project"), "--budget", "30s", "-o", out});
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded()) << r.err;
  const auto &e = j["readiness"]["evidence"];
  EXPECT_EQ(e["build"], "setup.py");
  EXPECT_TRUE(e["built"].get<bool>()) << r.out;
  EXPECT_EQ(e["units_compiled"], 3);
  EXPECT_EQ(e["units_scanned"], 3);
  EXPECT_EQ(e["units_parsed"], 3);
  EXPECT_EQ(e["not_built"], nlohmann::json::array({"tools/dump.c"}));
  EXPECT_TRUE(e["gaps"].empty()) << e.dump(1);
  std::set<std::string> names;
  for (const auto &m : e["modules"]) {
    names.insert(m["name"].get<std::string>());
    EXPECT_TRUE(m["imported"].get<bool>()) << m.dump();
    EXPECT_GT(m["calls"].get<unsigned long>(), 0u) << m.dump();
    EXPECT_TRUE(m["declares_support"].get<bool>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"ftmulti._names", "ftmulti._tally"}));
  // Static findings, exact: statuses aside (a race may confirm them).
  std::set<std::tuple<std::string, std::string, unsigned, std::string>> got,
      vendored;
  for (const auto &f : j["findings"]) {
    if (f["rule"].get<std::string>().rfind("FTR", 0) == 0)
      continue;
    auto key = std::make_tuple(
        f["rule"].get<std::string>(), f["file"].get<std::string>(),
        f["line"].get<unsigned>(), f["function"].get<std::string>());
    (f["status"] == "vendored" ? vendored : got).insert(key);
  }
  using K = std::tuple<std::string, std::string, unsigned, std::string>;
  EXPECT_EQ(got, (std::set<K>{{"FT002", "src/ftmulti_common.h", 14,
                               "ftmulti_count_call"},
                              {"FT002", "src/tally.c", 12, "add"}}))
      << j["findings"].dump(1);
  EXPECT_EQ(
      vendored,
      (std::set<K>{
          {"FT002", "src/third_party/minilib/minilib.c", 12, "minilib_add"},
          {"FT005", "src/third_party/minilib/minilib.c", 10, "minilib_add"}}));
  // The unguarded total races under 4 threads on every run (hundreds of
  // thousands of calls), and the race is placed on the line that writes it.
  EXPECT_EQ(j["readiness"]["verdict"], "NOT READY") << j["readiness"].dump(1);
  EXPECT_EQ(r.exit_code, 1);
  bool raceOnTotal = false;
  for (const auto &f : j["findings"])
    raceOnTotal |= f["file"] == "src/tally.c" && f["line"] == 12 &&
                   f["status"] == "confirmed";
  EXPECT_TRUE(raceOnTotal) << j.dump(1);
  EXPECT_TRUE(leftBehind(before).empty());
  EXPECT_TRUE(fs::exists(out + "/build.log"));
  fs::remove_all(out);
}

TEST(Check, MissingHeaderIsIncompleteNamesTheHeaderAndFailsTheGate) {
  std::string out = scratch("missing");
  auto before = workDirs();
  auto r =
      check({corpus("missing_header_project"), "--budget", "20s", "-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "INCOMPLETE");
  const auto &e = j["readiness"]["evidence"];
  EXPECT_FALSE(e["built"].get<bool>());
  ASSERT_FALSE(e["gaps"].empty());
  EXPECT_EQ(e["gaps"][0]["what"],
            "header 'ftready_corpus_absent_dep.h' not found");
  EXPECT_NE(e["gaps"][0]["fix"].get<std::string>().find("-dev package"),
            std::string::npos);
  for (const auto &reason : j["readiness"]["reasons"])
    EXPECT_EQ(reason.get<std::string>().find("declare Py_MOD_GIL_NOT_USED"),
              std::string::npos)
        << reason;
  EXPECT_NE(r.out.find("verdict: INCOMPLETE"), std::string::npos);
  EXPECT_TRUE(leftBehind(before).empty());
  fs::remove_all(out);
}

// A build that succeeds by skipping an extension that does not compile (as
// many optional-extension setup.py files do): the module that did build is
// stressed, and the verdict says what was skipped.
TEST(Check, SkippedOptionalExtensionIsIncomplete) {
  std::string out = scratch("optional");
  auto r =
      check({corpus("optional_ext_project"), "--budget", "10s", "-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "INCOMPLETE");
  const auto &e = j["readiness"]["evidence"];
  EXPECT_TRUE(e["built"].get<bool>());
  ASSERT_EQ(e["modules"].size(), 1u);
  EXPECT_EQ(e["modules"][0]["name"], "ftopt_plain");
  EXPECT_GT(e["modules"][0]["calls"].get<unsigned long>(), 0u);
  ASSERT_FALSE(e["gaps"].empty());
  EXPECT_EQ(e["gaps"][0]["what"],
            "the build went on without what failed to compile: src/fast.c");
  EXPECT_NE(e["gaps"].dump().find("_PyList_Extend"), std::string::npos);
  fs::remove_all(out);
}

// An existing build's compile_commands.json (meson, CMake) and the module
// that build left: scanned with its flags and stressed; built without
// ThreadSanitizer, so the report says races were not looked for, and the
// verdict is at most READY WITH WARNINGS.
TEST(Check, ExistingCompileDatabaseAndItsUninstrumentedModule) {
  std::string dir = scratch("compdb");
  fs::create_directories(dir);
  fs::copy(corpus("cache_fixed/ftcorpus_cache_fixed.c"), dir);
  std::string why;
  auto tsan =
      ftready::probeInterpreter(ftready::test::managed("3.13t-tsan"), &why);
  ASSERT_TRUE(tsan) << why;
  auto cc = ftready::runProcess(
      {ftready::compilersFor(*tsan, "cc").c, "-shared", "-fPIC", "-g", "-O1",
       "-I", tsan->include_dir, dir + "/ftcorpus_cache_fixed.c", "-o",
       dir + "/ftcorpus_cache_fixed" + tsan->ext_suffix},
      ftready::withTimeout(300));
  ASSERT_EQ(cc.exit_code, 0) << cc.err;
  nlohmann::json db =
      nlohmann::json::array({{{"directory", dir},
                              {"file", "ftcorpus_cache_fixed.c"},
                              {"arguments",
                               {"clang-16", "-I", tsan->include_dir, "-c",
                                "ftcorpus_cache_fixed.c"}}}});
  std::ofstream(dir + "/compile_commands.json") << db.dump();
  std::string out = scratch("compdb-report");
  auto r =
      check({dir, "--compile-commands", dir, "--budget", "10s", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  const auto &e = j["readiness"]["evidence"];
  EXPECT_EQ(e["build"], "compile_commands.json");
  EXPECT_EQ(e["units_compiled"], 1);
  EXPECT_EQ(e["units_parsed"], 1);
  ASSERT_EQ(e["modules"].size(), 1u);
  EXPECT_GT(e["modules"][0]["calls"].get<unsigned long>(), 0u);
  EXPECT_FALSE(e["races_detectable"].get<bool>());
  EXPECT_EQ(j["readiness"]["verdict"], "READY WITH WARNINGS");
  EXPECT_NE(j["readiness"]["reasons"].dump().find("data races were not"),
            std::string::npos);
  fs::remove_all(dir);
  fs::remove_all(out);
}

// The user's own free-threaded interpreter, without ThreadSanitizer, on a
// machine with no managed interpreter at all: the run builds, scans and
// stresses with it alone; the report names it and says plainly that data
// races were not looked for, and how to get a build that looks for them.
void expectOwnInterpreterRun(const nlohmann::json &report,
                             const std::string &python) {
  const auto &e = report["readiness"]["evidence"];
  EXPECT_TRUE(e["built"].get<bool>()) << e.dump(1);
  ASSERT_EQ(e["modules"].size(), 1u);
  EXPECT_GT(e["modules"][0]["calls"].get<unsigned long>(), 0u);
  EXPECT_FALSE(e["races_detectable"].get<bool>());
  EXPECT_EQ(e["interpreter"].get<std::string>().rfind("CPython 3.13.", 0), 0u)
      << e["interpreter"];
  EXPECT_NE(e["interpreter"].get<std::string>().find("free-threaded (" +
                                                     python + ")"),
            std::string::npos)
      << e["interpreter"];
  std::string reasons = report["readiness"]["reasons"].dump();
  EXPECT_NE(reasons.find("data races were not looked for"), std::string::npos)
      << reasons;
  EXPECT_NE(reasons.find("--with-thread-sanitizer"), std::string::npos)
      << reasons;
}

TEST(Check, OwnInterpreterWithoutTsanNeedsNoManagedToolchain) {
  std::string python = ftready::test::managed("3.13t");
  ASSERT_TRUE(fs::exists(python));
  std::string emptyCache = scratch("no-toolchain");
  fs::create_directories(emptyCache);
  std::string out = scratch("own-python");
  std::vector<std::string> argv = {
      FTREADY_BINARY, "-q",   "check",    corpus("cache_fixed"),
      "--python",     python, "--budget", "10s",
      "-o",           out};
  auto r = ftready::runProcess(
      argv, ftready::withTimeout(600, {{"FTREADY_CACHE", emptyCache}}));
  // No finding, but races were not looked for: READY WITH WARNINGS.
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded()) << r.err;
  EXPECT_EQ(j["readiness"]["verdict"], "READY WITH WARNINGS");
  expectOwnInterpreterRun(j, python);
  EXPECT_FALSE(fs::exists(emptyCache + "/python")); // nothing was built
  fs::remove_all(out);
  fs::remove_all(emptyCache);
}

TEST(Check, InterpreterFromPyprojectToml) {
  std::string python = ftready::test::managed("3.13t");
  std::string project = scratch("pyproject-python");
  fs::copy(corpus("setuptools_project"), project, fs::copy_options::recursive);
  std::ofstream(project + "/pyproject.toml")
      << "[tool.ftready]\npython = \"" << python << "\"\n";
  std::string out = scratch("pyproject-python-report");
  auto r = check({project, "--budget", "10s", "-o", out});
  // The seeded FT002 stays a static warning: NOT READY needs a race seen.
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded()) << r.err;
  expectOwnInterpreterRun(j, python);
  EXPECT_EQ(j["readiness"]["evidence"]["build"], "setup.py");
  fs::remove_all(out);
  fs::remove_all(project);
}

TEST(Check, GilInterpreterIsRefused) {
  std::string gil = ftready::findOnPath("python3");
  ASSERT_FALSE(gil.empty());
  std::string out = scratch("gil-python");
  auto r = check({corpus("cache_fixed"), "--python", gil, "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // The machine's python3: older than 3.13 here (Debian 12), a GIL build
  // on a newer system; refused either way.
  EXPECT_TRUE(r.err.find("older than 3.13") != std::string::npos ||
              r.err.find("is built with the GIL") != std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(gil), std::string::npos) << r.err;
  fs::remove_all(out);
}

TEST(Check, PurePythonFallbackIsNeverReady) {
  std::string out = scratch("pure");
  auto r = check({corpus("pure_python_project"), "--budget", "20s", "-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "INCOMPLETE");
  const auto &e = j["readiness"]["evidence"];
  EXPECT_TRUE(e["built"].get<bool>());
  EXPECT_TRUE(e["modules"].empty());
  EXPECT_EQ(e["units_compiled"], 0);
  EXPECT_EQ(e["not_built"], nlohmann::json::array({"purepkg/_speedups.c"}));
  ASSERT_EQ(e["gaps"].size(), 1u);
  EXPECT_NE(e["gaps"][0]["what"].get<std::string>().find(
                "no extension module for this Python"),
            std::string::npos);
  EXPECT_TRUE(j["findings"].empty()); // not built, not scanned
  fs::remove_all(out);
}

// ftready scan --from-build sees what the build sees; a plain scan of the
// same folder cannot parse the shared header (its #error needs the build's
// -DFTMULTI_STRICT) and parses the tool the build never compiles.
// Run with two workers, several times: the workers once shared the
// process's working directory (ClangTool's default file system changes it),
// and with setuptools' relative paths about half the runs lost findings.
TEST(Scan, FromBuildScansExactlyWhatTheBuildCompiles) {
  std::string json = scratch("from-build.json");
  for (int run = 0; run < 6; ++run) {
    auto r = ftready::runProcess(
        {FTREADY_BINARY, "-q", "scan", "--no-cache", "-j", "2", "--from-build",
         corpus("multimodule_project"), "--format", "json", "-o", json},
        ftready::withTimeout(600));
    EXPECT_EQ(r.exit_code, 1) << r.err; // FT002 warnings
    auto j = readJson(json);
    ASSERT_FALSE(j.is_discarded()) << r.err;
    EXPECT_EQ(j["summary"]["files_scanned"], 3);
    EXPECT_TRUE(j["diagnostics"].empty()) << j["diagnostics"].dump(1);
    auto f = findingsOf(j, true);
    using K = std::tuple<std::string, std::string, unsigned, std::string,
                         std::string>;
    EXPECT_EQ(f,
              (std::set<K>{{"FT002", "src/ftmulti_common.h", 14,
                            "ftmulti_count_call", "static-only"},
                           {"FT002", "src/tally.c", 12, "add", "static-only"},
                           {"FT002", "src/third_party/minilib/minilib.c", 12,
                            "minilib_add", "vendored"},
                           {"FT005", "src/third_party/minilib/minilib.c", 10,
                            "minilib_add", "vendored"}}))
        << "run " << run;
  }
  auto plain = ftready::runProcess({FTREADY_BINARY, "-q", "scan", "--no-cache",
                                    "--format", "json", "-o", json,
                                    corpus("multimodule_project")},
                                   ftready::withTimeout(600));
  EXPECT_EQ(plain.exit_code, 2);
  auto p = readJson(json);
  ASSERT_FALSE(p.is_discarded());
  EXPECT_NE(p["diagnostics"].dump().find("FTMULTI_STRICT"), std::string::npos)
      << p["diagnostics"].dump(1);
  fs::remove(json);
}

} // namespace
