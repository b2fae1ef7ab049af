// ftready check: scan, build, stress and report in one command, within a
// time budget, into one folder of reports; the CI gate.
#include "commands.h"

#include "ftready/analyzer/scan.h"
#include "ftready/interpreters.h"
#include "ftready/reports/readiness.h"
#include "ftready/reports/render.h"
#include "ftready/stress/extension_build.h"
#include "ftready/stress/stress_run.h"

#include <toml++/toml.h>

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

struct UsageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// [tool.ftready] in the project's pyproject.toml; the command line wins.
void applyConfig(const std::string &project, CheckArgs &a,
                 const CheckArgs &given) {
  fs::path file = fs::path(project) / "pyproject.toml";
  if (!fs::exists(file))
    return;
  toml::table doc;
  try {
    doc = toml::parse_file(file.string());
  } catch (const toml::parse_error &e) {
    throw UsageFailure(file.string() + ": " + std::string(e.description()));
  }
  auto *cfg = doc["tool"]["ftready"].as_table();
  if (!cfg)
    return;
  auto bad = [&](const std::string &key, const std::string &want) {
    return UsageFailure(file.string() + ": [tool.ftready] " + key +
                        " must be " + want);
  };
  for (auto &[key, node] : *cfg) {
    std::string k(key.str());
    if (k == "rules") {
      auto *arr = node.as_array();
      if (!arr)
        throw bad(k, "an array of rule ids");
      std::string joined;
      for (auto &v : *arr) {
        auto s = v.value<std::string>();
        if (!s)
          throw bad(k, "an array of rule ids");
        joined += (joined.empty() ? "" : ",") + *s;
      }
      if (given.rules.empty())
        a.rules = joined;
    } else if (k == "paths") {
      auto *arr = node.as_array();
      if (!arr)
        throw bad(k, "an array of folders or files");
      if (given.paths.empty())
        for (auto &v : *arr) {
          auto s = v.value<std::string>();
          if (!s)
            throw bad(k, "an array of folders or files");
          a.paths.push_back((fs::path(project) / *s).string());
        }
    } else if (k == "threads") {
      auto n = node.value<int64_t>();
      if (!n || *n < 2 || *n > 512)
        throw bad(k, "an integer from 2 to 512");
      if (!given.threads)
        a.threads = static_cast<unsigned>(*n);
    } else if (k == "budget" || k == "fail-on" || k == "module") {
      auto s = node.value<std::string>();
      if (!s)
        throw bad(k, "a string");
      if (k == "fail-on" && !parseSeverity(*s))
        throw bad(k, "one of note, warning, error");
      if (k == "budget" && given.budget.empty())
        a.budget = *s;
      if (k == "fail-on" && given.fail_on.empty())
        a.fail_on = *s;
      if (k == "module" && given.module.empty())
        a.module = *s;
    } else if (k == "severity") {
      auto *t = node.as_table();
      if (!t)
        throw bad(k, "a table of rule = \"note|warning|error\"");
      for (auto &[rule, sev] : *t) {
        auto s = sev.value<std::string>();
        if (!s || !parseSeverity(*s))
          throw bad("severity." + std::string(rule.str()),
                    "one of note, warning, error");
        a.severity[std::string(rule.str())] = *parseSeverity(*s);
      }
    } else {
      throw UsageFailure(file.string() + ": unknown key [tool.ftready] " + k);
    }
  }
}

// The extension's sources and its module name (its PyInit_<name>).
std::pair<std::vector<std::string>, std::string>
extensionOf(const std::vector<std::string> &paths) {
  static const std::regex init(R"(PyInit_([A-Za-z_][A-Za-z0-9_]*)\s*\()");
  std::vector<std::string> sources;
  std::string module;
  for (const auto &p : paths) {
    std::vector<fs::path> files;
    if (fs::is_directory(p)) {
      for (const auto &e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() &&
            (e.path().extension() == ".c" || e.path().extension() == ".cc" ||
             e.path().extension() == ".cpp"))
          files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    }
    std::sort(files.begin(), files.end());
    for (const auto &f : files) {
      sources.push_back(fs::absolute(f).string());
      std::ifstream in(f);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      std::smatch m;
      if (module.empty() && std::regex_search(text, m, init))
        module = m[1];
    }
  }
  return {sources, module};
}

// setup.py, or a pyproject.toml whose build backend is setuptools.
bool isSetuptoolsProject(const std::string &project) {
  if (fs::exists(fs::path(project) / "setup.py"))
    return true;
  fs::path py = fs::path(project) / "pyproject.toml";
  if (!fs::exists(py))
    return false;
  try {
    auto doc = toml::parse_file(py.string());
    auto backend = doc["build-system"]["build-backend"].value<std::string>();
    return backend && backend->rfind("setuptools", 0) == 0;
  } catch (const toml::parse_error &) {
    return false; // reported by applyConfig
  }
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
  std::string why;
  auto tsan = resolveInterpreter(a.python, &why);
  auto release = resolveInterpreter("3.13t", &why);
  if (!tsan || !release) {
    std::cerr << "ftready: error: no usable interpreter: " << why
              << " (run scripts/toolchain.sh)\n";
    return kUsageError;
  }
  ReportFolder out(a.output);
  std::string err;
  if (!out.open(&err)) {
    std::cerr << "ftready: error: " << err << "\n";
    return kUsageError;
  }

  // 1. Static analysis.
  analyzer::ScanOptions so;
  so.paths = a.paths;
  so.python_include = release->include_dir;
  so.root = a.project;
  so.jobs = std::max(1u, std::thread::hardware_concurrency());
  so.rules = splitList(a.rules);
  so.cache_dir = cacheDirectory() + "/scan-cache";
  analyzer::ScanResult scanned;
  try {
    scanned = analyzer::scan(so);
  } catch (const analyzer::UsageError &e) {
    std::cerr << "ftready: error: " << e.what() << "\n";
    return kUsageError;
  }
  for (auto &f : scanned.findings) {
    if (auto it = a.severity.find(f.rule); it != a.severity.end())
      f.severity = it->second;
    out.stream(f);
  }
  reports::RunSummary summary;
  summary.root = fs::absolute(a.project).lexically_normal().string();
  summary.files_scanned = scanned.files_scanned;
  summary.baseline_given = !a.baseline.empty();
  for (const auto &d : scanned.diagnostics)
    summary.diagnostics.push_back({d.file, d.message});
  reports::Readiness facts;
  auto [sources, module] = extensionOf(a.paths);
  facts.module = a.module.empty() ? module : a.module;
  summary.incomplete = true;
  out.write(scanned.findings, summary, false);

  // 2. Build and stress, steered by the static findings.
  std::vector<Finding> dynamics;
  if (facts.module.empty()) {
    summary.diagnostics.push_back(
        {a.project, "no PyInit_<name> found: stress run skipped (set "
                    "[tool.ftready] module)"});
  } else {
    std::string buildDir = (fs::temp_directory_path() /
                            ("ftready-check-" + std::to_string(::getpid())))
                               .string();
    stress::BuiltExtension built;
    if (isSetuptoolsProject(a.project)) {
      std::string built_module;
      built =
          stress::buildProject(a.project, *tsan, setuptoolsDirectory(),
                               FTREADY_SHIMS_LIBRARY, buildDir, &built_module);
      if (a.module.empty() && built.ok)
        facts.module = built_module;
    } else {
      built = stress::buildExtension(
          {sources, facts.module, {}, FTREADY_SHIMS_LIBRARY}, *tsan, buildDir);
    }
    if (!built.ok) {
      summary.diagnostics.push_back(
          {a.project, "the extension did not build with ThreadSanitizer: " +
                          built.log.substr(0, 500)});
    } else {
      stress::StressOptions o;
      o.interpreter = *tsan;
      o.module = facts.module;
      o.module_dir = built.directory;
      o.object_name = fs::path(built.path).filename().string();
      o.root = summary.root;
      if (isSetuptoolsProject(a.project))
        o.built_from = {built.directory, summary.root};
      o.threads = a.threads
                      ? a.threads
                      : std::max(4u, 2 * std::thread::hardware_concurrency());
      o.budget_seconds = std::max(10.0, *budget - elapsed());
      o.shims = true;
      o.tsan_suppressions =
          (fs::path(tsan->path).parent_path().parent_path().parent_path() /
           "tsan-suppressions.txt")
              .string();
      for (const auto &f : scanned.findings)
        if (!f.function.empty())
          o.hints.push_back({f.function, f.rule});
      stress::StressEvents ev;
      ev.on_finding = [&](const Finding &f) {
        out.stream(f);
        dynamics.push_back(f);
        // Keep report.json current: a killed run still leaves it.
        out.write(reports::mergeFindings(scanned.findings, dynamics), summary,
                  false);
      };
      auto s = stress::runStress(o, ev);
      fs::remove_all(buildDir);
      facts.stress_ran = s.import.ok && s.import.error.empty();
      facts.declares_support = s.import.ok && !s.import.gil_after;
      facts.calls = s.calls;
      facts.threads = o.threads;
      facts.rounds = s.rounds;
      facts.seconds = s.elapsed_seconds;
      facts.budget = o.budget_seconds;
      facts.exercised = s.exercised;
      facts.never_exercised = s.skipped;
      if (!s.import.error.empty())
        summary.diagnostics.push_back(
            {a.project,
             "the module did not run: " + s.import.error.substr(0, 500)});
    }
  }

  // 3. Merge, judge, report.
  auto merged = reports::mergeFindings(scanned.findings, dynamics);
  reports::applyBaseline(merged, baseline);
  summary.readiness = reports::judge(merged, facts);
  summary.incomplete = false;
  out.write(merged, summary, true);
  std::cout << reports::render(reports::Format::Text, merged, summary)
            << "verdict: " << summary.readiness.verdict << "\n";
  for (const auto &r : summary.readiness.reasons)
    std::cout << "  - " << r << "\n";
  std::cout << "reports in " << a.output << "/\n";
  bool notReady = summary.readiness.verdict == "NOT READY";
  return notReady ? 1 : reports::exitCodeFor(merged, *parseSeverity(a.fail_on));
}

} // namespace ftready::cli
