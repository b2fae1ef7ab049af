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
