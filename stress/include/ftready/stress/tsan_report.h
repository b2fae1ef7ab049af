// ThreadSanitizer's reports, parsed from what the process printed.
#pragma once

#include <string>
#include <vector>

namespace ftready::stress {

struct StackFrame {
  std::string function;
  std::string file;
  unsigned line = 0;
  std::string object; // the shared object, e.g. ftcorpus_cache.so
};

struct TsanStack {
  std::string title; // "Write of size 8 at 0x... by thread T2"
  std::vector<StackFrame> frames;
};

struct TsanReport {
  std::string kind; // "data race", "heap-use-after-free", ...
  std::vector<TsanStack> stacks;
  std::string summary; // the SUMMARY line
  std::string text;    // the whole report
};

std::vector<TsanReport> parseTsanReports(const std::string &output);

// The same parser, a line at a time, for output that is still coming.
class TsanStreamParser {
public:
  // Returns true when `line` completed a report, then available in report().
  bool feed(const std::string &line);
  const TsanReport &report() const { return done_; }
  bool inReport() const { return open_; }

private:
  TsanReport cur_;
  TsanReport done_;
  bool open_ = false;
};

// The topmost frame of `stack` inside the shared object `object` (the
// extension's .so), or null.
const StackFrame *topFrameIn(const TsanStack &stack, const std::string &object);

// The topmost frame of each stack that lies in a file under `sourceDir` (the
// extension's own code), as "function"; empty when no frame is there.
std::vector<std::string> extensionFunctions(const TsanReport &report,
                                            const std::string &sourceDir);

} // namespace ftready::stress
