// ftready stress on the corpus: every seeded race is reported with its C
// function, the fixed twin gives nothing, crashes and hangs are findings
// within the budget, and a killed run leaves a readable JSONL.
#include "ftready/finding.h"
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

namespace fs = std::filesystem;

namespace {

std::string corpus(const std::string &p) {
  return std::string(FTREADY_CORPUS_DIR) + "/" + p;
}

std::string tempPath(const std::string &name) {
  return (fs::temp_directory_path() /
          ("ftready-stress-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

struct StressRun {
  int exit_code = 0;
  nlohmann::json report;
  std::set<std::pair<std::string, std::string>> found; // (rule, function)
  double seconds = 0;
  std::string err;
};

// `source` empty: `module` is a project folder (setup.py).
StressRun stress(const std::string &source, const std::string &module,
                 const std::string &budget,
                 std::vector<std::string> extra = {}) {
  std::string jsonl = tempPath(fs::path(module).filename().string() + ".jsonl");
  std::vector<std::string> argv = {FTREADY_BINARY, "-q", "stress"};
  if (source.empty())
    argv.push_back(module);
  else
    argv.insert(argv.end(), {"--sources", source, "--module", module});
  argv.insert(argv.end(), {"--budget", budget, "--threads", "4", "--format",
                           "json", "--jsonl", jsonl});
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto t0 = std::chrono::steady_clock::now();
  auto r = ftready::runProcess(argv, ftready::withTimeout(600));
  StressRun run;
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  run.exit_code = r.exit_code;
  run.err = r.err;
  run.report = nlohmann::json::parse(r.out, nullptr, false);
  if (!run.report.is_discarded())
    for (const auto &f : run.report["findings"])
      run.found.insert(
          {f["rule"].get<std::string>(), f["function"].get<std::string>()});
  fs::remove(jsonl);
  return run;
}

TEST(Stress, EverySeededRaceIsReportedWithItsCFunction) {
  // One run, no retry. Races show only when threads overlap; a 20 s run
  // makes about a thousand rounds of 4 threads, and the benchmark
  // bench/detection_rate.py measures how often a run misses (its figures
  // are in docs/benchmarks.md).
  StressRun run =
      stress(corpus("cache_racy/ftcorpus_cache.c"), "ftcorpus_cache", "20s");
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  EXPECT_TRUE(run.found.count({"FTR001", "Cache_get"})) << run.report.dump(1);
  EXPECT_TRUE(run.found.count({"FTR001", "remember_key"}))
      << run.report.dump(1);
  EXPECT_TRUE(run.found.count({"FTR004", "PyInit_ftcorpus_cache"}));
  EXPECT_EQ(run.exit_code, 1);
  for (const auto &f : run.report["findings"]) {
    EXPECT_EQ(f["status"], "dynamic-only");
    if (f["rule"] == "FTR001")
      EXPECT_EQ(f["file"].get<std::string>().find("ftcorpus_cache.c") !=
                    std::string::npos,
                true);
  }
}

TEST(Stress, FixedTwinGivesNoFinding) {
  auto run = stress(corpus("cache_fixed/ftcorpus_cache_fixed.c"),
                    "ftcorpus_cache_fixed", "10s");
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  EXPECT_TRUE(run.found.empty()) << run.report.dump(1);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.report["run"]["gil after import"], "still disabled");
  EXPECT_EQ(run.report["run"]["never exercised"], "none");
}

// The analyzer's state-access map of a corpus folder, for --state-map.
std::string stateMapOf(const std::string &folder) {
  std::string map = tempPath(fs::path(folder).filename().string() + ".map");
  auto r = ftready::runProcess(
      {FTREADY_BINARY, "-q", "scan", "--state-map", map, corpus(folder)},
      ftready::withTimeout(300));
  EXPECT_TRUE(fs::exists(map)) << r.err;
  return map;
}

// Races no same-call loop finds: two different calls at once, and a lazy
// initialisation's first calls in fresh processes. Every seeded race of
// the ground truth is found in one 60 s run, on one of its functions.
TEST(Stress, PairAndFirstCallRacesAreFound) {
  std::string map = stateMapOf("pairs_racy");
  StressRun run = stress(corpus("pairs_racy/ftcorpus_pairs.c"),
                         "ftcorpus_pairs", "60s", {"--state-map", map});
  fs::remove(map);
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  nlohmann::json truth;
  std::ifstream(corpus("pairs_racy/ground_truth.json")) >> truth;
  std::set<std::string> seeded;
  for (const auto &race : truth["races"]) {
    bool found = false;
    for (const auto &fn : race["functions"]) {
      seeded.insert(fn.get<std::string>());
      found |= run.found.count({race["rule"], fn.get<std::string>()}) != 0;
    }
    EXPECT_TRUE(found) << race["kind"] << " not found: " << run.report.dump(1);
  }
  for (const auto &[rule, fn] : run.found)
    EXPECT_TRUE(seeded.count(fn)) << rule << " in " << fn << " is not seeded";
  EXPECT_EQ(
      run.report["run"]["first calls"].get<std::string>().rfind("dumps (", 0),
      0u);
  EXPECT_EQ(run.exit_code, 1);
}

TEST(Stress, PairsFixedTwinGivesNoFinding) {
  std::string map = stateMapOf("pairs_fixed");
  auto run = stress(corpus("pairs_fixed/ftcorpus_pairs_fixed.c"),
                    "ftcorpus_pairs_fixed", "20s", {"--state-map", map});
  fs::remove(map);
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  EXPECT_TRUE(run.found.empty()) << run.report.dump(1);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.report["run"]["run together"], "none");
}

TEST(Stress, CrashDeadlockAndSpinAreFindingsWithinTheBudget) {
  auto run = stress(corpus("faults/ftcorpus_faults.c"), "ftcorpus_faults",
                    "60s", {"--hang-seconds", "5"});
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  std::set<std::pair<std::string, std::string>> expected = {
      {"FTR002", "crash_when_shared"},
      {"FTR003", "deadlock_when_shared"},
      {"FTR003", "spin_when_shared"}};
  EXPECT_EQ(run.found, expected) << run.report.dump(1);
  EXPECT_LT(run.seconds, 60 + 10);
  // The hangs carry every thread's native stack: the deadlock shows the lock.
  bool lockInStacks = false;
  for (const auto &f : run.report["findings"])
    if (f["function"] == "deadlock_when_shared")
      for (const auto &e : f["evidence"])
        lockInStacks |=
            e.get<std::string>().find("native:") == 0 &&
            e.get<std::string>().find("hang_lock") != std::string::npos;
  EXPECT_TRUE(lockInStacks) << run.report.dump(1);
}

TEST(Stress, SetuptoolsProjectIsBuiltOfflineAndItsRaceFound) {
  // One run, no retry (bench/detection_rate.py measures the miss rate).
  StressRun run = stress("", corpus("setuptools_project"), "15s");
  ASSERT_FALSE(run.report.is_discarded()) << run.err;
  EXPECT_TRUE(run.found.count({"FTR001", "hit"})) << run.report.dump(1);
  for (const auto &f : run.report["findings"])
    if (f["rule"] == "FTR001")
      // the user's file (relative to the working folder when under it), not
      // the build copy's
      EXPECT_TRUE(
          fs::equivalent(f["file"].get<std::string>(),
                         corpus("setuptools_project/src/ftcorpus_counter.c")))
          << f["file"];
}

TEST(Stress, KilledRunLeavesReadableJsonl) {
  std::string jsonl = tempPath("killed.jsonl");
  std::vector<std::string> args = {FTREADY_BINARY,
                                   "-q",
                                   "stress",
                                   "--sources",
                                   corpus("cache_racy/ftcorpus_cache.c"),
                                   "--module",
                                   "ftcorpus_cache",
                                   "--budget",
                                   "120s",
                                   "--jsonl",
                                   jsonl};
  pid_t pid = ftready::test::startProcess(args);
  ASSERT_NE(pid, 0);
  // The import probe's FTR004 comes first; wait for it, then kill -9.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(jsonl);
    std::string line;
    if (std::getline(in, line) && !line.empty())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  std::ifstream in(jsonl);
  auto findings = ftready::readJsonLines(in);
  ASSERT_GE(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "FTR004");
  fs::remove(jsonl);
}

} // namespace
