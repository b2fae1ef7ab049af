// The subcommands of build/ftready and their options.
#pragma once

#include <CLI/CLI.hpp>
#include <spdlog/logger.h>

#include "ftready/finding.h"
#include "ftready/interpreters.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ftready::cli {

struct ScanArgs {
  std::vector<std::string> paths;
  std::string compdb;
  std::string python;
  std::vector<std::string> extra_args;
  unsigned jobs = 1;
  std::string rules;
  std::string format = "text";
  std::string output;
  std::string baseline;
  std::string fail_on = "warning";
  std::string root = ".";
  bool no_cache = false;
  bool no_shared_preamble = false;
  // --from-build PROJECT: scan exactly what the project's own build
  // compiles, with its flags (the build runs once, with the managed 3.13t).
  std::string from_build;
  std::string build_cmd;
  bool include_vendored = false;
  std::string state_map; // write the state-access map here
};

struct ToolchainArgs {
  bool build = false;
  bool rebuild = false;
  bool with_314 = false;
  std::vector<std::string> flavours;
  std::string cpython_source; // a tarball or folder
};

struct StressArgs {
  std::string target; // a built .so
  std::vector<std::string> sources;
  std::string module;
  std::vector<std::string> cflags;
  std::string python = "3.13t-tsan";
  unsigned threads = 0; // 0: max(4, 2 x cores)
  std::string budget = "60s";
  unsigned seed = 0;
  unsigned iterations = 50;
  double hang_seconds = 30;
  std::string findings;
  std::string state_map; // from ftready scan --state-map
  std::string jsonl = "ftready-stress.jsonl";
  std::string format = "text";
  std::string output;
  std::string fail_on = "warning";
  bool no_shims = false;
  int shim_yield = 20;
  std::string scenario;
  std::vector<std::string> only; // targets to call; empty: all
  std::string max_rss;           // "512M", "4G"; empty: the default
};

struct CheckArgs {
  std::string project;
  std::vector<std::string> paths; // default: the project folder
  std::string python;             // default 3.13t-tsan
  unsigned threads = 0;
  std::string budget;  // default 10m (or [tool.ftready] budget)
  std::string fail_on; // default warning
  std::string baseline;
  std::string output = "ftready-report";
  std::string rules;
  std::string module;
  std::map<std::string, Severity> severity; // [tool.ftready.severity]
  std::string build_cmd;                    // instead of setup.py / pyproject
  std::string compile_commands;        // an existing build's database folder
  std::vector<std::string> extra_args; // to the scan (and CFLAGS)
  bool include_vendored = false;
  std::set<std::string> modules;         // [tool.ftready] modules
  std::set<std::string> exclude_modules; // [tool.ftready] exclude-modules
  std::string max_rss;                   // "512M", "4G"; empty: the default
};

struct ReportArgs {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string output;
  std::string
      root; // where the sources are (code excerpts); default: the report's
};

class Commands {
public:
  explicit Commands(std::shared_ptr<spdlog::logger> log)
      : log_(std::move(log)) {}
  void registerAll(CLI::App &app);
  int run(const CLI::App &sub);
  int printVersion();

private:
  int scan();
  int toolchain();
  int report();
  int stress();
  int check();

  std::shared_ptr<spdlog::logger> log_;
  ScanArgs scan_;
  ToolchainArgs toolchain_;
  StressArgs stress_;
  CheckArgs check_;
  ReportArgs report_;
};

// "60s", "5m", "90" (seconds), "1h".
std::optional<double> parseDuration(const std::string &s);

// "512M", "4G", "100K": bytes.
std::optional<unsigned long long> parseSize(const std::string &s);

// A managed flavour name (3.13t-tsan) or an interpreter path (the user's
// own), probed and checked to be a free-threaded CPython (checkFreeThreaded).
// std::nullopt with `why` saying what is wrong and what to do; `warning`, if
// given, is set for an interpreter that is used but not one ftready knows.
std::optional<Interpreter> resolveInterpreter(const std::string &flavourOrPath,
                                              std::string *why,
                                              std::string *warning = nullptr);

// Whether `flavourOrPath` names a managed flavour (3.13t, 3.13t-tsan...).
bool isManagedFlavour(const std::string &flavourOrPath);

std::set<std::string> splitList(const std::string &s);

// Writes `text` to `path` through a temporary file and a rename, so a reader
// never sees half a report; "-" or empty writes to stdout.
bool writeOutput(const std::string &path, const std::string &text,
                 std::string *error);

} // namespace ftready::cli
