// ftready check, the README's main job: the racy corpus module is NOT READY
// with findings confirmed at run time, its fixed twin READY; the report
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
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

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

TEST(Check, RacyModuleIsNotReadyWithConfirmedFindings) {
  std::string out = scratch("racy");
  auto r = check({corpus("cache_racy"), "--budget", "30s", "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char *f : {"report.json", "report.sarif", "report.md",
                        "report.html", "junit.xml", "findings.jsonl"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["readiness"]["verdict"], "NOT READY");
  EXPECT_FALSE(j["incomplete"].get<bool>());
  EXPECT_FALSE(j["readiness"]["declares_support"].get<bool>());
  unsigned confirmed = 0;
  for (const auto &f : j["findings"])
    confirmed += f["status"] == "confirmed";
  EXPECT_GE(confirmed, 1u) << j.dump(1);
  EXPECT_NE(r.out.find("verdict: NOT READY"), std::string::npos);
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

TEST(Check, KilledRunLeavesAReportMarkedIncomplete) {
  std::string out = scratch("killed");
  std::vector<std::string> args = {
      FTREADY_BINARY, "-q", "check", corpus("cache_racy"),
      "--budget",     "5m", "-o",    out};
  pid_t pid = ftready::test::startProcess(args);
  ASSERT_NE(pid, 0);
  // Wait for the stress run's first finding to reach report.json.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  bool sawDynamic = false;
  while (!sawDynamic && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto j = readJson(out + "/report.json");
    if (j.is_discarded())
      continue;
    for (const auto &f : j["findings"])
      sawDynamic |= f["status"] != "static-only";
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  auto j = readJson(out + "/report.json");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(sawDynamic);
  EXPECT_TRUE(j["incomplete"].get<bool>());
  EXPECT_EQ(j["findings"].size(), 8u);
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
  fs::remove_all(project);
  fs::remove_all(out);
}

} // namespace
