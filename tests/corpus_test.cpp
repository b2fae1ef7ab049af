// Scans every corpus module and compares with its ground_truth.json: the
// exact findings (rule, line, function), nothing more, nothing less.
// Prints recall and precision over the whole corpus.
#include "ftready/analyzer/scan.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

namespace fs = std::filesystem;

namespace {

using Key = std::tuple<std::string, unsigned, std::string>;

// The state-access map's pairs of callables to run together, and its lazy
// initialisations, exactly as the ground truth lists them (where it does).
void expectStateMap(const std::string &module, const nlohmann::json &truth,
                    const ftready::StateMap &map) {
  if (truth.contains("pairs")) {
    std::set<std::pair<std::string, std::string>> expected, actual;
    for (const auto &p : truth["pairs"])
      expected.insert({p[0].get<std::string>(), p[1].get<std::string>()});
    for (const auto &p : ftready::callablePairs(map))
      actual.insert(std::minmax(p.writer, p.other));
    EXPECT_EQ(actual, expected) << module << ": pairs to run together";
  }
  if (truth.contains("lazy_inits")) {
    std::set<std::tuple<std::string, std::string, unsigned, unsigned>> expected,
        actual;
    for (const auto &l : truth["lazy_inits"])
      expected.insert(
          {l["callable"].get<std::string>(), l["state"].get<std::string>(),
           l["first_line"].get<unsigned>(), l["last_line"].get<unsigned>()});
    for (const auto &l : ftready::lazyInitCallables(map))
      actual.insert(
          {l.callable, l.init.state, l.init.first_line, l.init.last_line});
    EXPECT_EQ(actual, expected) << module << ": lazy initialisations";
  }
}

TEST(Corpus, ExactFindingsOnEveryModuleAndTwin) {
  unsigned truePositives = 0, falsePositives = 0, falseNegatives = 0;
  unsigned modules = 0;
  for (const auto &dir : fs::directory_iterator(FTREADY_CORPUS_DIR)) {
    fs::path truthFile = dir.path() / "ground_truth.json";
    if (!fs::exists(truthFile))
      continue;
    ++modules;
    nlohmann::json truth;
    std::ifstream(truthFile) >> truth;
    std::set<Key> expected;
    for (const auto &f : truth["static"])
      expected.insert({f["rule"].get<std::string>(), f["line"].get<unsigned>(),
                       f["function"].get<std::string>()});

    ftready::analyzer::ScanOptions opts;
    opts.paths = {dir.path().string()};
    opts.python_include = ftready::test::pythonInclude();
    opts.root = dir.path().string();
    auto result = ftready::analyzer::scan(opts);
    for (const auto &d : result.diagnostics)
      ADD_FAILURE() << dir.path() << ": " << d.message;
    std::set<Key> actual;
    for (const auto &f : result.findings)
      if (!actual.insert({f.rule, f.location.line, f.function}).second)
        ADD_FAILURE() << dir.path().filename() << ": " << f.rule << " at line "
                      << f.location.line << " in " << f.function
                      << " reported twice";
    for (const auto &k : actual) {
      if (expected.count(k)) {
        ++truePositives;
      } else {
        ++falsePositives;
        ADD_FAILURE() << dir.path().filename() << ": unexpected "
                      << std::get<0>(k) << " at line " << std::get<1>(k)
                      << " in " << std::get<2>(k);
      }
    }
    for (const auto &k : expected)
      if (!actual.count(k)) {
        ++falseNegatives;
        ADD_FAILURE() << dir.path().filename() << ": missed " << std::get<0>(k)
                      << " at line " << std::get<1>(k) << " in "
                      << std::get<2>(k);
      }
    expectStateMap(dir.path().filename().string(), truth, result.state);
  }
  ASSERT_GE(modules, 2u) << "corpus modules not found in "
                         << FTREADY_CORPUS_DIR;
  double recall = truePositives + falseNegatives
                      ? 100.0 * truePositives / (truePositives + falseNegatives)
                      : 100.0;
  double precision =
      truePositives + falsePositives
          ? 100.0 * truePositives / (truePositives + falsePositives)
          : 100.0;
  std::printf("corpus: %u modules, %u true positives, %u false positives, "
              "%u missed: recall %.1f%%, precision %.1f%%\n",
              modules, truePositives, falsePositives, falseNegatives, recall,
              precision);
}

} // namespace
