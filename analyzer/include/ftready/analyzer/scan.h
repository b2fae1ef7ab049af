// ftready scan: the static analyzer's entry point. Sources in, findings out.
#pragma once

#include "ftready/finding.h"
#include "ftready/state_map.h"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ftready::analyzer {

struct ScanOptions {
  std::vector<std::string> paths;   // files or folders
  std::string compile_commands_dir; // -p; empty: flags from `python_include`
  std::string python_include;       // the interpreter's include dir
  std::vector<std::string> extra_args;
  unsigned jobs = 1;
  std::set<std::string> rules; // empty: every rule
  std::string root;            // paths in findings are relative to it
  // Folders whose files' findings are reported (headers included); empty:
  // the folders of `paths`.
  std::vector<std::string> report_roots;
  // Per-translation-unit result cache (keyed by content, flags and every
  // header's size and mtime); empty: no cache.
  std::string cache_dir;
  // Parse the headers that several units include first, with the same
  // flags, once (a precompiled preamble kept beside the cache, or for the
  // run only when there is no cache). Findings are the same either way.
  bool shared_preamble = true;
};

// Something about the input the user should hear of: a path that does not
// exist, a file that did not parse. `input_error` ones make the run exit 2.
struct ScanDiagnostic {
  std::string file;
  std::string message;
  bool input_error = true;
};

struct ScanResult {
  std::vector<Finding> findings; // sorted; suppressed ones carry their status
  std::vector<ScanDiagnostic> diagnostics;
  // What each function reads and writes, and which Python callables it
  // implements (functions of the report scope only).
  StateMap state;
  unsigned files_scanned = 0;
  unsigned files_from_cache = 0;
  unsigned files_with_preamble = 0; // parsed with a shared preamble
  unsigned preambles_built = 0;
  std::vector<std::string> cython_files;
  unsigned suppressed = 0;
  // Translation units with parse errors (absolute), and every file under
  // the report roots that a unit included (a unity build's members).
  std::vector<std::string> unparsed;
  std::vector<std::string> included;
  bool interrupted = false; // Ctrl-C or SIGTERM: some files were not scanned
};

// Thrown for input that makes a scan impossible (no sources at all, a
// compile_commands.json that does not load).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

ScanResult scan(const ScanOptions &options);

// Rule ids the analyzer knows, in order.
std::vector<std::string> ruleIds();

} // namespace ftready::analyzer
