// ftready check: scan, build, stress and report in one command, within a
// time budget, into one folder of reports; the CI gate.
#include "commands.h"

#include "ftready/analyzer/scan.h"
#include "ftready/interpreters.h"
#include "ftready/interrupt.h"
#include "ftready/project/config.h"
#include "ftready/project/project.h"
#include "ftready/reports/readiness.h"
#include "ftready/reports/render.h"
#include "ftready/stress/extension_build.h"
#include "ftready/stress/stress_run.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftready::cli {

namespace {

constexpr int kUsageError = 2;
// The verdict could not be decided (INCOMPLETE): a CI gate fails.
constexpr int kIncomplete = 4;

struct UsageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// [tool.ftready] in the project's pyproject.toml; the command line wins.
void applyConfig(const std::string &project, CheckArgs &a,
                 const CheckArgs &given) {
  fs::path file = fs::path(project) / "pyproject.toml";
  if (!fs::exists(file))
    return;
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::optional<project::ToolConfig> cfg;
  try {
    cfg = project::parseToolConfig(text, file.string());
  } catch (const project::ConfigError &e) {
    throw UsageFailure(e.what());
  }
  if (!cfg)
    return;
  if (cfg->rules && given.rules.empty())
    a.rules = *cfg->rules;
  if (given.paths.empty())
    for (const auto &p : cfg->paths)
      a.paths.push_back((fs::path(project) / p).string());
  if (cfg->threads && !given.threads)
    a.threads = *cfg->threads;
  if (cfg->budget && given.budget.empty())
    a.budget = *cfg->budget;
  if (cfg->fail_on && given.fail_on.empty())
    a.fail_on = *cfg->fail_on;
  if (cfg->module && given.module.empty())
    a.module = *cfg->module;
  a.modules.insert(cfg->modules.begin(), cfg->modules.end());
  a.exclude_modules.insert(cfg->exclude_modules.begin(),
                           cfg->exclude_modules.end());
  if (cfg->build_cmd && given.build_cmd.empty())
    a.build_cmd = *cfg->build_cmd;
  if (cfg->python && given.python.empty()) {
    const std::string &p = *cfg->python;
    a.python = p.find('/') == std::string::npos || fs::path(p).is_absolute()
                   ? p
                   : (fs::path(project) / p).string();
  }
  a.include_vendored = a.include_vendored || cfg->include_vendored;
  for (const auto &[rule, level] : cfg->severity)
    a.severity[rule] = level;
}

// A report folder that is always valid: every write is whole-file, and the
// report says `incomplete` until the run ends.
class ReportFolder {
public:
  explicit ReportFolder(std::string dir) : dir_(std::move(dir)) {}
  bool open(std::string *err) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    jsonl_.open(dir_ + "/findings.jsonl", std::ios::trunc);
    if (ec || !jsonl_) {
      *err = "cannot write the report folder '" + dir_ + "'";
      return false;
    }
    return true;
  }
  void stream(const Finding &f) { writeJsonLine(jsonl_, f); }
  void write(const std::vector<Finding> &findings,
             const reports::RunSummary &summary, bool all) {
    std::string err;
    writeOutput(dir_ + "/report.json",
                reports::render(reports::Format::Json, findings, summary),
                &err);
    if (!all)
      return;
    const std::pair<const char *, reports::Format> others[] = {
        {"report.sarif", reports::Format::Sarif},
        {"report.md", reports::Format::Markdown},
        {"report.html", reports::Format::Html},
        {"junit.xml", reports::Format::Junit}};
    for (const auto &[name, fmt] : others)
      writeOutput(dir_ + "/" + name, reports::render(fmt, findings, summary),
                  &err);
  }

private:
  std::string dir_;
  std::ofstream jsonl_;
};

} // namespace

namespace {

// The modules the stress run takes: all the build produced, less those
// [tool.ftready] excludes, or only those it names.
std::vector<stress::ModuleTarget>
modulesToStress(const project::ProjectBuild &b, const CheckArgs &a,
                reports::Readiness &facts) {
  std::vector<stress::ModuleTarget> out;
  for (const auto &m : b.modules) {
    if (!a.module.empty() && m.name != a.module &&
        m.name.substr(m.name.rfind('.') + 1) != a.module)
      continue;
    if (!a.modules.empty() && !a.modules.count(m.name))
      continue;
    if (a.exclude_modules.count(m.name))
      continue;
    if (!m.tsan_instrumented)
      facts.races_detectable = false;
    out.push_back(
        {m.name, m.import_dir, fs::path(m.path).filename().string(), m.path});
  }
  return out;
}

analyzer::ScanOptions scanOptionsFor(const project::ProjectBuild &b,
                                     const CheckArgs &a,
                                     const Interpreter &python) {
  analyzer::ScanOptions so;
  project::ScanPlan plan = project::scanPlan(b);
  if (!plan.files.empty()) {
    so.paths = plan.files;
    so.compile_commands_dir = plan.compile_commands_dir;
    so.root = plan.root;
    so.report_roots = {plan.root};
  } else {
    // Nothing compiled: the sources with the interpreter's headers, so the
    // report still shows what can be seen (the verdict cannot be READY).
    so.paths = a.paths;
    so.python_include = python.include_dir;
    so.root = a.project;
  }
  so.extra_args = a.extra_args;
  so.jobs = std::max(1u, std::thread::hardware_concurrency());
  so.rules = splitList(a.rules);
  // The result cache keys units by path: a build copy in a fresh temporary
  // folder would never hit and only grow it.
  if (plan.files.empty())
    so.cache_dir = cacheDirectory() + "/scan-cache";
  return so;
}

// Paths of the build copy, in diagnostics, as the user's.
std::string shown(const project::ProjectBuild &b, const std::string &path) {
  std::string orig = project::toOriginal(b, path);
  fs::path rel = fs::path(orig).lexically_relative(b.source_root);
  return rel.empty() || rel.native().rfind("..", 0) == 0 ? orig : rel.string();
}

// A run-time finding with no stack to place it (the GIL coming back on
// import) goes where the module's PyInit_ is defined: never line 0 when the
// source says where.
void placeWithoutStack(Finding &f, const project::ProjectBuild &b) {
  if (f.location.line != 0 || f.function.rfind("PyInit_", 0) != 0)
    return;
  for (const auto &m : b.modules) {
    Location at = project::definitionOf(b, m, f.function);
    if (!at.file.empty()) {
      f.location = at;
      return;
    }
  }
}

reports::ModuleCoverage coverageOf(const stress::ModuleRun &run) {
  reports::ModuleCoverage c;
  const auto &s = run.summary;
  c.name = run.target.name;
  c.imported = s.import.ok && s.import.error.empty();
  c.declares_support = s.import.ok && !s.import.gil_after;
  c.calls = s.calls;
  c.rounds = s.rounds;
  c.seconds = s.elapsed_seconds;
  c.budget = run.budget_seconds;
  c.exercised = s.exercised;
  c.never_exercised = s.skipped;
  for (const auto &n : s.notes)
    c.note += (c.note.empty() ? "" : "; ") + n;
  std::string err = s.import.error;
  if (s.interrupted) {
    c.problem = "interrupted before its run ended";
  } else if (run.budget_seconds < 2) {
    c.problem = "not run: the budget ran out before its turn";
  } else if (!err.empty()) {
    // The last line of a traceback says what went wrong.
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    c.problem = err.substr(err.rfind('\n') + 1).substr(0, 300);
  } else if (c.imported && s.calls == 0) {
    c.problem = s.exercised.empty() && s.skipped.empty()
                    ? "no callable was discovered"
                    : "nothing was called";
  }
  return c;
}

void addCoverage(reports::Readiness &facts,
                 const std::vector<stress::ModuleRun> &runs) {
  std::set<std::string> never;
  bool allDeclare = !runs.empty();
  for (const auto &run : runs) {
    auto c = coverageOf(run);
    facts.stress_ran |= c.imported;
    facts.calls += c.calls;
    facts.rounds += c.rounds;
    facts.seconds += c.seconds;
    allDeclare &= c.imported && c.declares_support;
    std::string prefix = runs.size() > 1 ? c.name + ": " : "";
    for (const auto &e : c.exercised)
      facts.exercised.push_back(prefix + e);
    for (const auto &e : c.never_exercised)
      if (never.insert(prefix + e).second)
        facts.never_exercised.push_back(prefix + e);
    facts.modules.push_back(std::move(c));
  }
  facts.declares_support = allDeclare;
}

} // namespace

int Commands::check() {
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  CheckArgs a = check_;
  try {
    if (!fs::is_directory(a.project))
      throw UsageFailure("no such project folder '" + a.project + "'");
    applyConfig(a.project, a, check_);
  } catch (const UsageFailure &e) {
    std::cerr << "ftready: error: " << e.what() << "\n";
    return kUsageError;
  }
  if (a.budget.empty())
    a.budget = "10m";
  if (a.fail_on.empty())
    a.fail_on = "warning";
  auto budget = parseDuration(a.budget);
  if (!budget) {
    std::cerr << "ftready: error: budget '" << a.budget
              << "' is not a duration (60s, 5m, 1h)\n";
    return kUsageError;
  }
  unsigned long long maxRss = 0;
  if (!a.max_rss.empty()) {
    auto rss = parseSize(a.max_rss);
    if (!rss) {
      std::cerr << "ftready: error: --max-rss '" << a.max_rss
                << "' is not a size such as 512M or 4G\n";
      return kUsageError;
    }
    maxRss = *rss;
  }

  if (a.paths.empty())
    a.paths = {a.project};
  std::set<std::string> baseline;
  if (!a.baseline.empty()) {
    try {
      baseline = reports::readBaselineFingerprints(a.baseline);
    } catch (const std::exception &e) {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  if (a.python.empty())
    a.python = "3.13t-tsan";
  std::string why, warning;
  auto python = resolveInterpreter(a.python, &why, &warning);
  if (!python) {
    std::cerr << "ftready: error: no usable interpreter: " << why << "\n";
    return kUsageError;
  }
  if (!warning.empty())
    log_->warn("{}", warning);
  if (!python->tsan)
    log_->warn("{} is not built with ThreadSanitizer: data races will not "
               "be looked for; {}",
               python->path, howToGetTsanBuild());
  ReportFolder out(a.output);
  std::string err;
  if (!out.open(&err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }
  reports::RunSummary summary;
  summary.root = fs::absolute(a.project).lexically_normal().string();
  summary.baseline_given = !a.baseline.empty();
  summary.incomplete = true;
  reports::Readiness facts;
  facts.evidence_tracked = true;
  facts.races_detectable = python->tsan;
  facts.interpreter = "CPython " + python->version + " free-threaded" +
                      (python->tsan ? ", ThreadSanitizer" : "") + " (" +
                      python->path + ")";
  facts.module = a.module;

  // 1. The project's own build, once, with every compiler call recorded; it
  //    is also the ThreadSanitizer build the stress run loads.
  WorkDir work("ftready-check");
  std::string kindWhy;
  project::BuildRequest req =
      project::requestFor(a.project, a.build_cmd, a.compile_commands, *python,
                          work.path(), FTREADY_CC_WRAPPER, &kindWhy);
  req.cflags = a.extra_args;
  req.ldflags = stress::shimLinkFlags(FTREADY_SHIMS_LIBRARY);
  req.sources = a.paths; // what a project with no build system builds
  facts.build = project::toString(req.kind);
  project::ProjectBuild built;
  if (req.kind == project::BuildKind::Unsupported) {
    built.source_root = summary.root;
    built.tree = summary.root;
    built.problems.push_back(
        {"ftready cannot run this project's build: " + kindWhy,
         "give --build-cmd, or --compile-commands"});
  } else {
    log_->info("building {} ({}) with {}", a.project, facts.build,
               python->path);
    built = project::build(req);
    std::ofstream(a.output + "/build.log") << built.log;
  }
  facts.built = built.ok;
  for (const auto &p : built.problems)
    facts.build_problems.push_back({p.what, p.fix});
  // The units that count: compiled once each, in the project's tree (not a
  // setup.py's compiler probes in /tmp).
  const project::ScanPlan plan = project::scanPlan(built);
  facts.units_compiled = static_cast<unsigned>(plan.files.size());

  // 2. Static analysis of exactly what the build compiled.
  analyzer::ScanResult scanned;
  try {
    // A build that succeeded compiling nothing has nothing to scan; one that
    // failed is scanned with default flags, for what can be seen.
    if (!(built.ok && plan.files.empty()))
      scanned = analyzer::scan(scanOptionsFor(built, a, *python));
  } catch (const analyzer::UsageError &e) {
    if (built.units.empty()) {
      summary.diagnostics.push_back({a.project, e.what()});
    } else {
      std::cerr << "ftready: error: " << e.what() << "\n";
      return kUsageError;
    }
  }
  if (!a.include_vendored)
    project::markVendored(scanned.findings, built);
  for (auto &f : project::cythonDirectiveFindings(summary.root))
    scanned.findings.push_back(std::move(f));
  for (auto &f : scanned.findings) {
    if (auto it = a.severity.find(f.rule); it != a.severity.end())
      f.severity = it->second;
    out.stream(f);
  }
  summary.files_scanned = scanned.files_scanned;
  // Units are what the build compiled: a scan with default flags after a
  // build that compiled nothing counts none (the build's gap says why).
  if (!plan.files.empty()) {
    facts.units_scanned = scanned.files_scanned;
    facts.units_parsed =
        facts.units_scanned - static_cast<unsigned>(scanned.unparsed.size());
    for (const auto &u : scanned.unparsed)
      facts.unparsed.push_back(shown(built, u));
  }
  for (const auto &d : scanned.diagnostics)
    summary.diagnostics.push_back({shown(built, d.file), d.message});
  if (built.ok || !plan.files.empty()) {
    for (const auto &f :
         project::notBuiltSources(built.tree, built.units, scanned.included))
      facts.not_built.push_back(f);
  }
  out.write(scanned.findings, summary, false);

  // 3. Every module the build produced, stressed in turn on a shared budget.
  std::vector<Finding> dynamics;
  auto modules = modulesToStress(built, a, facts);
  if (!modules.empty()) {
    stress::StressOptions o;
    o.interpreter = *python;
    o.root = summary.root;
    if (built.tree != built.source_root)
      o.built_from = {built.tree, built.source_root};
    o.threads = a.threads
                    ? a.threads
                    : std::max(4u, 2 * std::thread::hardware_concurrency());
    o.shims = true;
    o.forkwatch_library = FTREADY_FORKWATCH_LIBRARY;
    o.max_rss_bytes = maxRss;
    if (!a.include_vendored)
      o.is_vendored = [&built](const std::string &file) {
        std::string orig = project::toOriginal(built, file);
        fs::path rel = fs::path(file).lexically_relative(built.tree);
        if (rel.empty() || rel.native().rfind("..", 0) == 0)
          rel = fs::path(orig).lexically_relative(built.source_root);
        return !rel.empty() && rel.native().rfind("..", 0) != 0 &&
               project::isVendored(built.tree, rel.string());
      };
    o.tsan_suppressions = tsanSuppressionsBeside(*python);
    for (const auto &f : scanned.findings)
      if (!f.function.empty())
        o.hints.push_back({f.function, f.rule});
    o.state_map = scanned.state;
    mapFiles(o.state_map, [&built](const std::string &f) {
      return project::toOriginal(built, f);
    });
    facts.threads = o.threads;
    stress::StressEvents ev;
    ev.on_finding = [&](Finding f) {
      placeWithoutStack(f, built);
      out.stream(f);
      dynamics.push_back(f);
      // Keep report.json current: a killed run still leaves it.
      out.write(reports::mergeFindings(scanned.findings, dynamics), summary,
                false);
    };
    double left = std::max(10.0, *budget - elapsed());
    facts.budget = left;
    auto runs = stress::stressModules(modules, o, left, ev);
    addCoverage(facts, runs);
  } else if (!built.modules.empty()) {
    summary.diagnostics.push_back(
        {a.project, "every built module was excluded by --module or "
                    "[tool.ftready] modules/exclude-modules"});
    for (const auto &m : built.modules) {
      reports::ModuleCoverage c;
      c.name = m.name;
      c.problem = "excluded from the run";
      facts.modules.push_back(std::move(c));
    }
  }
  if (facts.module.empty() && facts.modules.size() == 1)
    facts.module = facts.modules.front().name;

  // 4. Merge, judge, report.
  auto merged = reports::mergeFindings(scanned.findings, dynamics);
  reports::applyBaseline(merged, baseline);
  if (int sig = interruptSignal())
    facts.run_problems.push_back({"the run was interrupted (signal " +
                                      std::to_string(sig) + ") before it ended",
                                  "run it again to the end"});
  summary.readiness = reports::judge(merged, facts);
  summary.incomplete = interruptSignal() != 0;
  out.write(merged, summary, true);
  std::cout << reports::render(reports::Format::Text, merged, summary)
            << "verdict: " << summary.readiness.verdict << "\n";
  for (const auto &r : summary.readiness.reasons)
    std::cout << "  - " << r << "\n";
  std::cout << "reports in " << a.output << "/\n";
  const std::string &v = summary.readiness.verdict;
  if (v == "NOT READY")
    return 1;
  if (v == "INCOMPLETE")
    return kIncomplete;
  return reports::exitCodeFor(merged, *parseSeverity(a.fail_on));
}

} // namespace ftready::cli
