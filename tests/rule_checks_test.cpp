// Runs each tests/rules/FT00N.c through the analyzer with only that rule on
// and compares the findings with the file's CHECK-MESSAGES expectations:
// same file, rule, line and function, and the message or the fix containing
// the given text.
// Every line without an expectation must stay silent.
#include "ftready/analyzer/scan.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

namespace {

struct Expectation {
  std::string file; // relative to tests/
  std::string rule;
  unsigned line;
  std::string function;
  std::string text;
};

std::vector<Expectation> expectationsIn(const std::string &path,
                                        const std::string &relative) {
  static const std::regex check(
      R"(CHECK-MESSAGES: (FT[0-9]{3}) in ([A-Za-z_][A-Za-z0-9_]*)(?::\s*([^;]*))?)");
  std::vector<Expectation> out;
  std::ifstream in(path);
  unsigned n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    for (std::sregex_iterator it(line.begin(), line.end(), check), end;
         it != end; ++it) {
      std::string text = (*it)[3].str();
      while (!text.empty() &&
             (text.back() == ' ' || text.back() == '/' || text.back() == '*'))
        text.pop_back();
      out.push_back({relative, (*it)[1], n, (*it)[2], text});
    }
  }
  return out;
}

class RuleCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(RuleCheck, FindingsMatchExpectationsExactly) {
  std::string rule = GetParam();
  // rules/FTxxx.c, plus rules/FTxxx/*.c for cases that need a file each.
  std::vector<std::string> files = {"rules/" + rule + ".c"};
  fs::path more = fs::path(FTREADY_TEST_DIR) / "rules" / rule;
  if (fs::is_directory(more))
    for (const auto &e : fs::directory_iterator(more))
      files.push_back("rules/" + rule + "/" + e.path().filename().string());
  ftready::analyzer::ScanOptions opts;
  for (const auto &f : files)
    opts.paths.push_back(std::string(FTREADY_TEST_DIR) + "/" + f);
  opts.python_include = ftready::test::pythonInclude();
  opts.rules = {rule};
  opts.root = FTREADY_TEST_DIR;
  auto result = ftready::analyzer::scan(opts);
  for (const auto &d : result.diagnostics)
    ADD_FAILURE() << "diagnostic: " << d.file << ": " << d.message;

  std::vector<Expectation> expected;
  for (const auto &f : files)
    for (auto &e : expectationsIn(std::string(FTREADY_TEST_DIR) + "/" + f, f))
      expected.push_back(e);
  ASSERT_FALSE(expected.empty()) << rule << " has no CHECK-MESSAGES";
  std::vector<bool> matched(expected.size(), false);
  for (const auto &f : result.findings) {
    bool found = false;
    for (size_t i = 0; i < expected.size(); ++i) {
      const auto &e = expected[i];
      if (!matched[i] && e.file == f.location.file && e.rule == f.rule &&
          e.line == f.location.line && e.function == f.function &&
          (f.message + " fix: " + f.fix).find(e.text) != std::string::npos) {
        matched[i] = found = true;
        break;
      }
    }
    EXPECT_TRUE(found) << "unexpected finding at " << f.location.file << ":"
                       << f.location.line << " in " << f.function << ": "
                       << f.message;
    EXPECT_FALSE(f.fix.empty())
        << "finding without a fix at line " << f.location.line;
    EXPECT_EQ(f.fingerprint.size(), 16u);
  }
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(matched[i])
        << "missed: " << expected[i].rule << " at " << expected[i].file << ":"
        << expected[i].line << " in " << expected[i].function << " ("
        << expected[i].text << ")";
}

INSTANTIATE_TEST_SUITE_P(Rules, RuleCheck,
                         ::testing::Values("FT001", "FT002", "FT003", "FT004",
                                           "FT005", "FT006", "FT007"));

} // namespace
