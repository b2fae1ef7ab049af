// A seeded race in a corpus module, built with -fsanitize=thread and run from
// several threads in the managed 3.13t-tsan, gives a ThreadSanitizer report
// that names the racy C function; the fixed twin gives none.
#include "ftready/process.h"
#include "ftready/stress/extension_build.h"
#include "ftready/stress/tsan_report.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace {

struct RaceRun {
  std::vector<ftready::stress::TsanReport> reports;
  std::set<std::string> functions; // extension functions TSan named
  int exit_code = 0;
  std::string output;
};

// Threads released by one barrier share one Cache instance and the module,
// as the ground truth's `races` describe.
RaceRun hammer(const std::string &corpusDir, const std::string &module) {
  std::string why;
  auto in =
      ftready::probeInterpreter(ftready::test::managed("3.13t-tsan"), &why);
  EXPECT_TRUE(in) << why;
  RaceRun run;
  if (!in)
    return run;
  std::string src = std::string(FTREADY_CORPUS_DIR) + "/" + corpusDir;
  std::string out = fs::temp_directory_path().string() + "/ftready-tsan-" +
                    module + "-" + std::to_string(::getpid());
  auto built = ftready::stress::buildExtension(
      {{src + "/" + module + ".c"}, module, {}}, *in, out);
  EXPECT_TRUE(built.ok) << built.log;
  if (!built.ok)
    return run;
  // As many threads as cores: every shared refcount update is an atomic
  // that orders the threads for TSan, so a race shows only when two threads
  // really run at once, not when one preempts another.
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::string script =
      "import sys, threading\n"
      "sys.path.insert(0, '" +
      built.directory +
      "')\n"
      "import " +
      module +
      " as mod\n"
      "cache = mod.Cache()\n"
      "def factory(*args): return 1\n"
      "barrier = threading.Barrier(" +
      std::to_string(threads) +
      ")\n"
      // Each thread its own key: PyUnicode_AsUTF8 on one shared str takes
      // that object's lock, whose happens-before edges hid remember_key's
      // race in 4 of 10 runs on a fresh 2-core machine.
      "def work():\n"
      "    key = 'a.b.%d' % threading.get_ident()\n"
      "    for round in range(40):\n"
      "        barrier.wait()\n"
      "        for i in range(50):\n"
      "            cache.get(i % 8, factory)\n"
      "            mod.remember_key(key)\n"
      "threads = [threading.Thread(target=work) for _ in range(" +
      std::to_string(threads) +
      ")]\n"
      "for t in threads: t.start()\n"
      "for t in threads: t.join()\n"
      "print('done')\n";
  std::string supp =
      ftready::cacheDirectory() + "/python/3.13t-tsan/tsan-suppressions.txt";
  auto r = ftready::runProcess(
      {in->path, "-c", script},
      ftready::withTimeout(
          600, {{"PYTHON_GIL", "0"},
                {"TSAN_OPTIONS",
                 "halt_on_error=0 exitcode=66 suppressions=" + supp}}));
  run.exit_code = r.exit_code;
  run.output = r.err;
  EXPECT_NE(r.out.find("done"), std::string::npos) << r.err.substr(0, 4000);
  run.reports = ftready::stress::parseTsanReports(r.err);
  for (const auto &rep : run.reports)
    for (const auto &fn : ftready::stress::extensionFunctions(rep, src))
      run.functions.insert(fn);
  fs::remove_all(out);
  return run;
}

TEST(TsanRace, RacyCorpusModuleReportsItsRacyFunctions) {
  // TSan sees a race only when no happens-before edge (a lock the
  // interpreter takes in between) orders the two accesses. One run, no
  // retry: bench/detection_rate.py repeats this test and prints how often
  // it passes.
  RaceRun run = hammer("cache_racy", "ftcorpus_cache");
  EXPECT_TRUE(run.functions.count("Cache_get"))
      << "TSan did not name Cache_get; output:\n"
      << run.output.substr(0, 4000);
  EXPECT_TRUE(run.functions.count("remember_key"))
      << "TSan did not name remember_key";
  EXPECT_EQ(run.exit_code, 66) << "TSan's exit code";
}

TEST(TsanRace, FixedTwinReportsNoRaceInTheExtension) {
  RaceRun run = hammer("cache_fixed", "ftcorpus_cache_fixed");
  EXPECT_TRUE(run.functions.empty())
      << "unexpected race in " << *run.functions.begin() << ":\n"
      << run.output.substr(0, 4000);
  EXPECT_EQ(run.exit_code, 0) << run.output.substr(0, 4000);
}

} // namespace
