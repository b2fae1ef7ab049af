#include "result_cache.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

namespace fs = std::filesystem;

namespace ftready::analyzer {

namespace {

std::string fileContent(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

std::string fileStamp(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return "missing";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

std::string ResultCache::keyFor(const std::string &file,
                                const std::vector<std::string> &commandLine,
                                const std::string &context) const {
  std::string material = context + "\n" + file + "\n";
  for (const auto &a : commandLine)
    material += a + "\x1f";
  material += "\n" + fileContent(file);
  return makeFingerprint("tu", version(), material, "");
}

std::optional<CachedOutcome> ResultCache::load(const std::string &key) const {
  if (dir_.empty())
    return std::nullopt;
  std::ifstream in(dir_ + "/" + key + ".json");
  if (!in)
    return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  // An entry without a state map is an older ftready's: parsed again.
  if (j.is_discarded() || !j.contains("dependencies") || !j.contains("state"))
    return std::nullopt;
  CachedOutcome out;
  for (const auto &d : j["dependencies"]) {
    if (fileStamp(d["path"].get<std::string>()) !=
        d["stamp"].get<std::string>())
      return std::nullopt;
    out.dependencies.push_back(d["path"].get<std::string>());
  }
  out.findings = j["findings"].get<std::vector<Finding>>();
  out.state = j["state"].get<StateMap>();
  for (const auto &d : j["diagnostics"])
    out.diagnostics.push_back({d["file"].get<std::string>(),
                               d["message"].get<std::string>(),
                               d["input_error"].get<bool>()});
  return out;
}

void ResultCache::store(const std::string &key, const CachedOutcome &outcome,
                        const std::vector<std::string> &dependencies) const {
  if (dir_.empty())
    return;
  nlohmann::json j;
  j["findings"] = outcome.findings;
  j["state"] = outcome.state;
  j["diagnostics"] = nlohmann::json::array();
  for (const auto &d : outcome.diagnostics)
    j["diagnostics"].push_back({{"file", d.file},
                                {"message", d.message},
                                {"input_error", d.input_error}});
  j["dependencies"] = nlohmann::json::array();
  for (const auto &p : dependencies)
    j["dependencies"].push_back({{"path", p}, {"stamp", fileStamp(p)}});
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Written whole, then renamed: a reader never sees half an entry, and two
  // threads storing the same key just replace each other.
  std::ostringstream tid;
  tid << std::this_thread::get_id();
  std::string tmp = dir_ + "/" + key + ".json." + tid.str() + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump();
    if (!out)
      return;
  }
  fs::rename(tmp, dir_ + "/" + key + ".json", ec);
}

} // namespace ftready::analyzer
