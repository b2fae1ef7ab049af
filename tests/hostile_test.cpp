// The stress harness against hostile modules (corpus/hostile/): a crash, an
// exit() and a hang in module init; a function that closes stdio, one that
// forks, one that floods the output with forged events, one whose memory
// grows without bound; a crash at exit, after the last call. For each: the
// exact findings, the wall time within the budget, no process left over, and
// (where the module can still be imported) the plain race in its well-behaved
// `tally` still reported.
#include "ftready/process.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;

namespace {

using Found = std::set<std::pair<std::string, std::string>>; // rule, function

// Budget of every run: the bound on its stress phase.
constexpr double kBudget = 20;
// A TSan build of one small module, and ftready's own start.
constexpr double kBuildAndSlack = 25;

std::string source(const std::string &folder, const std::string &module) {
  return std::string(FTREADY_CORPUS_DIR) + "/hostile/" + folder + "/" + module +
         ".c";
}

// Live processes whose command line names `module` (the driver's JSON
// argument does, and so does everything it forks).
unsigned processesNaming(const std::string &module) {
  unsigned n = 0;
  DIR *d = opendir("/proc");
  while (dirent *e = d ? readdir(d) : nullptr) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0])))
      continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::ifstream stat(base + "/stat");
    std::string statText((std::istreambuf_iterator<char>(stat)),
                         std::istreambuf_iterator<char>());
    auto paren = statText.rfind(')');
    if (paren != std::string::npos && statText.size() > paren + 2 &&
        statText[paren + 2] == 'Z')
      continue; // a zombie is already dead
    std::ifstream in(base + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
    n += cmd.find("\"module\":\"" + module + "\"") != std::string::npos;
  }
  if (d)
    closedir(d);
  return n;
}

struct Run {
  int exit_code = 0;
  double seconds = 0;
  nlohmann::json report;
  Found found;
  unsigned left = 0; // processes of the run still alive after it ended
  std::string err;

  std::string fact(const std::string &key) const {
    return report["run"].value(key, "");
  }
  const nlohmann::json *finding(const std::string &rule) const {
    for (const auto &f : report["findings"])
      if (f["rule"] == rule)
        return &f;
    return nullptr;
  }
};

Run stressHostile(const std::string &folder, const std::string &module,
                  std::vector<std::string> extra = {}) {
  std::string jsonl = (fs::temp_directory_path() /
                       ("ftready-hostile-" + std::to_string(getpid()) + "-" +
                        module + ".jsonl"))
                          .string();
  std::vector<std::string> argv = {FTREADY_BINARY,
                                   "-q",
                                   "stress",
                                   "--sources",
                                   source(folder, module),
                                   "--module",
                                   module,
                                   "--budget",
                                   std::to_string(int(kBudget)) + "s",
                                   "--threads",
                                   "4",
                                   "--hang-seconds",
                                   "5",
                                   "--format",
                                   "json",
                                   "--jsonl",
                                   jsonl};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto t0 = std::chrono::steady_clock::now();
  auto r = ftready::runProcess(argv, ftready::withTimeout(600));
  Run run;
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  run.exit_code = r.exit_code;
  run.err = r.err;
  run.left = processesNaming(module);
  run.report = nlohmann::json::parse(r.out, nullptr, false);
  if (run.report.is_object())
    for (const auto &f : run.report["findings"])
      run.found.insert(
          {f["rule"].get<std::string>(), f["function"].get<std::string>()});
  fs::remove(jsonl);
  return run;
}

void expectBounded(const Run &run) {
  EXPECT_LT(run.seconds, kBudget + kBuildAndSlack) << run.err;
  EXPECT_EQ(run.left, 0u) << "processes left behind";
}

TEST(Hostile, CrashInModuleInitIsACrashFinding) {
  auto run = stressHostile("init_crash", "ftcorpus_init_crash");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR002", "PyInit_ftcorpus_init_crash"}}))
      << run.report.dump(1);
  EXPECT_EQ(run.exit_code, 1);
  const auto *f = run.finding("FTR002");
  ASSERT_TRUE(f);
  EXPECT_NE(f->at("message").get<std::string>().find("was imported"),
            std::string::npos)
      << f->dump(1);
  expectBounded(run);
}

TEST(Hostile, ExitInModuleInitIsAFindingWithItsLastWords) {
  auto run = stressHostile("init_exit", "ftcorpus_init_exit");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR002", "PyInit_ftcorpus_init_exit"}}))
      << run.report.dump(1);
  EXPECT_EQ(run.exit_code, 1);
  const auto *f = run.finding("FTR002");
  ASSERT_TRUE(f);
  std::string message = f->at("message");
  EXPECT_NE(message.find("exited (code 3)"), std::string::npos) << message;
  EXPECT_NE(message.find("no licence key"), std::string::npos) << message;
  expectBounded(run);
}

TEST(Hostile, HangInModuleInitIsAHangFoundBeforeTheBudgetEnds) {
  auto run = stressHostile("init_hang", "ftcorpus_init_hang");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR003", "PyInit_ftcorpus_init_hang"}}))
      << run.report.dump(1);
  EXPECT_EQ(run.exit_code, 1);
  // Found by the import's watchdog (5 s here), not by the budget's end.
  EXPECT_LT(run.seconds, kBudget + 5) << run.err;
  bool python = false, native = false;
  if (const auto *f = run.finding("FTR003"))
    for (const auto &e : f->at("evidence")) {
      std::string line = e;
      python |= line.find("File ") != std::string::npos;
      native |= line.rfind("native: #", 0) == 0;
    }
  EXPECT_TRUE(python) << "no Python stack in the evidence";
  EXPECT_TRUE(native) << "no native stack in the evidence";
  expectBounded(run);
}

TEST(Hostile, ClosedStdioLeavesTheOtherFunctionsTested) {
  auto run = stressHostile("close_stdio", "ftcorpus_close_stdio");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR001", "tally"}})) << run.report.dump(1);
  EXPECT_EQ(run.fact("child restarts"), "0");
  expectBounded(run);
}

TEST(Hostile, ForkWhileThreadsRunIsAFindingAndNoChildSurvives) {
  auto run = stressHostile("forker", "ftcorpus_forker");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR006", "fork_child"}, {"FTR001", "tally"}}))
      << run.report.dump(1);
  expectBounded(run);
}

TEST(Hostile, FloodOfForgedEventsIsOnlyOutputAndIsCut) {
  auto run = stressHostile("flooder", "ftcorpus_flooder");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  // No forged "done" ended the run, no forged error became FTR005.
  EXPECT_EQ(run.found, (Found{{"FTR001", "tally"}})) << run.report.dump(1);
  EXPECT_NE(run.fact("output cut"), "0 bytes");
  expectBounded(run);
}

TEST(Hostile, RunawayMemoryIsStoppedAndTheRunGoesOn) {
  auto run = stressHostile("grower", "ftcorpus_grower", {"--max-rss", "1G"});
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR007", "grow"}, {"FTR001", "tally"}}))
      << run.report.dump(1);
  expectBounded(run);
}

TEST(Hostile, CrashAtExitAfterTheLastCallIsStillACrash) {
  auto run = stressHostile("exit_crash", "ftcorpus_exit_crash");
  ASSERT_TRUE(run.report.is_object()) << run.err;
  EXPECT_EQ(run.found, (Found{{"FTR002", "free_module"}, {"FTR001", "tally"}}))
      << run.report.dump(1);
  expectBounded(run);
}

TEST(Hostile, BadMaxRssIsAUsageError) {
  auto r = ftready::runProcess({FTREADY_BINARY, "stress", "--sources",
                                source("grower", "ftcorpus_grower"), "--module",
                                "ftcorpus_grower", "--max-rss", "lots"},
                               ftready::withTimeout(120));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--max-rss 'lots'"), std::string::npos) << r.err;
}

// Ctrl-C: what was found is written, marked incomplete; exit 130; the
// children (and what they forked) are gone.
TEST(Hostile, InterruptWritesAnIncompleteReportAndExits130) {
  std::string out =
      (fs::temp_directory_path() /
       ("ftready-hostile-int-" + std::to_string(getpid()) + ".json"))
          .string();
  pid_t pid = ftready::test::startProcess(
      {FTREADY_BINARY, "-q", "stress", "--sources",
       source("forker", "ftcorpus_forker"), "--module", "ftcorpus_forker",
       "--budget", "120s", "--threads", "4", "--format", "json", "-o", out,
       "--jsonl", out + "l"});
  ASSERT_GT(pid, 0);
  // Until the stress run is under way: its driver runs.
  for (int i = 0; i < 600 && processesNaming("ftcorpus_forker") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::seconds(4));
  auto t0 = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_LT(seconds, 10);
  EXPECT_EQ(processesNaming("ftcorpus_forker"), 0u);
  std::ifstream in(out);
  auto report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["incomplete"], true) << report.dump(1);
  fs::remove(out);
  fs::remove(out + "l");
}

// kill -9 of ftready: its driver dies with it (PR_SET_PDEATHSIG), and so does
// everything the driver forked.
TEST(Hostile, KilledHarnessLeavesNoProcess) {
  pid_t pid = ftready::test::startProcess(
      {FTREADY_BINARY, "-q", "stress", "--sources",
       source("forker", "ftcorpus_forker"), "--module", "ftcorpus_forker",
       "--budget", "120s", "--threads", "4", "--format", "json", "-o",
       "/dev/null", "--jsonl", "/dev/null"});
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 600 && processesNaming("ftcorpus_forker") < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GE(processesNaming("ftcorpus_forker"), 2u)
      << "the driver never forked";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  unsigned left = 1;
  for (int i = 0; i < 50 && (left = processesNaming("ftcorpus_forker")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(left, 0u);
}

} // namespace
