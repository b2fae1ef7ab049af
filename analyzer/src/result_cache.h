// Per-translation-unit result cache: a file whose content, flags and every
// header it included are unchanged is not parsed again.
#pragma once

#include "ftready/analyzer/scan.h"

#include <optional>
#include <string>
#include <vector>

namespace ftready::analyzer {

// Size and modification time in nanoseconds ("missing" when there is no
// such file): what tells an unchanged header.
std::string fileStamp(const std::string &path);

struct CachedOutcome {
  std::vector<Finding> findings;
  std::vector<ScanDiagnostic> diagnostics;
  StateMap state;
  std::vector<std::string> dependencies; // set by load()
};

class ResultCache {
public:
  // `dir` empty: caching off.
  explicit ResultCache(std::string dir) : dir_(std::move(dir)) {}

  // The key of one translation unit: its content, its command line and
  // whatever else changes the result (rules, report scope, version).
  std::string keyFor(const std::string &file,
                     const std::vector<std::string> &commandLine,
                     const std::string &context) const;

  // The cached outcome when every dependency still has its size and mtime.
  std::optional<CachedOutcome> load(const std::string &key) const;

  // `dependencies`: every file the parse read (main file and headers).
  void store(const std::string &key, const CachedOutcome &outcome,
             const std::vector<std::string> &dependencies) const;

private:
  std::string dir_;
};

} // namespace ftready::analyzer
