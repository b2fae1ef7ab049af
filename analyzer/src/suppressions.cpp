#include "suppressions.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace ftready::analyzer {

namespace {

std::vector<std::string> readLines(const std::string &path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  return lines;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

} // namespace

bool suppresses(const std::string &line, const std::string &rule,
                bool nextLineForm, std::string *reason) {
  const std::string tag =
      nextLineForm ? "ftready: ignore-next-line[" : "ftready: ignore[";
  size_t at = line.find(tag);
  if (at == std::string::npos)
    return false;
  size_t close = line.find(']', at);
  if (close == std::string::npos)
    return false;
  std::string list = line.substr(at + tag.size(), close - at - tag.size());
  std::stringstream ss(list);
  bool hit = false;
  for (std::string id; std::getline(ss, id, ',');)
    if (trim(id) == rule || trim(id) == "*")
      hit = true;
  if (hit && reason) {
    *reason = trim(line.substr(close + 1));
    if (reason->size() >= 2 && reason->substr(reason->size() - 2) == "*/")
      *reason = trim(reason->substr(0, reason->size() - 2));
  }
  return hit;
}

unsigned applySuppressions(std::vector<Finding> &findings,
                           const std::string &root) {
  std::map<std::string, std::vector<std::string>> files;
  unsigned count = 0;
  for (auto &f : findings) {
    std::filesystem::path p(f.location.file);
    std::string path = p.is_absolute() ? p.string() : (root + "/" + p.string());
    auto it = files.find(path);
    if (it == files.end())
      it = files.emplace(path, readLines(path)).first;
    const auto &lines = it->second;
    unsigned ln = f.location.line;
    std::string reason;
    bool hit = (ln >= 1 && ln <= lines.size() &&
                suppresses(lines[ln - 1], f.rule, false, &reason)) ||
               (ln >= 2 && ln - 1 <= lines.size() &&
                suppresses(lines[ln - 2], f.rule, true, &reason));
    if (hit) {
      f.status = Status::Suppressed;
      f.suppression_reason = reason.empty() ? "(no reason given)" : reason;
      ++count;
    }
  }
  return count;
}

} // namespace ftready::analyzer
