// Merging static and run-time findings: only static findings are confirmed.
#include "ftready/reports/readiness.h"

#include <gtest/gtest.h>

using namespace ftready;

namespace {

Finding make(const std::string &rule, const std::string &function,
             unsigned line, Status status) {
  Finding f;
  f.rule = rule;
  f.function = function;
  f.location = {"m.c", line, 1};
  f.message = rule + " in " + function;
  f.status = status;
  return f;
}

// Two run-time findings about the same function (a race, then an error only
// under concurrency) once "confirmed" each other: the first became
// Confirmed with no static finding behind it.
TEST(Merge, RunTimeFindingsNeverConfirmEachOther) {
  std::vector<Finding> dynamics = {
      make("FTR001", "dump", 40, Status::DynamicOnly),
      make("FTR005", "dump", 0, Status::DynamicOnly)};
  auto merged = reports::mergeFindings({}, dynamics);
  ASSERT_EQ(merged.size(), 2u);
  for (const auto &f : merged)
    EXPECT_EQ(f.status, Status::DynamicOnly) << f.rule;
}

TEST(Merge, ARaceConfirmsTheStaticFindingOnItsLine) {
  std::vector<Finding> statics = {make("FT002", "add", 12, Status::StaticOnly),
                                  make("FT007", "add", 30, Status::StaticOnly)};
  Finding race = make("FTR001", "add", 12, Status::DynamicOnly);
  auto merged = reports::mergeFindings(statics, {race});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].status, Status::Confirmed);  // line 12
  EXPECT_EQ(merged[1].status, Status::StaticOnly); // line 30
}

} // namespace
