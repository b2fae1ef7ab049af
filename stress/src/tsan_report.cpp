#include "ftready/stress/tsan_report.h"

#include <cstdlib>
#include <regex>
#include <sstream>

namespace ftready::stress {

namespace {

// "    #0 Cache_get /src/ftcorpus_cache.c:27:19 (ftcorpus_cache.so+0x1a2b)
// (BuildId: 8f..)" "    #3 <null> <null> (python3.13t+0x...)"; a C++
// function keeps its spaces: "#1 ns::Map::get(int) const /src/m.cpp:9:3".
const std::regex kFrame(
    R"(^\s+#\d+\s+(.+?)\s+(\S+?)(?::(\d+)(?::\d+)?)?\s+\(([^+)]+)(?:\+0x[0-9a-f]+)?\)(?:\s+\(BuildId: [0-9a-f]+\))?\s*$)");
const std::regex
    kHeader(R"(^WARNING: ThreadSanitizer: (.+?)(?: \(pid=\d+\))?\s*$)");
// "==123==ERROR: ThreadSanitizer: SEGV on unknown address 0x0 (pc ...)": a
// crash TSan caught; its report ends with "==123==ABORTING".
const std::regex kErrorHeader(R"(^==\d+==ERROR: ThreadSanitizer: (\S+).*$)");
const std::regex kAborting(R"(^==\d+==ABORTING\s*$)");

// A line number as printed; 0 when it is not one a file could have (the
// text comes from a hostile process's log, and std::stoul throws).
unsigned lineNumber(const std::string &digits) {
  if (digits.empty() || digits.size() > 9)
    return 0;
  return static_cast<unsigned>(std::strtoul(digits.c_str(), nullptr, 10));
}

std::string baseName(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

bool TsanStreamParser::feed(const std::string &line) {
  std::smatch m;
  if (std::regex_match(line, m, kHeader) ||
      std::regex_match(line, m, kErrorHeader)) {
    cur_ = TsanReport{};
    cur_.kind = m[1];
    cur_.text = line + "\n";
    open_ = true;
    return false;
  }
  if (!open_)
    return false;
  if (line.rfind("==================", 0) == 0 ||
      std::regex_match(line, kAborting)) {
    open_ = false;
    done_ = std::move(cur_);
    return true;
  }
  cur_.text += line + "\n";
  if (line.rfind("SUMMARY: ThreadSanitizer:", 0) == 0) {
    cur_.summary = line;
  } else if (std::regex_match(line, m, kFrame)) {
    if (cur_.stacks.empty())
      cur_.stacks.push_back({"", {}});
    StackFrame f;
    f.function = m[1];
    f.file = m[2];
    f.line = m[3].matched ? lineNumber(m[3]) : 0;
    f.object = baseName(m[4]);
    cur_.stacks.back().frames.push_back(f);
  } else if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' &&
             line[2] != ' ' && line.back() == ':') {
    cur_.stacks.push_back({line.substr(2, line.size() - 3), {}});
  }
  return false;
}

std::vector<TsanReport> parseTsanReports(const std::string &output) {
  std::vector<TsanReport> reports;
  TsanStreamParser parser;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (parser.feed(line))
      reports.push_back(parser.report());
  return reports;
}

bool isAccessStack(const TsanStack &stack) {
  const std::string &t = stack.title;
  // "Mutex M1 acquired here while holding mutex M2": a lock-order
  // inversion is placed where the locks are taken.
  for (const char *p : {"Write", "Read", "Previous write", "Previous read",
                        "Atomic", "Previous atomic"})
    if (t.rfind(p, 0) == 0)
      return true;
  if (t.rfind("Mutex", 0) == 0) // not "Mutex M1 (0x..) created at"
    return t.find(" acquired ") != std::string::npos;
  return t.empty();
}

namespace {

bool underAny(const std::string &file, const std::vector<std::string> &roots) {
  for (const auto &r : roots)
    if (!r.empty() && file.rfind(r.back() == '/' ? r : r + "/", 0) == 0)
      return true;
  return false;
}

// ftready's own shims are linked into the extension: their __wrap_ frames
// are never the place to fix.
bool isShim(const StackFrame &f) { return f.function.rfind("__wrap_", 0) == 0; }

bool isInterpreterOrSystemFile(const std::string &file) {
  return file.rfind("/usr/", 0) == 0 ||
         file.find("/include/python3") != std::string::npos ||
         file.find("/Include/") != std::string::npos ||
         file.find("/Objects/") != std::string::npos ||
         file.find("/Python/") != std::string::npos;
}

} // namespace

const StackFrame *
ownFrame(const TsanStack &stack, const std::string &object,
         const std::vector<std::string> &sourceRoots,
         const std::function<bool(const std::string &)> &vendored) {
  if (vendored)
    for (const auto &f : stack.frames)
      if (f.object == object && f.line > 0 && !isShim(f) &&
          underAny(f.file, sourceRoots) && !vendored(f.file))
        return &f;
  for (const auto &f : stack.frames)
    if (f.object == object && f.line > 0 && !isShim(f) &&
        underAny(f.file, sourceRoots))
      return &f;
  for (const auto &f : stack.frames)
    if (f.object == object && f.line > 0 && !isShim(f) &&
        !isInterpreterOrSystemFile(f.file))
      return &f;
  // Built without -g: the function is still the extension's own.
  for (const auto &f : stack.frames)
    if (f.object == object && !isShim(f) && !isInterpreterOrSystemFile(f.file))
      return &f;
  return nullptr;
}

std::vector<std::string> extensionFunctions(const TsanReport &report,
                                            const std::string &sourceDir) {
  std::vector<std::string> out;
  for (const auto &stack : report.stacks)
    for (const auto &f : stack.frames)
      if (f.file.rfind(sourceDir, 0) == 0) {
        out.push_back(f.function);
        break;
      }
  return out;
}

} // namespace ftready::stress
