// ThreadSanitizer's reports, parsed from what the process printed.
#pragma once

#include <functional>
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

// Is this one of the report's access stacks ("Write of size 8 ...",
// "Previous read ...", or a crash's untitled stack), not where a block was
// allocated or a thread created?
bool isAccessStack(const TsanStack &stack);

// The first frame of `stack` in the project's own sources: inside `object`
// and in a file under one of `sourceRoots`; failing that, the first frame
// inside `object` that is not in a header of the interpreter or the system
// (CPython's inline functions, pyatomic_gcc.h, are evidence, not the place
// to fix). Frames in vendored code (`vendored` says which files are) yield
// to the project's own caller: the lock goes where the project calls the
// bundled library. Null when the stack never enters the extension.
const StackFrame *
ownFrame(const TsanStack &stack, const std::string &object,
         const std::vector<std::string> &sourceRoots,
         const std::function<bool(const std::string &)> &vendored = {});

// The topmost frame of each stack that lies in a file under `sourceDir` (the
// extension's own code), as "function"; empty when no frame is there.
std::vector<std::string> extensionFunctions(const TsanReport &report,
                                            const std::string &sourceDir);

} // namespace ftready::stress
