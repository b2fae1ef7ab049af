#include "commands.h"

#include "ftready/analyzer/scan.h"
#include "ftready/interpreters.h"
#include "ftready/process.h"
#include "ftready/project/project.h"
#include "ftready/reports/render.h"
#include "ftready/stress/extension_build.h"
#include "ftready/stress/stress_run.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftready::cli {

namespace {

constexpr int kUsageError = 2;
constexpr int kInternalError = 3;

} // namespace

std::set<std::string> splitList(const std::string &s) {
  std::set<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty())
      out.insert(item);
  return out;
}

bool writeOutput(const std::string &path, const std::string &text,
                 std::string *error) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return true;
  }
  // A device, a FIFO or a terminal (-o /dev/null, -o /dev/stdout) is
  // written in place: a rename over it would replace it with a regular
  // file, and as root that destroys /dev/null for the whole machine.
  std::error_code st;
  auto status = fs::status(path, st);
  if (!st && fs::exists(status) && !fs::is_regular_file(status)) {
    std::ofstream out(path);
    out << text;
    if (!out) {
      *error = "cannot write '" + path + "'";
      return false;
    }
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
  scan->add_option("paths", scan_.paths, "source files or folders");
  scan->add_option("-p", scan_.compdb, "folder holding compile_commands.json");
  scan->add_option("--python", scan_.python,
                   "interpreter whose headers to use without -p (default: "
                   "the managed 3.13t)");
  scan->add_option("--extra-arg", scan_.extra_args,
                   "extra compiler argument (repeatable)")
      ->allow_extra_args(false);
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
  scan->add_option("--from-build", scan_.from_build,
                   "a project folder: run its own build once and scan exactly "
                   "the units it compiles, with its flags");
  scan->add_option("--build-cmd", scan_.build_cmd,
                   "with --from-build: the command that builds it (default: "
                   "setup.py / pyproject.toml with setuptools)");
  scan->add_flag("--include-vendored", scan_.include_vendored,
                 "count findings in vendored code like the project's own");
  scan->add_option("--state-map", scan_.state_map,
                   "also write the state-access map here (JSON): what C state "
                   "each function reads and writes, and which Python "
                   "callables it implements; stress --state-map uses it");
  scan->add_flag("--no-shared-preamble", scan_.no_shared_preamble,
                 "parse Python.h and the other headers units include first "
                 "again for every unit (default: once per set of flags, "
                 "kept beside the cache)");
  scan->add_flag("--no-cache", scan_.no_cache,
                 "parse every file again (default: reuse the results of "
                 "unchanged translation units from the cache)");

  auto *tc = app.add_subcommand(
      "toolchain", "list, build or rebuild the managed interpreters");
  tc->add_flag("--build", toolchain_.build, "build what is missing");
  tc->add_flag("--rebuild", toolchain_.rebuild, "rebuild from scratch");
  tc->add_flag("--with-3.14", toolchain_.with_314,
               "also the optional 3.14t pair");
  tc->add_option("--flavour", toolchain_.flavours,
                 "3.13t, 3.13t-tsan, 3.14t, 3.14t-tsan");
  tc->add_option("--cpython-source", toolchain_.cpython_source,
                 "build the pair (release and TSan) from this CPython source "
                 "tarball or folder, 3.13 or newer, instead of Debian's");

  auto *rep = app.add_subcommand(
      "report", "re-render or merge report.json / findings.jsonl files");
  rep->add_option("inputs", report_.inputs, "report.json or findings.jsonl")
      ->required();
  rep->add_option("--format", report_.format,
                  "text, json, sarif, md, html or junit")
      ->check(CLI::IsMember({"text", "json", "sarif", "md", "html", "junit"}));
  rep->add_option("-o", report_.output, "output file (default: stdout)");
  rep->add_option("--root", report_.root,
                  "the sources' folder, for code excerpts (default: the "
                  "report's own root)");

  auto *st = app.add_subcommand(
      "stress", "hammer an extension from many threads under ThreadSanitizer");
  st->add_option("target", stress_.target,
                 "an already-built extension .so, or a setuptools project "
                 "folder (setup.py / pyproject.toml)");
  st->add_option("--sources", stress_.sources, "extension sources to build");
  st->add_option("--module", stress_.module, "module name (PyInit_<name>)");
  st->add_option("--cflags", stress_.cflags, "extra compiler flags");
  st->add_option("--python", stress_.python,
                 "managed flavour or interpreter (default 3.13t-tsan)");
  st->add_option("--threads", stress_.threads,
                 "threads per round (default max(4, 2 x cores))")
      ->check(CLI::Range(2u, 512u));
  st->add_option("--budget", stress_.budget, "time budget: 60s, 5m");
  st->add_option("--seed", stress_.seed, "seed of the deterministic choices");
  st->add_option("--iterations", stress_.iterations,
                 "calls per thread per round")
      ->check(CLI::Range(1u, 1000000u));
  st->add_option("--hang-seconds", stress_.hang_seconds,
                 "a round longer than this is a hang")
      ->check(CLI::Range(1.0, 3600.0));
  st->add_option("--findings", stress_.findings,
                 "ftready scan results (SARIF/JSON) that steer the run");
  st->add_option("--state-map", stress_.state_map,
                 "ftready scan --state-map's file: run callables that share "
                 "state together, and lazy initialisations' first calls at "
                 "once in fresh processes");
  st->add_option("--jsonl", stress_.jsonl,
                 "findings stream here as they happen");
  st->add_option("--format", stress_.format, "text, json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  st->add_option("-o", stress_.output, "report file (default: stdout)");
  st->add_option("--only", stress_.only,
                 "call only these targets (Type.method, function), "
                 "comma-separated; default: every one discovered")
      ->delimiter(',');
  st->add_option("--scenario", stress_.scenario,
                 "Python file defining scenario(mod) -> [(name, callable, "
                 "args)]: extra calls with their set-up")
      ->check(CLI::ExistingFile);
  st->add_option("--max-rss", stress_.max_rss,
                 "stop a target whose process passes this resident memory "
                 "(K, M or G; default: a third of the machine's, at most 8G)");
  st->add_flag("--no-shims", stress_.no_shims,
               "do not link the C API shims into the extension");
  st->add_option("--shim-yield", stress_.shim_yield,
                 "how often the shims hold a borrowed reference's window "
                 "open, in 1/1000 (default 20)")
      ->check(CLI::Range(0, 1000));
  st->add_option("--fail-on", stress_.fail_on,
                 "lowest severity that fails the run")
      ->check(CLI::IsMember({"note", "warning", "error"}));
  auto *ck = app.add_subcommand(
      "check", "scan, build, stress and report in one: the readiness verdict");
  ck->add_option("project", check_.project,
                 "the extension's folder (its pyproject.toml [tool.ftready] "
                 "is read)")
      ->required();
  ck->add_option("--paths", check_.paths,
                 "sources to build and scan when the project has no build "
                 "system (default: the project folder)");
  ck->add_option("--module", check_.module,
                 "module name (default: from its PyInit_<name>)");
  ck->add_option("--python", check_.python,
                 "interpreter for the stress run (default 3.13t-tsan)");
  ck->add_option("--threads", check_.threads, "stress threads")
      ->check(CLI::Range(2u, 512u));
  ck->add_option("--budget", check_.budget, "time budget (default 10m)");
  ck->add_option("--max-rss", check_.max_rss,
                 "stop a stress target whose process passes this resident "
                 "memory (K, M or G; default: a third of the machine's, at "
                 "most 8G)");
  ck->add_option("--rules", check_.rules, "comma-separated rule ids");
  ck->add_option("--baseline", check_.baseline,
                 "previous report.sarif/report.json: only new findings fail");
  ck->add_option("--fail-on", check_.fail_on,
                 "lowest severity that fails the run (default warning)")
      ->check(CLI::IsMember({"note", "warning", "error"}));
  ck->add_option("-o", check_.output, "report folder (default ftready-report)");
  ck->add_option("--build-cmd", check_.build_cmd,
                 "the command that builds the project (default: setup.py, "
                 "or pyproject.toml with setuptools), run once in a copy");
  ck->add_option("--compile-commands", check_.compile_commands,
                 "folder of an existing build's compile_commands.json "
                 "(meson, CMake) and its built modules");
  ck->add_option("--extra-arg", check_.extra_args,
                 "extra compiler argument for the build and the scan "
                 "(repeatable)")
      ->allow_extra_args(false);
  ck->add_flag("--include-vendored", check_.include_vendored,
               "count findings in vendored code like the project's own");
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
      return stress();
    if (name == "check")
      return check();
  } catch (const std::exception &e) {
    log_->critical("internal error: {}", e.what());
    return kInternalError;
  }
  return kUsageError;
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
  if (toolchain_.build || toolchain_.rebuild ||
      !toolchain_.cpython_source.empty()) {
    std::vector<std::string> argv = {"bash", FTREADY_SOURCE_DIR
                                     "/scripts/toolchain.sh"};
    if (toolchain_.rebuild)
      argv.push_back("--rebuild");
    if (!toolchain_.cpython_source.empty()) {
      argv.push_back("--cpython-source");
      argv.push_back(fs::absolute(toolchain_.cpython_source).string());
    }
    if (toolchain_.with_314)
      argv.push_back("--with-3.14");
    for (const auto &f : toolchain_.flavours) {
      argv.push_back("--flavour");
      argv.push_back(f);
    }
    std::string cmd;
    for (const auto &a : argv) {
      cmd += "'";
      for (char c : a)
        cmd += c == '\'' ? std::string("'\\''") : std::string(1, c);
      cmd += "' ";
    }
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
  if (opts.paths.empty() && scan_.from_build.empty()) {
    std::cerr << "ftready: error: give source files or folders, or "
                 "--from-build PROJECT\n";
    return kUsageError;
  }
  opts.shared_preamble = !scan_.no_shared_preamble;
  if (!scan_.no_cache) {
    try {
      opts.cache_dir = cacheDirectory() + "/scan-cache";
    } catch (const std::exception &) {
      // no HOME and no FTREADY_CACHE: scan without a cache
    }
  }
  std::optional<Interpreter> in;
  if (opts.compile_commands_dir.empty() || !scan_.from_build.empty()) {
    std::string python = scan_.python.empty() ? "3.13t" : scan_.python;
    std::string why;
    in = resolveInterpreter(python, &why);
    if (!in) {
      std::cerr << "ftready: error: no usable interpreter for headers: " << why
                << " (or give -p with a compile_commands.json)\n";
      return kUsageError;
    }
    opts.python_include = in->include_dir;
  }
  // --from-build: the project's own build decides what is scanned, and how.
  std::unique_ptr<WorkDir> work;
  project::ProjectBuild built;
  if (!scan_.from_build.empty()) {
    if (!fs::is_directory(scan_.from_build)) {
      std::cerr << "ftready: error: no such project folder '"
                << scan_.from_build << "'\n";
      return kUsageError;
    }
    work = std::make_unique<WorkDir>("ftready-scan");
    std::string why;
    project::BuildRequest req =
        project::requestFor(scan_.from_build, scan_.build_cmd, scan_.compdb,
                            *in, work->path(), FTREADY_CC_WRAPPER, &why);
    req.cflags = scan_.extra_args;
    if (req.kind != project::BuildKind::Unsupported)
      built = project::build(req);
    project::ScanPlan plan = project::scanPlan(built);
    if (plan.files.empty()) {
      std::cerr << "ftready: error: the build of '" << scan_.from_build
                << "' compiled nothing" << (why.empty() ? "" : ": " + why)
                << "\n";
      for (const auto &p : built.problems)
        std::cerr << "  " << p.what << "\n    to fix: " << p.fix << "\n";
      return kUsageError;
    }
    opts.paths = plan.files;
    opts.cache_dir.clear(); // a fresh temporary copy: no hit, only growth
    opts.compile_commands_dir = plan.compile_commands_dir;
    opts.root = plan.root;
    opts.report_roots = {plan.root};
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
  if (work && !scan_.include_vendored)
    project::markVendored(result.findings, built);
  reports::applyBaseline(result.findings, baseline);
  reports::RunSummary summary;
  summary.root = work ? built.source_root
                      : fs::absolute(opts.root).lexically_normal().string();
  if (work) {
    for (auto &d : result.diagnostics)
      d.file = project::toOriginal(built, d.file);
    for (const auto &p : built.problems)
      result.diagnostics.push_back(
          {built.source_root, "build: " + p.what + " (to fix: " + p.fix + ")"});
    summary.facts.push_back(
        {"build", std::string(project::toString(built.kind)) + ", " +
                      std::to_string(built.units.size()) + " units compiled" +
                      (built.ok ? "" : ", FAILED")});
  }
  summary.files_scanned = result.files_scanned;
  summary.incomplete = result.interrupted; // Ctrl-C: what was scanned
  summary.baseline_given = !scan_.baseline.empty();
  summary.facts.push_back(
      {"from cache", std::to_string(result.files_from_cache) + " of " +
                         std::to_string(result.files_scanned) + " files"});
  log_->info("{} of {} files parsed with a shared preamble ({} built now)",
             result.files_with_preamble, result.files_scanned,
             result.preambles_built);
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
  if (!scan_.state_map.empty()) {
    if (work)
      mapFiles(result.state, [&built](const std::string &f) {
        return project::toOriginal(built, f);
      });
    try {
      writeStateMap(scan_.state_map, result.state);
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  if (!writeOutput(scan_.output, text, &err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }
  if (inputError)
    return kUsageError;
  return reports::exitCodeFor(result.findings, *parseSeverity(scan_.fail_on));
}

namespace {

// "12.5m" -> (12.5, "m"); nullopt unless it starts with a finite positive
// number ("inf", "nan" and "-3" are not amounts).
std::optional<std::pair<double, std::string>>
amountAndUnit(const std::string &s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (!std::isfinite(v) || v <= 0)
    return std::nullopt;
  return std::make_pair(v, s.substr(used));
}

} // namespace

std::optional<double> parseDuration(const std::string &s) {
  auto a = amountAndUnit(s);
  if (!a)
    return std::nullopt;
  const std::string &unit = a->second;
  double scale = unit.empty() || unit == "s" ? 1
                 : unit == "m"               ? 60
                 : unit == "h"               ? 3600
                                             : -1;
  if (scale < 0)
    return std::nullopt;
  return a->first * scale;
}

std::optional<unsigned long long> parseSize(const std::string &s) {
  auto a = amountAndUnit(s);
  if (!a)
    return std::nullopt;
  const std::string &unit = a->second;
  double scale = unit == "K"   ? 1024.0
                 : unit == "M" ? 1024.0 * 1024
                 : unit == "G" ? 1024.0 * 1024 * 1024
                               : -1;
  // At least 1 MiB, at most 1 PiB: no rounding to 0 ("the default"), no
  // overflowing conversion.
  double bytes = a->first * scale;
  if (scale < 0 || bytes < 1048576.0 || bytes > 1125899906842624.0)
    return std::nullopt;
  return static_cast<unsigned long long>(bytes);
}

namespace {

// "PyDict_GetItemWithError in Cache_get (file.c:25): 1200 calls, 30
// concurrent; ..." for the sites that ran concurrently.
std::string shimSummary(const stress::StressSummary &s, bool on) {
  if (!on)
    return "off";
  std::string out = std::to_string(s.shim_sites.size()) +
                    " hazardous call sites, " + std::to_string(s.shim_spins) +
                    " windows held open";
  for (const auto &site : s.shim_sites)
    if (site.concurrent > 0)
      out += "; " + site.api + " in " + site.function + " (" +
             fs::path(site.location).filename().string() +
             "): " + std::to_string(site.calls) + " calls, " +
             std::to_string(site.concurrent) + " concurrent";
  return out;
}

} // namespace

bool isManagedFlavour(const std::string &flavourOrPath) {
  const auto &all = managedFlavours();
  return std::find(all.begin(), all.end(), flavourOrPath) != all.end();
}

std::optional<Interpreter> resolveInterpreter(const std::string &flavourOrPath,
                                              std::string *why,
                                              std::string *warning) {
  std::string path = flavourOrPath;
  if (isManagedFlavour(flavourOrPath)) {
    try {
      path = managedInterpreterPath(cacheDirectory(), flavourOrPath);
    } catch (const std::exception &e) {
      *why = e.what();
      return std::nullopt;
    }
    if (!fs::exists(path)) {
      *why = "the managed " + flavourOrPath + " is not built (" + path +
             " is missing): run `ftready toolchain --build` or "
             "scripts/toolchain.sh, or give --python with your own "
             "free-threaded interpreter";
      return std::nullopt;
    }
  } else if (flavourOrPath.find('/') == std::string::npos) {
    // A bare name such as python3.13t: the first one on PATH.
    auto found = findOnPath(flavourOrPath);
    if (found.empty()) {
      *why = "'" + flavourOrPath +
             "' is neither a managed flavour (3.13t, 3.13t-tsan, 3.14t, "
             "3.14t-tsan) nor a program on PATH";
      return std::nullopt;
    }
    path = found;
  }
  auto in = probeInterpreter(path, why);
  if (!in)
    return std::nullopt;
  auto verdict = checkFreeThreaded(*in);
  if (!verdict.error.empty()) {
    *why = verdict.error;
    return std::nullopt;
  }
  if (isManagedFlavour(flavourOrPath))
    in->flavour = flavourOrPath;
  if (warning)
    *warning = verdict.warning;
  return in;
}

int Commands::stress() {
  auto budget = parseDuration(stress_.budget);
  if (!budget) {
    std::cerr << "ftready: error: --budget '" << stress_.budget
              << "' is not a duration (60s, 5m, 1h)\n";
    return kUsageError;
  }
  std::string why;
  std::string warning;
  auto interp = resolveInterpreter(stress_.python, &why, &warning);
  if (!interp) {
    std::cerr << "ftready: error: no usable interpreter: " << why << "\n";
    return kUsageError;
  }
  if (!warning.empty())
    log_->warn("{}", warning);
  stress::StressOptions o;
  o.interpreter = *interp;
  o.root = fs::current_path().string();
  o.budget_seconds = *budget;
  o.seed = stress_.seed;
  o.iterations = stress_.iterations;
  o.hang_seconds = stress_.hang_seconds;
  o.forkwatch_library = FTREADY_FORKWATCH_LIBRARY;
  if (!stress_.max_rss.empty()) {
    auto rss = parseSize(stress_.max_rss);
    if (!rss) {
      std::cerr << "ftready: error: --max-rss '" << stress_.max_rss
                << "' is not a size such as 512M or 4G\n";
      return kUsageError;
    }
    o.max_rss_bytes = *rss;
  }
  if (!stress_.scenario.empty())
    o.scenario = fs::absolute(stress_.scenario).string();
  o.only = stress_.only;
  o.threads = stress_.threads
                  ? stress_.threads
                  : std::max(4u, 2 * std::thread::hardware_concurrency());
  if (!interp->tsan)
    log_->warn("{} is not built with ThreadSanitizer: crashes, hangs and "
               "errors are still found, data races are not; {}",
               interp->path, howToGetTsanBuild());
  // A temporary build of the sources, or a project's build copy.
  std::unique_ptr<WorkDir> work;
  if (!stress_.sources.empty()) {
    if (stress_.module.empty()) {
      std::cerr << "ftready: error: --sources needs --module NAME\n";
      return kUsageError;
    }
    for (const auto &src : stress_.sources)
      if (!fs::exists(src)) {
        std::cerr << "ftready: error: no such source '" << src << "'\n";
        return kUsageError;
      }
    work = std::make_unique<WorkDir>("ftready-build");
    std::string out = work->path();
    std::vector<std::string> sources;
    for (const auto &src : stress_.sources) {
      sources.push_back(fs::absolute(src).lexically_normal().string());
      o.source_roots.push_back(fs::path(sources.back()).parent_path());
    }
    stress::ExtensionSources src{sources, stress_.module, stress_.cflags,
                                 stress_.no_shims ? "" : FTREADY_SHIMS_LIBRARY};
    auto built = stress::buildExtension(src, *interp, out);
    o.shims = !stress_.no_shims;
    o.shim_yield_permille = stress_.shim_yield;
    if (!built.ok) {
      std::cerr << "ftready: error: the extension did not build:\n"
                << built.log;
      return kUsageError;
    }
    o.module = stress_.module;
    o.module_dir = built.directory;
    o.object_name = fs::path(built.path).filename().string();
  } else if (fs::is_directory(stress_.target)) {
    // A project: its own build, through the one place that knows projects.
    work = std::make_unique<WorkDir>("ftready-stress");
    std::string why;
    project::BuildRequest req =
        project::requestFor(stress_.target, "", "", *interp, work->path(),
                            FTREADY_CC_WRAPPER, &why);
    req.cflags = stress_.cflags;
    if (!stress_.no_shims)
      req.ldflags = stress::shimLinkFlags(FTREADY_SHIMS_LIBRARY);
    auto built = req.kind == project::BuildKind::Unsupported
                     ? project::ProjectBuild{}
                     : project::build(req);
    const project::ExtensionModule *chosen = nullptr;
    for (const auto &m : built.modules)
      if (!chosen && (stress_.module.empty() || m.name == stress_.module))
        chosen = &m;
    if (!built.ok || !chosen) {
      std::cerr << "ftready: error: the project did not build an extension "
                   "module"
                << (why.empty() ? "" : ": " + why) << "\n";
      for (const auto &p : built.problems)
        std::cerr << "  " << p.what << "\n    to fix: " << p.fix << "\n";
      return kUsageError;
    }
    for (const auto &m : built.modules)
      if (&m != chosen)
        log_->info("module {} also built: stress it with --module {} (ftready "
                   "check stresses every module)",
                   m.name, m.name);
    if (built.tree != built.source_root)
      o.built_from = {built.tree, built.source_root};
    o.module = chosen->name;
    o.module_dir = chosen->import_dir;
    o.module_file = chosen->path;
    o.object_name = fs::path(chosen->path).filename().string();
    o.shims = !stress_.no_shims;
    o.shim_yield_permille = stress_.shim_yield;
  } else if (!stress_.target.empty()) {
    fs::path so = fs::absolute(stress_.target);
    if (!fs::is_regular_file(so) || so.extension() != ".so") {
      std::cerr << "ftready: error: '" << stress_.target
                << "' is not an extension .so (or use --sources)\n";
      return kUsageError;
    }
    std::string name = so.filename().string();
    o.module = stress_.module.empty() ? name.substr(0, name.find('.'))
                                      : stress_.module;
    o.module_dir = so.parent_path().string();
    o.module_file = so.string();
    o.object_name = name;
  } else {
    std::cerr << "ftready: error: give an extension .so, a setuptools "
                 "project folder, or --sources with --module\n";
    return kUsageError;
  }
  o.tsan_suppressions = tsanSuppressionsBeside(*interp);
  if (!stress_.findings.empty()) {
    try {
      for (const auto &f : reports::readFindings(stress_.findings))
        if (!f.function.empty() && f.rule.rfind("FTR", 0) != 0)
          o.hints.push_back({f.function, f.rule});
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  if (!stress_.state_map.empty()) {
    try {
      o.state_map = readStateMap(stress_.state_map);
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }

  std::ofstream jsonl(stress_.jsonl);
  if (!jsonl) {
    std::cerr << "ftready: error: cannot write '" << stress_.jsonl << "'\n";
    return kUsageError;
  }
  std::vector<Finding> findings;
  bool terminal = isatty(2);
  stress::StressEvents events;
  events.on_finding = [&](const Finding &f) {
    writeJsonLine(jsonl, f); // streamed: a killed run keeps what it found
    findings.push_back(f);
    if (terminal)
      std::cerr << "\r\033[K";
    log_->info("{} in {}: {}", f.rule, f.function, f.message);
  };
  events.on_progress = [&](unsigned long calls, unsigned threads,
                           double elapsed) {
    if (terminal)
      std::cerr << "\r\033[K[stress] " << calls << " calls | " << threads
                << " threads | " << std::fixed << std::setprecision(1)
                << elapsed << "s / " << o.budget_seconds << "s" << std::flush;
  };
  auto summary = stress::runStress(o, events);
  if (terminal)
    std::cerr << "\r\033[K";
  bool importFinding =
      std::any_of(findings.begin(), findings.end(), [](const Finding &f) {
        return f.function.rfind("PyInit_", 0) == 0 && f.rule != "FTR004";
      });
  if ((!summary.import.ok || !summary.import.error.empty()) && !importFinding &&
      !summary.interrupted) {
    // A Python error in the module's set-up (a missing dependency): not a
    // finding, and nothing was tested.
    std::cerr << "ftready: error: the module did not import: "
              << summary.import.error << "\n";
    return kUsageError;
  }
  sortFindings(findings);
  reports::RunSummary rs;
  rs.root = o.root;
  rs.incomplete = !summary.completed || summary.interrupted;
  auto join = [](const std::vector<std::string> &v) {
    std::string s;
    for (const auto &x : v)
      s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? std::string("none") : s;
  };
  rs.facts = {
      {"interpreter", interp->path + " (" + interp->version +
                          (interp->tsan ? ", TSan" : "") + ")"},
      {"gil after import", summary.import.gil_after
                               ? "re-enabled (module does not declare "
                                 "Py_MOD_GIL_NOT_USED); stressed with "
                                 "PYTHON_GIL=0"
                               : "still disabled"},
      {"threads", std::to_string(o.threads)},
      {"calls", std::to_string(summary.calls)},
      {"rounds", std::to_string(summary.rounds)},
      {"calls per second",
       summary.round_seconds > 0
           ? std::to_string(
                 static_cast<long>(summary.calls / summary.round_seconds)) +
                 " (over " + std::to_string(int(summary.round_seconds)) +
                 " s of rounds)"
           : "none"},
      {"elapsed", std::to_string(int(summary.elapsed_seconds)) + "s of " +
                      std::to_string(int(o.budget_seconds)) + "s"},
      {"exercised", join(summary.exercised)},
      {"never exercised", join(summary.skipped)},
      {"run together", join(summary.together)},
      {"first calls",
       summary.first_called.empty()
           ? "none"
           : join(summary.first_called) + " (" +
                 std::to_string(summary.first_call_processes) +
                 (summary.first_call_processes == 1 ? " fresh process)"
                                                    : " fresh processes)")},
      {"child restarts", std::to_string(summary.restarts)},
      {"import", summary.import.error.empty() ? "ok" : summary.import.error},
      {"notes", join(summary.notes)},
      {"output cut", std::to_string(summary.output_cut) + " bytes"},
      {"shims", shimSummary(summary, o.shims)},
      {"tsan reports", std::to_string(summary.tsan_reports) + " (" +
                           std::to_string(summary.tsan_reports_outside) +
                           " with no frame in the extension, not reported)"},
  };
  std::string err;
  if (!writeOutput(
          stress_.output,
          reports::render(*reports::parseFormat(stress_.format), findings, rs),
          &err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }
  return reports::exitCodeFor(findings, *parseSeverity(stress_.fail_on));
}

int Commands::report() {
  std::vector<Finding> merged;
  std::set<std::string> seen;
  for (const auto &path : report_.inputs) {
    try {
      for (auto &f : reports::readFindings(path))
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
  // The first JSON report's run facts and verdict come along; merged reports
  // (CI shards, several Python versions) keep every finding once.
  reports::RunSummary summary;
  summary.root = fs::current_path().string();
  for (const auto &path : report_.inputs) {
    try {
      summary = reports::readSummary(path);
      break;
    } catch (const std::exception &) {
      continue; // JSONL or SARIF: findings only
    }
  }
  if (report_.inputs.size() > 1)
    summary.facts.push_back(
        {"merged from", std::to_string(report_.inputs.size()) + " reports"});
  if (!report_.root.empty())
    summary.root = fs::absolute(report_.root).lexically_normal().string();
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
