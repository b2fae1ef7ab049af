#include "ftready/stress/tsan_report.h"

#include <regex>
#include <sstream>

namespace ftready::stress {

namespace {

// "    #0 Cache_get /src/ftcorpus_cache.c:27:19 (ftcorpus_cache.so+0x1a2b)
// (BuildId: 8f..)" "    #3 <null> <null> (python3.13t+0x...)"
const std::regex kFrame(
    R"(^\s+#\d+\s+(\S+)\s+(\S+?)(?::(\d+)(?::\d+)?)?\s+\(([^+)]+)(?:\+0x[0-9a-f]+)?\)(?:\s+\(BuildId: [0-9a-f]+\))?\s*$)");
const std::regex
    kHeader(R"(^WARNING: ThreadSanitizer: (.+?)(?: \(pid=\d+\))?\s*$)");

std::string baseName(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::vector<TsanReport> parseTsanReports(const std::string &output) {
  std::vector<TsanReport> reports;
  std::istringstream in(output);
  TsanReport *cur = nullptr;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      reports.emplace_back();
      cur = &reports.back();
      cur->kind = m[1];
      cur->text = line + "\n";
      continue;
    }
    if (!cur)
      continue;
    if (line.rfind("==================", 0) == 0) {
      cur = nullptr;
      continue;
    }
    cur->text += line + "\n";
    if (line.rfind("SUMMARY: ThreadSanitizer:", 0) == 0) {
      cur->summary = line;
    } else if (std::regex_match(line, m, kFrame)) {
      if (cur->stacks.empty())
        cur->stacks.push_back({"", {}});
      StackFrame f;
      f.function = m[1];
      f.file = m[2];
      f.line = m[3].matched ? static_cast<unsigned>(std::stoul(m[3])) : 0;
      f.object = baseName(m[4]);
      cur->stacks.back().frames.push_back(f);
    } else if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' &&
               line[2] != ' ' && line.back() == ':') {
      cur->stacks.push_back({line.substr(2, line.size() - 3), {}});
    }
  }
  return reports;
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
