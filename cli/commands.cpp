#include "commands.h"

#include "ftready/analyzer/scan.h"
#include "ftready/interpreters.h"
#include "ftready/process.h"
#include "ftready/reports/render.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace ftready::cli {

namespace {

constexpr int kUsageError = 2;
constexpr int kInternalError = 3;

std::set<std::string> splitList(const std::string &s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty())
      out.insert(item);
  return out;
}

// A report.json or a findings.jsonl: the findings in it.
std::vector<Finding> readFindingsFile(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read '" + path + "'");
  std::string first;
  in >> std::ws;
  if (in.peek() == '{') {
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    // A JSON report is one object over several lines; JSONL is one per line.
    auto nl = text.find('\n');
    bool oneObjectPerLine = nl != std::string::npos && nl > 0 &&
                            text[nl - 1] == '}' &&
                            text.find("\"findings\"") == std::string::npos;
    if (!oneObjectPerLine) {
      nlohmann::json j = nlohmann::json::parse(text);
      if (!j.contains("findings"))
        throw std::runtime_error("'" + path + "' has no \"findings\"");
      return j["findings"].get<std::vector<Finding>>();
    }
    std::istringstream lines(text);
    return readJsonLines(lines);
  }
  throw std::runtime_error("'" + path +
                           "' is neither an ftready JSON report nor JSONL");
}

} // namespace

bool writeOutput(const std::string &path, const std::string &text,
                 std::string *error) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return true;
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) {
      *error = "cannot write '" + path + "'";
      return false;
    }
    out << text;
    if (!out) {
      *error = "cannot write '" + path + "'";
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    *error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  return true;
}

void Commands::registerAll(CLI::App &app) {
  auto *scan = app.add_subcommand("scan", "static analysis of C/C++ sources");
  scan->add_option("paths", scan_.paths, "source files or folders")->required();
  scan->add_option("-p", scan_.compdb, "folder holding compile_commands.json");
  scan->add_option("--python", scan_.python,
                   "interpreter whose headers to use without -p (default: "
                   "the managed 3.13t)");
  scan->add_option("--extra-arg", scan_.extra_args,
                   "extra compiler argument (repeatable)");
  scan->add_option("-j", scan_.jobs, "parallel translation units")
      ->check(CLI::Range(1u, 256u));
  scan->add_option("--rules", scan_.rules, "comma-separated rule ids");
  scan->add_option("--format", scan_.format, "text, json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  scan->add_option("-o", scan_.output, "output file (default: stdout)");
  scan->add_option("--baseline", scan_.baseline,
                   "previous report.sarif/report.json: only new findings fail");
  scan->add_option("--fail-on", scan_.fail_on,
                   "lowest severity that fails the run")
      ->check(CLI::IsMember({"note", "warning", "error"}));
  scan->add_option("--root", scan_.root,
                   "paths in the report are relative to it (default: .)");

  auto *tc = app.add_subcommand(
      "toolchain", "list, build or rebuild the managed interpreters");
  tc->add_flag("--build", toolchain_.build, "build what is missing");
  tc->add_flag("--rebuild", toolchain_.rebuild, "rebuild from scratch");
  tc->add_flag("--with-3.14", toolchain_.with_314,
               "also the optional 3.14t pair");
  tc->add_option("--flavour", toolchain_.flavours,
                 "3.13t, 3.13t-tsan, 3.14t, 3.14t-tsan");

  auto *rep = app.add_subcommand(
      "report", "re-render or merge report.json / findings.jsonl files");
  rep->add_option("inputs", report_.inputs, "report.json or findings.jsonl")
      ->required();
  rep->add_option("--format", report_.format, "text, json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  rep->add_option("-o", report_.output, "output file (default: stdout)");

  app.add_subcommand("stress", "ThreadSanitizer stress run (issue 4)")
      ->allow_extras();
  app.add_subcommand("check", "scan + stress + report in one (issue 5)")
      ->allow_extras();
}

int Commands::run(const CLI::App &sub) {
  try {
    std::string name = sub.get_name();
    if (name == "scan")
      return scan();
    if (name == "toolchain")
      return toolchain();
    if (name == "report")
      return report();
    if (name == "stress")
      return notYet(name, "issue 4");
    if (name == "check")
      return notYet(name, "issue 5");
  } catch (const std::exception &e) {
    log_->critical("internal error: {}", e.what());
    return kInternalError;
  }
  return kUsageError;
}

int Commands::notYet(const std::string &name, const std::string &issue) {
  std::cerr << "ftready: error: '" << name
            << "' is not implemented in this version (" << issue << ")\n";
  return kInternalError;
}

int Commands::printVersion() {
  std::cout << "ftready " << version() << "\n";
  std::string cache;
  try {
    cache = cacheDirectory();
  } catch (const std::exception &e) {
    std::cout << "interpreters: unknown (" << e.what() << ")\n";
    return 0;
  }
  std::cout << "interpreters (cache " << cache << "):\n";
  for (const auto &f : managedFlavours()) {
    std::string path = managedInterpreterPath(cache, f);
    if (fs::exists(path))
      std::cout << "  " << f << "  " << path << "\n";
    else
      std::cout << "  " << f << "  missing\n";
  }
  return 0;
}

int Commands::toolchain() {
  std::string cache;
  try {
    cache = cacheDirectory();
  } catch (const std::exception &e) {
    std::cerr << "ftready: error: " << e.what() << "\n";
    return kUsageError;
  }
  if (toolchain_.build || toolchain_.rebuild) {
    std::vector<std::string> argv = {"bash", FTREADY_SOURCE_DIR
                                     "/scripts/toolchain.sh"};
    if (toolchain_.rebuild)
      argv.push_back("--rebuild");
    if (toolchain_.with_314)
      argv.push_back("--with-3.14");
    for (const auto &f : toolchain_.flavours) {
      argv.push_back("--flavour");
      argv.push_back(f);
    }
    std::string cmd;
    for (const auto &a : argv)
      cmd += "'" + a + "' ";
    int rc = std::system(cmd.c_str());
    if (rc != 0)
      return WIFEXITED(rc) ? WEXITSTATUS(rc) : kInternalError;
  }
  std::cout << "flavour      version   GIL        TSan  path\n";
  for (const auto &f : managedFlavours()) {
    std::string path = managedInterpreterPath(cache, f);
    std::string why;
    auto in = fs::exists(path) ? probeInterpreter(path, &why) : std::nullopt;
    if (!in) {
      std::cout << f << std::string(13 - f.size(), ' ') << "missing"
                << (why.empty() ? "" : " (" + why + ")") << "\n";
      continue;
    }
    std::string gil = in->gil_enabled_at_run ? "enabled" : "disabled";
    std::cout << f << std::string(13 - f.size(), ' ') << in->version
              << std::string(
                     in->version.size() < 10 ? 10 - in->version.size() : 1, ' ')
              << gil << std::string(11 - gil.size(), ' ')
              << (in->tsan ? "yes   " : "no    ") << in->path << "\n";
  }
  return 0;
}

int Commands::scan() {
  analyzer::ScanOptions opts;
  opts.paths = scan_.paths;
  opts.compile_commands_dir = scan_.compdb;
  opts.extra_args = scan_.extra_args;
  opts.jobs = scan_.jobs;
  opts.rules = splitList(scan_.rules);
  opts.root = scan_.root;
  if (opts.compile_commands_dir.empty()) {
    std::string python = scan_.python;
    if (python.empty()) {
      try {
        python = managedInterpreterPath(cacheDirectory(), "3.13t");
      } catch (const std::exception &e) {
        std::cerr << "ftready: error: " << e.what() << "\n";
        return kUsageError;
      }
    }
    std::string why;
    auto in = probeInterpreter(python, &why);
    if (!in) {
      std::cerr << "ftready: error: no usable interpreter for headers: " << why
                << " (run scripts/toolchain.sh, or pass --python or -p)\n";
      return kUsageError;
    }
    opts.python_include = in->include_dir;
  }
  std::set<std::string> baseline;
  if (!scan_.baseline.empty()) {
    try {
      baseline = reports::readBaselineFingerprints(scan_.baseline);
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  analyzer::ScanResult result;
  try {
    result = analyzer::scan(opts);
  } catch (const analyzer::UsageError &e) {
    std::cerr << "ftready: error: " << e.what() << "\n";
    return kUsageError;
  }
  reports::applyBaseline(result.findings, baseline);
  reports::RunSummary summary;
  summary.root = fs::absolute(opts.root).lexically_normal().string();
  summary.files_scanned = result.files_scanned;
  summary.baseline_given = !scan_.baseline.empty();
  bool inputError = false;
  for (const auto &d : result.diagnostics) {
    summary.diagnostics.push_back({d.file, d.message});
    if (d.input_error)
      log_->warn("{}: {}", d.file, d.message);
    inputError |= d.input_error;
  }
  std::string text = reports::render(*reports::parseFormat(scan_.format),
                                     result.findings, summary);
  std::string err;
  if (!writeOutput(scan_.output, text, &err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }
  if (inputError)
    return kUsageError;
  return reports::exitCodeFor(result.findings, *parseSeverity(scan_.fail_on));
}

int Commands::report() {
  std::vector<Finding> merged;
  std::set<std::string> seen;
  for (const auto &path : report_.inputs) {
    try {
      for (auto &f : readFindingsFile(path))
        if (seen.insert(f.fingerprint + f.location.file +
                        std::to_string(f.location.line) + f.rule)
                .second)
          merged.push_back(std::move(f));
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  sortFindings(merged);
  reports::RunSummary summary;
  summary.root = fs::current_path().string();
  std::string err;
  if (!writeOutput(report_.output,
                   reports::render(*reports::parseFormat(report_.format),
                                   merged, summary),
                   &err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }
  return 0;
}

} // namespace ftready::cli
