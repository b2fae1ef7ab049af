// Golden files for every report format: tests/golden/report.json (a real
// `ftready check` of corpus/cache_racy, root replaced by @ROOT@) re-rendered
// by `ftready report` must give tests/golden/report.<format> byte for byte.
// scripts/update_goldens.sh rewrites them from a live run (then review the
// diff); Check.RacyModuleGivesTheGoldenReport holds live runs to them.
#include "ftready/process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaceAll(std::string s, const std::string &from,
                       const std::string &to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos;
       at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

class Golden
    : public ::testing::TestWithParam<std::pair<const char *, const char *>> {};

TEST_P(Golden, ReRenderedReportMatches) {
  auto [format, extension] = GetParam();
  std::string dir = std::string(FTREADY_TEST_DIR) + "/golden";
  std::string corpus = std::string(FTREADY_CORPUS_DIR) + "/cache_racy";
  auto r = ftready::runProcess({FTREADY_BINARY, "report", "--format", format,
                                "--root", corpus, dir + "/report.json"},
                               ftready::withTimeout(60));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string actual = replaceAll(r.out, corpus, "@ROOT@");
  std::string golden = dir + "/report." + extension;
  EXPECT_EQ(actual, readFile(golden)) << "differs from " << golden;
}

INSTANTIATE_TEST_SUITE_P(
    Formats, Golden,
    ::testing::Values(
        std::make_pair("text", "txt"), std::make_pair("json", "out.json"),
        std::make_pair("sarif", "sarif"), std::make_pair("md", "md"),
        std::make_pair("html", "html"), std::make_pair("junit", "junit.xml")),
    [](const auto &info) { return std::string(info.param.first); });

} // namespace
