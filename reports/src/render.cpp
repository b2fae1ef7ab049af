#include "ftready/reports/render.h"

#include "ftready/reports/readiness.h"
#include "ftready/rule_catalogue.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ftready::reports {

namespace {

bool isActive(const Finding &f) {
  return f.status != Status::Suppressed && f.status != Status::Baselined &&
         f.status != Status::Vendored;
}

struct Counts {
  unsigned errors = 0, warnings = 0, notes = 0, suppressed = 0, baselined = 0,
           vendored = 0;
};

Counts countOf(const std::vector<Finding> &findings) {
  Counts c;
  for (const auto &f : findings) {
    if (f.status == Status::Suppressed)
      ++c.suppressed;
    else if (f.status == Status::Baselined)
      ++c.baselined;
    else if (f.status == Status::Vendored)
      ++c.vendored;
    else if (f.severity == Severity::Error)
      ++c.errors;
    else if (f.severity == Severity::Warning)
      ++c.warnings;
    else
      ++c.notes;
  }
  return c;
}

} // namespace

std::optional<Format> parseFormat(const std::string &name) {
  if (name == "md" || name == "markdown")
    return Format::Markdown;
  if (name == "html")
    return Format::Html;
  if (name == "junit")
    return Format::Junit;
  if (name == "text")
    return Format::Text;
  if (name == "json")
    return Format::Json;
  if (name == "sarif")
    return Format::Sarif;
  return std::nullopt;
}

std::string render(Format format, const std::vector<Finding> &findings,
                   const RunSummary &summary) {
  switch (format) {
  case Format::Text:
    return renderText(findings, summary);
  case Format::Json:
    return renderJson(findings, summary);
  case Format::Sarif:
    return renderSarif(findings, summary);
  case Format::Markdown:
    return renderMarkdown(findings, summary);
  case Format::Html:
    return renderHtml(findings, summary);
  case Format::Junit:
    return renderJunit(findings, summary);
  }
  return "";
}

std::string renderText(const std::vector<Finding> &findings,
                       const RunSummary &summary) {
  std::ostringstream out;
  for (const auto &f : findings) {
    if (!isActive(f))
      continue;
    out << f.location.file << ":" << f.location.line << ":" << f.location.column
        << ": " << toString(f.severity) << ": " << f.message << " [" << f.rule
        << "]\n";
    if (!f.function.empty())
      out << "    in function '" << f.function << "'\n";
    if (!f.fix.empty())
      out << "    fix: " << f.fix << "\n";
  }
  for (const auto &d : summary.diagnostics)
    out << d.file << ": note: " << d.message << "\n";
  for (const auto &[k, v] : summary.facts)
    out << k << ": " << v << "\n";
  Counts c = countOf(findings);
  out << (c.errors + c.warnings + c.notes) << " findings (" << c.errors
      << " errors, " << c.warnings << " warnings, " << c.notes << " notes), "
      << c.suppressed << " suppressed, " << c.baselined << " baselined, in "
      << summary.files_scanned << " files"
      << (summary.incomplete ? " (INCOMPLETE run)" : "") << "\n";
  return out.str();
}

namespace {

nlohmann::json gapsJson(const std::vector<Gap> &gaps) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto &g : gaps)
    a.push_back({{"what", g.what}, {"fix", g.fix}});
  return a;
}

std::vector<Gap> gapsOf(const nlohmann::json &a) {
  std::vector<Gap> out;
  for (const auto &g : a)
    out.push_back({g.value("what", ""), g.value("fix", "")});
  return out;
}

nlohmann::json evidenceJson(const Readiness &r) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto &m : r.modules)
    modules.push_back({{"name", m.name},
                       {"imported", m.imported},
                       {"problem", m.problem},
                       {"note", m.note},
                       {"declares_support", m.declares_support},
                       {"calls", m.calls},
                       {"rounds", m.rounds},
                       {"seconds", m.seconds},
                       {"budget", m.budget},
                       {"exercised", m.exercised},
                       {"never_exercised", m.never_exercised}});
  nlohmann::json e = {{"build", r.build},
                      {"built", r.built},
                      {"build_problems", gapsJson(r.build_problems)},
                      {"run_problems", gapsJson(r.run_problems)},
                      {"units_compiled", r.units_compiled},
                      {"units_scanned", r.units_scanned},
                      {"units_parsed", r.units_parsed},
                      {"unparsed", r.unparsed},
                      {"not_built", r.not_built},
                      {"modules", modules},
                      {"races_detectable", r.races_detectable},
                      {"gaps", gapsJson(r.gaps)}};
  if (!r.interpreter.empty())
    e["interpreter"] = r.interpreter;
  return e;
}

void readEvidence(const nlohmann::json &e, Readiness &o) {
  o.evidence_tracked = true;
  o.build = e.value("build", "");
  o.built = e.value("built", false);
  o.build_problems = gapsOf(e.value("build_problems", nlohmann::json::array()));
  o.run_problems = gapsOf(e.value("run_problems", nlohmann::json::array()));
  o.units_compiled = e.value("units_compiled", 0u);
  o.units_scanned = e.value("units_scanned", 0u);
  o.units_parsed = e.value("units_parsed", 0u);
  o.unparsed = e.value("unparsed", std::vector<std::string>{});
  o.not_built = e.value("not_built", std::vector<std::string>{});
  o.races_detectable = e.value("races_detectable", true);
  o.interpreter = e.value("interpreter", "");
  o.gaps = gapsOf(e.value("gaps", nlohmann::json::array()));
  for (const auto &m : e.value("modules", nlohmann::json::array())) {
    ModuleCoverage c;
    c.name = m.value("name", "");
    c.imported = m.value("imported", false);
    c.problem = m.value("problem", "");
    c.note = m.value("note", "");
    c.declares_support = m.value("declares_support", false);
    c.calls = m.value("calls", 0ul);
    c.rounds = m.value("rounds", 0u);
    c.seconds = m.value("seconds", 0.0);
    c.budget = m.value("budget", 0.0);
    c.exercised = m.value("exercised", std::vector<std::string>{});
    c.never_exercised = m.value("never_exercised", std::vector<std::string>{});
    o.modules.push_back(std::move(c));
  }
}

} // namespace

std::string renderJson(const std::vector<Finding> &findings,
                       const RunSummary &summary) {
  Counts c = countOf(findings);
  nlohmann::json j;
  j["tool"] = "ftready";
  j["version"] = version();
  j["root"] = summary.root;
  j["incomplete"] = summary.incomplete;
  j["summary"] = {{"files_scanned", summary.files_scanned},
                  {"errors", c.errors},
                  {"warnings", c.warnings},
                  {"notes", c.notes},
                  {"suppressed", c.suppressed},
                  {"baselined", c.baselined},
                  {"vendored", c.vendored}};
  j["findings"] = findings;
  j["run"] = nlohmann::json::object();
  for (const auto &[k, v] : summary.facts)
    j["run"][k] = v;
  if (summary.readiness.present) {
    const Readiness &r = summary.readiness;
    j["readiness"] = {
        {"verdict", r.verdict},       {"reasons", r.reasons},
        {"module", r.module},         {"declares_support", r.declares_support},
        {"stress_ran", r.stress_ran}, {"calls", r.calls},
        {"threads", r.threads},       {"rounds", r.rounds},
        {"seconds", r.seconds},       {"budget", r.budget},
        {"exercised", r.exercised},   {"never_exercised", r.never_exercised}};
    if (r.evidence_tracked)
      j["readiness"]["evidence"] = evidenceJson(r);
  }
  j["diagnostics"] = nlohmann::json::array();
  for (const auto &d : summary.diagnostics)
    j["diagnostics"].push_back({{"file", d.file}, {"message", d.message}});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// SARIF wants a URI: a relative path stays relative to SRCROOT, an absolute
// one becomes a file:// URI (a relative reference must not begin with '/').
std::string uriOf(const std::string &path) {
  if (path.empty() || path[0] != '/')
    return path;
  std::string out = "file://";
  for (char c : path) {
    if (c == ' ')
      out += "%20";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
  return out;
}

// FTR001's evidence holds both stacks of the race, as written by the stress
// harness: "stack N: <title>" then "  <function> <file>:<line> (<object>)".
// SARIF carries them as one threadFlow each.
nlohmann::json codeFlowsFrom(const std::vector<std::string> &evidence) {
  nlohmann::json flows = nlohmann::json::array();
  nlohmann::json *current = nullptr;
  for (const auto &line : evidence) {
    if (line.rfind("stack ", 0) == 0) {
      flows.push_back({{"message", {{"text", line}}},
                       {"locations", nlohmann::json::array()}});
      current = &flows.back()["locations"];
      continue;
    }
    if (!current || line.rfind("  ", 0) != 0)
      continue;
    std::istringstream in(line);
    std::string function, where;
    in >> function >> where;
    auto colon = where.rfind(':');
    unsigned lineNo = 0;
    if (colon != std::string::npos)
      lineNo = static_cast<unsigned>(std::atoi(where.c_str() + colon + 1));
    nlohmann::json loc = {{"message", {{"text", function}}}};
    if (lineNo > 0)
      loc["physicalLocation"] = {
          {"artifactLocation", {{"uri", uriOf(where.substr(0, colon))}}},
          {"region", {{"startLine", lineNo}}}};
    current->push_back({{"location", loc}});
  }
  if (flows.empty())
    return flows;
  return nlohmann::json::array({{{"threadFlows", flows}}});
}

} // namespace

std::string renderSarif(const std::vector<Finding> &findings,
                        const RunSummary &summary) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string, size_t> ruleIndex;
  for (const auto &r : ruleCatalogue()) {
    ruleIndex[r.id] = rules.size();
    rules.push_back(
        {{"id", r.id},
         {"name", r.name},
         {"shortDescription", {{"text", r.summary}}},
         {"fullDescription", {{"text", r.summary + ". " + r.help}}},
         {"help", {{"text", r.help + " See " + r.doc + "."}}},
         {"defaultConfiguration", {{"level", toString(r.default_severity)}}}});
  }
  nlohmann::json results = nlohmann::json::array();
  for (const auto &f : findings) {
    nlohmann::json artifact = {{"uri", uriOf(f.location.file)}};
    if (artifact["uri"].get<std::string>().rfind("file:", 0) != 0)
      artifact["uriBaseId"] = "SRCROOT";
    nlohmann::json loc = {
        {"physicalLocation",
         {{"artifactLocation", artifact},
          {"region",
           {{"startLine", std::max(1u, f.location.line)},
            {"startColumn", std::max(1u, f.location.column)}}}}}};
    if (!f.function.empty())
      loc["logicalLocations"] = {{{"name", f.function}, {"kind", "function"}}};
    nlohmann::json r = {
        {"ruleId", f.rule},
        {"level", toString(f.severity)},
        {"message",
         {{"text", f.message + (f.fix.empty() ? "" : ". Fix: " + f.fix)}}},
        {"locations", {loc}},
        {"partialFingerprints", {{"ftready/v1", f.fingerprint}}},
        {"properties", {{"fix", f.fix}, {"status", toString(f.status)}}}};
    if (auto it = ruleIndex.find(f.rule); it != ruleIndex.end())
      r["ruleIndex"] = it->second;
    if (auto flows = codeFlowsFrom(f.evidence); !flows.empty())
      r["codeFlows"] = flows;
    if (f.status == Status::Suppressed)
      r["suppressions"] = {
          {{"kind", "inSource"}, {"justification", f.suppression_reason}}};
    else if (f.status == Status::Vendored)
      r["suppressions"] = {
          {{"kind", "external"}, {"justification", "vendored code"}}};
    if (summary.baseline_given)
      r["baselineState"] = f.status == Status::Baselined ? "unchanged" : "new";
    results.push_back(r);
  }
  nlohmann::json notifications = nlohmann::json::array();
  for (const auto &d : summary.diagnostics)
    notifications.push_back(
        {{"level", "warning"},
         {"message", {{"text", d.file + ": " + d.message}}}});
  std::string rootUri = "file://" + summary.root;
  if (rootUri.back() != '/')
    rootUri += '/';
  nlohmann::json sarif = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver",
            {{"name", "ftready"},
             {"version", version()},
             {"semanticVersion", version()},
             {"rules", rules}}}}},
         {"originalUriBaseIds", {{"SRCROOT", {{"uri", rootUri}}}}},
         {"invocations",
          {{{"executionSuccessful", !summary.incomplete},
            {"toolExecutionNotifications", notifications}}}},
         {"results", results}}}}};
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

namespace {

Finding findingFromSarif(const nlohmann::json &r) {
  Finding f;
  f.rule = r.value("ruleId", "");
  f.severity =
      parseSeverity(r.value("level", "warning")).value_or(Severity::Warning);
  f.message = r.contains("message") ? r["message"].value("text", "") : "";
  if (r.contains("locations") && !r["locations"].empty()) {
    const auto &loc = r["locations"][0];
    if (loc.contains("physicalLocation")) {
      const auto &pl = loc["physicalLocation"];
      f.location.file = pl["artifactLocation"].value("uri", "");
      if (pl.contains("region")) {
        f.location.line = pl["region"].value("startLine", 0u);
        f.location.column = pl["region"].value("startColumn", 0u);
      }
    }
    if (loc.contains("logicalLocations") && !loc["logicalLocations"].empty())
      f.function = loc["logicalLocations"][0].value("name", "");
  }
  if (r.contains("partialFingerprints"))
    f.fingerprint = r["partialFingerprints"].value("ftready/v1", "");
  if (r.contains("properties")) {
    f.fix = r["properties"].value("fix", "");
    f.status = parseStatus(r["properties"].value("status", "static-only"))
                   .value_or(Status::StaticOnly);
  }
  return f;
}

} // namespace

namespace {

std::string readWhole(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read '" + path + "'");
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

} // namespace

std::vector<Finding> readFindings(const std::string &path) {
  return readFindingsText(readWhole(path), path);
}

std::vector<Finding> readFindingsText(const std::string &text,
                                      const std::string &path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("findings"))
      return j["findings"].get<std::vector<Finding>>();
    if (j.contains("runs")) {
      std::vector<Finding> out;
      for (const auto &run : j["runs"])
        for (const auto &r : run.value("results", nlohmann::json::array()))
          out.push_back(findingFromSarif(r));
      return out;
    }
    // A single-line JSONL file is one finding.
  }
  std::istringstream lines(text);
  try {
    return readJsonLines(lines);
  } catch (const std::exception &e) {
    throw std::runtime_error("'" + path +
                             "' is not an ftready report, findings.jsonl or "
                             "SARIF log: " +
                             e.what());
  }
}

RunSummary readSummary(const std::string &path) {
  return readSummaryText(readWhole(path), path);
}

RunSummary readSummaryText(const std::string &text, const std::string &path) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("findings"))
    throw std::runtime_error("'" + path + "' is not an ftready JSON report");
  RunSummary s;
  s.root = j.value("root", "");
  s.incomplete = j.value("incomplete", false);
  if (j.contains("summary"))
    s.files_scanned = j["summary"].value("files_scanned", 0u);
  const nlohmann::json run = j.value("run", nlohmann::json::object());
  for (auto it = run.begin(); it != run.end(); ++it)
    s.facts.push_back({it.key(), it.value().get<std::string>()});
  for (const auto &d : j.value("diagnostics", nlohmann::json::array()))
    s.diagnostics.push_back({d.value("file", ""), d.value("message", "")});
  if (j.contains("readiness")) {
    const auto &r = j["readiness"];
    Readiness &o = s.readiness;
    o.present = true;
    o.verdict = r.value("verdict", "");
    o.reasons = r.value("reasons", std::vector<std::string>{});
    o.module = r.value("module", "");
    o.declares_support = r.value("declares_support", false);
    o.stress_ran = r.value("stress_ran", false);
    o.calls = r.value("calls", 0ul);
    o.threads = r.value("threads", 0u);
    o.rounds = r.value("rounds", 0u);
    o.seconds = r.value("seconds", 0.0);
    o.budget = r.value("budget", 0.0);
    o.exercised = r.value("exercised", std::vector<std::string>{});
    o.never_exercised = r.value("never_exercised", std::vector<std::string>{});
    if (r.contains("evidence") && r["evidence"].is_object())
      readEvidence(r["evidence"], o);
  }
  return s;
}

std::set<std::string> readBaselineFingerprints(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read baseline '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception &e) {
    throw std::runtime_error("baseline '" + path +
                             "' is not JSON: " + e.what());
  }
  std::set<std::string> out;
  if (j.contains("runs")) {
    for (const auto &run : j["runs"])
      for (const auto &r : run.value("results", nlohmann::json::array()))
        if (r.contains("partialFingerprints") &&
            r["partialFingerprints"].contains("ftready/v1"))
          out.insert(r["partialFingerprints"]["ftready/v1"].get<std::string>());
  } else if (j.contains("findings")) {
    for (const auto &f : j["findings"])
      out.insert(f.value("fingerprint", ""));
  } else {
    throw std::runtime_error("baseline '" + path +
                             "' is neither a SARIF log nor an ftready JSON "
                             "report");
  }
  return out;
}

unsigned applyBaseline(std::vector<Finding> &findings,
                       const std::set<std::string> &fingerprints) {
  unsigned n = 0;
  for (auto &f : findings)
    if (f.status != Status::Suppressed && fingerprints.count(f.fingerprint)) {
      f.status = Status::Baselined;
      ++n;
    }
  return n;
}

int exitCodeFor(const std::vector<Finding> &findings, Severity failOn) {
  for (const auto &f : findings)
    if (isActive(f) && static_cast<int>(f.severity) >= static_cast<int>(failOn))
      return 1;
  return 0;
}

} // namespace ftready::reports
