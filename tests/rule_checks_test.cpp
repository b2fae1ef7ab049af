// Runs each tests/rules/FT00N.c through the analyzer with only that rule on
// and compares the findings with the file's CHECK-MESSAGES expectations, in
// the manner of clang-tidy's tests. An expectation sits on the line it is
// about and names everything a user sees:
//   // CHECK-MESSAGES: :COLUMN: SEVERITY: RULE in FUNCTION: MESSAGE
// The message is compared whole. Every line without an expectation stays
// silent, and a finding reported twice fails.
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
  unsigned line;
  unsigned column;
  std::string severity;
  std::string rule;
  std::string function;
  std::string message;
  // CHECK-EVIDENCE lines after it: when there are any, the finding's
  // evidence must be exactly these, in order.
  std::vector<std::string> evidence;
};

std::string trimmedMessage(std::string text) {
  // A C comment's close, and the spaces before it.
  if (text.size() >= 2 && text.compare(text.size() - 2, 2, "*/") == 0)
    text.resize(text.size() - 2);
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

std::vector<Expectation> expectationsIn(const std::string &path,
                                        const std::string &relative) {
  static const std::regex check(
      R"(CHECK-MESSAGES: :([0-9]+): (note|warning|error): (FT[0-9]{3}) in ([A-Za-z_][A-Za-z0-9_]*): (.*)$)");
  std::vector<Expectation> out;
  std::ifstream in(path);
  unsigned n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    static const std::regex nearMiss(R"(CHECK[-_ ]?(MESSAGES?|EVIDENCE)\b)",
                                     std::regex::icase);
    if (size_t ev = line.find("CHECK-EVIDENCE: "); ev != std::string::npos) {
      if (out.empty())
        ADD_FAILURE() << relative << ":" << n
                      << ": CHECK-EVIDENCE before any CHECK-MESSAGES";
      else
        out.back().evidence.push_back(trimmedMessage(line.substr(ev + 16)));
      continue;
    }
    size_t at = line.find("CHECK-MESSAGES:");
    if (at == std::string::npos) {
      // A misspelt expectation would silently expect nothing.
      if (std::regex_search(line, nearMiss))
        ADD_FAILURE() << relative << ":" << n
                      << ": misspelt expectation: " << line;
      continue;
    }
    std::smatch m;
    std::string rest = line.substr(at);
    if (!std::regex_match(rest, m, check)) {
      ADD_FAILURE() << relative << ":" << n
                    << ": malformed expectation: " << rest;
      continue;
    }
    out.push_back({relative, n, static_cast<unsigned>(std::stoul(m[1])), m[2],
                   m[3], m[4], trimmedMessage(m[5])});
  }
  return out;
}

// The expectation that would match `f`, as it would be written.
std::string asExpectation(const ftready::Finding &f) {
  std::string out =
      f.location.file + ":" + std::to_string(f.location.line) +
      ": // CHECK-MESSAGES: :" + std::to_string(f.location.column) + ": " +
      ftready::toString(f.severity) + ": " + f.rule + " in " + f.function +
      ": " + f.message;
  for (const auto &e : f.evidence)
    out += "\n    // CHECK-EVIDENCE: " + e;
  return out;
}

bool matches(const Expectation &e, const ftready::Finding &f) {
  return e.file == f.location.file && e.line == f.location.line &&
         e.column == f.location.column &&
         e.severity == ftready::toString(f.severity) && e.rule == f.rule &&
         e.function == f.function && e.message == f.message &&
         (e.evidence.empty() || e.evidence == f.evidence);
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
    for (size_t i = 0; i < expected.size() && !found; ++i)
      if (!matched[i] && matches(expected[i], f))
        matched[i] = found = true;
    EXPECT_TRUE(found) << "unexpected finding:\n" << asExpectation(f);
    EXPECT_FALSE(f.fix.empty())
        << "finding without a fix at line " << f.location.line;
    EXPECT_EQ(f.fingerprint.size(), 16u);
  }
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(matched[i])
        << "missed: " << expected[i].file << ":" << expected[i].line << ":"
        << expected[i].column << ": " << expected[i].severity << ": "
        << expected[i].rule << " in " << expected[i].function << ": "
        << expected[i].message;
}

INSTANTIATE_TEST_SUITE_P(Rules, RuleCheck,
                         ::testing::Values("FT001", "FT002", "FT003", "FT004",
                                           "FT005", "FT006", "FT007"));

} // namespace
