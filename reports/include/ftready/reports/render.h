// Renders findings in the formats CI systems and people read.
#pragma once

#include "ftready/finding.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ftready::reports {

enum class Format { Text, Json, Sarif, Markdown, Html, Junit };

std::optional<Format> parseFormat(const std::string &name);

struct RunDiagnostic {
  std::string file;
  std::string message;
};

// Something the verdict could not be decided without, and how to supply it.
struct Gap {
  std::string what;
  std::string fix;
};

// One extension module's part of the stress run.
struct ModuleCoverage {
  std::string name;
  bool imported = false;
  std::string problem; // why it did not import or run, if it did not
  // How it ran, when not as users import it (loaded from its file because
  // its package did not import): READY is then at most READY WITH WARNINGS.
  std::string note;
  bool declares_support = false; // importing it kept the GIL off
  unsigned long calls = 0;
  unsigned rounds = 0;
  double seconds = 0;
  double budget = 0;
  std::vector<std::string> exercised;
  std::vector<std::string> never_exercised;
};

// The verdict of `ftready check` and what it rests on.
struct Readiness {
  bool present = false;
  std::string verdict; // READY, READY WITH WARNINGS, NOT READY, INCOMPLETE
  std::vector<std::string> reasons;
  std::string module;
  bool declares_support = false; // importing it kept the GIL off
  bool stress_ran = false;
  unsigned long calls = 0;
  unsigned threads = 0;
  unsigned rounds = 0;
  double seconds = 0;
  double budget = 0;
  std::vector<std::string> exercised;
  std::vector<std::string> never_exercised;
  // What the verdict rests on: the build, the parse, every module's run.
  // judge() turns a missing piece into a Gap; any Gap makes the verdict
  // INCOMPLETE unless the findings already say NOT READY.
  bool evidence_tracked = false; // false: a report from before these facts
  std::string build;             // how it was built ("setup.py")
  bool built = false;
  std::vector<Gap> build_problems;
  unsigned units_compiled = 0;
  unsigned units_scanned = 0;
  unsigned units_parsed = 0;
  std::vector<std::string> unparsed;  // compiled units with parse errors
  std::vector<std::string> not_built; // sources the build never compiled
  std::vector<ModuleCoverage> modules;
  bool races_detectable = true;  // a TSan-built interpreter ran the stress
  std::string interpreter;       // "CPython 3.13.5t, ThreadSanitizer (path)"
  std::vector<Gap> run_problems; // the run itself cut short (interrupted)
  std::vector<Gap> gaps;         // set by judge()
};

// What the run was, beside its findings.
struct RunSummary {
  std::string root; // absolute; finding paths are relative to it
  unsigned files_scanned = 0;
  // What else the run wants said, in order ("calls": "12000"): the stress
  // run's coverage, the import probe.
  std::vector<std::pair<std::string, std::string>> facts;
  std::vector<RunDiagnostic> diagnostics;
  bool baseline_given = false;
  bool incomplete = false; // killed or crashed before the end
  Readiness readiness;     // set by ftready check
};

// The run facts of a report.json (root, readiness, facts, incomplete).
// Throws std::runtime_error when the file is not an ftready JSON report.
RunSummary readSummary(const std::string &path);
// The same from a report's text; `path` names it in errors.
RunSummary readSummaryText(const std::string &text, const std::string &path);

std::string render(Format format, const std::vector<Finding> &findings,
                   const RunSummary &summary);

std::string renderText(const std::vector<Finding> &findings,
                       const RunSummary &summary);
std::string renderJson(const std::vector<Finding> &findings,
                       const RunSummary &summary);
std::string renderSarif(const std::vector<Finding> &findings,
                        const RunSummary &summary);

// The findings of a report.json, a findings.jsonl or a SARIF log (rule,
// location, function, message; SARIF's partialFingerprints). Throws
// std::runtime_error naming the file when it is none of those.
std::vector<Finding> readFindings(const std::string &path);
// The same from the file's text; `path` names it in errors.
std::vector<Finding> readFindingsText(const std::string &text,
                                      const std::string &path);

// Fingerprints of a previous report (report.sarif or report.json), for
// --baseline. Throws std::runtime_error when it cannot be read or parsed.
std::set<std::string> readBaselineFingerprints(const std::string &path);

// Marks findings whose fingerprint the baseline has as Baselined.
unsigned applyBaseline(std::vector<Finding> &findings,
                       const std::set<std::string> &fingerprints);

// Exit code in the clang-tidy tradition: 1 when an active (not suppressed,
// not baselined) finding is at or above `failOn`, else 0.
int exitCodeFor(const std::vector<Finding> &findings, Severity failOn);

} // namespace ftready::reports
