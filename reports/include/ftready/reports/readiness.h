// The readiness report: static and run-time findings merged into one list,
// a verdict with its reasons, what the stress run covered, and the migration
// report (Markdown, self-contained HTML) and JUnit renderings.
#pragma once

#include "ftready/finding.h"
#include "ftready/reports/render.h"

#include <string>
#include <vector>

namespace ftready::reports {

// One finding per hazard: a static finding and a run-time finding about the
// same C function and a matching hazard become one, marked Confirmed (the
// static one's location and fix, the run-time evidence added). The others
// keep StaticOnly / DynamicOnly; suppressed and baselined stay as they are.
std::vector<Finding> mergeFindings(const std::vector<Finding> &statics,
                                   const std::vector<Finding> &dynamics);

// Incomplete: the evidence a verdict needs (a build, a full parse, every
// module imported and called) is missing, and nothing says NOT READY.
enum class Verdict { Ready, ReadyWithWarnings, NotReady, Incomplete };
const char *toString(Verdict v);

// Computed from the findings and the run's facts; the reasons say why.
Readiness judge(const std::vector<Finding> &merged, Readiness facts);

// "S", "M" or "L": how much work the fix is.
std::string effortOf(const Finding &f);

std::string renderMarkdown(const std::vector<Finding> &findings,
                           const RunSummary &summary);
std::string renderHtml(const std::vector<Finding> &findings,
                       const RunSummary &summary);
std::string renderJunit(const std::vector<Finding> &findings,
                        const RunSummary &summary);

} // namespace ftready::reports
