#include "ftready/reports/readiness.h"

#include "ftready/interpreters.h"

#include "ftready/rule_catalogue.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ftready::reports {

namespace {

bool isActive(const Finding &f) {
  return f.status != Status::Suppressed && f.status != Status::Baselined &&
         f.status != Status::Vendored;
}

// Which static rules a run-time finding can confirm. A race is what FT001,
// FT002, FT003 and FT007 predict; a crash or a wrong result can come from any
// hazard in the function; the GIL coming back is FT004.
bool confirms(const std::string &dynamicRule, const std::string &staticRule) {
  if (dynamicRule == "FTR004")
    return staticRule == "FT004";
  if (dynamicRule == "FTR001")
    return staticRule == "FT001" || staticRule == "FT002" ||
           staticRule == "FT003" || staticRule == "FT007";
  return staticRule != "FT004";
}

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// Lines around the finding, from the source under the report's root.
std::vector<std::pair<unsigned, std::string>>
excerpt(const std::string &root, const Finding &f, unsigned context = 2) {
  std::vector<std::pair<unsigned, std::string>> out;
  if (f.location.line == 0)
    return out;
  std::string path = f.location.file;
  if (!path.empty() && path[0] != '/')
    path = root + "/" + path;
  std::ifstream in(path);
  unsigned n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (n + context >= f.location.line && n <= f.location.line + context)
      out.push_back({n, line});
    if (n > f.location.line + context)
      break;
  }
  return out;
}

std::map<std::string, unsigned> countBy(const std::vector<Finding> &findings,
                                        bool byRule) {
  std::map<std::string, unsigned> out;
  for (const auto &f : findings)
    if (isActive(f))
      ++out[byRule ? f.rule : f.location.file];
  return out;
}

// Files, then functions, in the order the report lists them.
std::map<std::string, std::map<std::string, std::vector<const Finding *>>>
byFileAndFunction(const std::vector<Finding> &findings) {
  std::map<std::string, std::map<std::string, std::vector<const Finding *>>>
      out;
  for (const auto &f : findings)
    if (isActive(f))
      out[f.location.file][f.function.empty() ? "(file scope)" : f.function]
          .push_back(&f);
  return out;
}

std::string textBar(unsigned n, unsigned max) {
  unsigned width = max ? (n * 30 + max - 1) / max : 0;
  std::string bar;
  for (unsigned i = 0; i < width; ++i)
    bar += "\u2588";
  return bar;
}

std::string svgBars(const std::string &title,
                    const std::map<std::string, unsigned> &counts) {
  unsigned max = 1;
  for (const auto &[k, v] : counts)
    max = std::max(max, v);
  unsigned rowH = 22, labelW = 260, barW = 360;
  unsigned h = static_cast<unsigned>(counts.size()) * rowH + 30;
  std::ostringstream s;
  s << "<figure><figcaption>" << escapeXml(title)
    << "</figcaption><svg role=\"img\" width=\"" << labelW + barW + 60
    << "\" height=\"" << h << "\" xmlns=\"http://www.w3.org/2000/svg\">";
  unsigned y = 10;
  for (const auto &[k, v] : counts) {
    unsigned w = v * barW / max;
    s << "<text x=\"" << labelW - 8 << "\" y=\"" << y + 15
      << "\" text-anchor=\"end\" font-size=\"13\">" << escapeXml(k)
      << "</text><rect class=\"bar\" x=\"" << labelW << "\" y=\"" << y
      << "\" width=\"" << std::max(w, 2u) << "\" height=\"" << rowH - 6
      << "\"/><text x=\"" << labelW + std::max(w, 2u) + 6 << "\" y=\"" << y + 15
      << "\" font-size=\"13\">" << v << "</text>";
    y += rowH;
  }
  s << "</svg></figure>";
  return s.str();
}

std::string statusLabel(Status s) {
  switch (s) {
  case Status::Confirmed:
    return "confirmed at run time";
  case Status::DynamicOnly:
    return "found at run time only";
  default:
    return "static only";
  }
}

// The source lines a run-time finding names: its location and the
// "  function file:line (object)" frames of its evidence.
std::set<unsigned> linesNamed(const Finding &d) {
  std::set<unsigned> lines;
  if (d.location.line)
    lines.insert(d.location.line);
  for (const auto &e : d.evidence) {
    auto space = e.rfind(' ');
    auto colon = e.rfind(':', space);
    if (e.rfind("  ", 0) == 0 && colon != std::string::npos)
      lines.insert(static_cast<unsigned>(std::atoi(e.c_str() + colon + 1)));
  }
  return lines;
}

} // namespace

const char *toString(Verdict v) {
  switch (v) {
  case Verdict::Ready:
    return "READY";
  case Verdict::ReadyWithWarnings:
    return "READY WITH WARNINGS";
  case Verdict::NotReady:
    return "NOT READY";
  case Verdict::Incomplete:
    return "INCOMPLETE";
  }
  return "NOT READY";
}

std::vector<Finding> mergeFindings(const std::vector<Finding> &statics,
                                   const std::vector<Finding> &dynamics) {
  std::vector<Finding> out = statics;
  for (const auto &d : dynamics) {
    // Only a static finding is confirmed: an earlier run-time finding of the
    // same function (already in `out`) is not evidence for a later one.
    auto candidate = [&](const Finding &s) {
      return isActive(s) && s.rule.rfind("FTR", 0) != 0 &&
             !s.function.empty() && s.function == d.function &&
             confirms(d.rule, s.rule);
    };
    // A race names its lines: confirm the static findings on them, or, when
    // none is, every matching one in the function.
    std::set<unsigned> lines = linesNamed(d);
    bool exact = std::any_of(out.begin(), out.end(), [&](const Finding &s) {
      return candidate(s) && lines.count(s.location.line);
    });
    bool merged = false;
    for (auto &s : out) {
      if (!candidate(s) || (exact && !lines.count(s.location.line)))
        continue;
      s.status = Status::Confirmed;
      s.evidence.push_back("confirmed at run time: [" + d.rule + "] " +
                           d.message);
      for (const auto &e : d.evidence)
        s.evidence.push_back(e);
      merged = true;
    }
    if (!merged) {
      Finding f = d;
      if (f.status == Status::StaticOnly)
        f.status = Status::DynamicOnly;
      out.push_back(std::move(f));
    }
  }
  sortFindings(out);
  return out;
}

namespace {

std::string listed(const std::vector<std::string> &items, size_t most = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < most; ++i)
    s += (i ? ", " : "") + items[i];
  if (items.size() > most)
    s += " and " + std::to_string(items.size() - most) + " more";
  return s;
}

// What the verdict is missing: a build, a full parse, every module imported
// and called. Empty when the evidence is whole.
std::vector<Gap> gapsOf(const Readiness &r) {
  std::vector<Gap> gaps;
  if (!r.evidence_tracked) {
    if (!r.stress_ran)
      gaps.push_back({"the stress run did not run", "see the diagnostics"});
    return gaps;
  }
  // What stopped the build, or kept it from producing its extension.
  gaps.insert(gaps.end(), r.run_problems.begin(), r.run_problems.end());
  gaps.insert(gaps.end(), r.build_problems.begin(), r.build_problems.end());
  if (!r.built) {
    if (r.build_problems.empty())
      gaps.push_back(
          {"the build failed", "see build.log in the report folder"});
  }
  if (r.built && r.units_compiled == 0 && !r.modules.empty())
    gaps.push_back({"the build compiled no C or C++ source",
                    "give the build that compiles the extension (--build-cmd) "
                    "or its compile_commands.json (--compile-commands)"});
  if (r.units_scanned < r.units_compiled)
    gaps.push_back({std::to_string(r.units_compiled - r.units_scanned) +
                        " of " + std::to_string(r.units_compiled) +
                        " compiled units were not scanned",
                    "see the diagnostics"});
  if (!r.unparsed.empty())
    gaps.push_back(
        {std::to_string(r.unparsed.size()) + " of " +
             std::to_string(r.units_scanned) +
             " compiled units did not parse: " + listed(r.unparsed),
         "give the include folders and macros they need with --extra-arg "
         "-I<dir>/-D<macro> (or CPPFLAGS), as the build's own flags do"});
  if (r.built && r.modules.empty())
    gaps.push_back(
        {"the build produced no extension module for this Python, so nothing "
         "ran: a pure-Python fallback is not evidence of readiness",
         "make the build compile the extension for 3.13t (a switch that skips "
         "it, a compiler it did not find), or give --build-cmd"});
  for (const auto &m : r.modules) {
    if (m.problem.rfind("not run", 0) == 0)
      gaps.push_back(
          {"module " + m.name + " was " + m.problem, "give a larger --budget"});
    else if (m.problem.rfind("excluded", 0) == 0 ||
             m.problem.rfind("interrupted", 0) == 0)
      continue; // the user's choice, or said once in run_problems
    else if (!m.imported)
      gaps.push_back({"module " + m.name + " did not import" +
                          (m.problem.empty() ? "" : ": " + m.problem),
                      "make it importable by the managed interpreter: its "
                      "package's run-time dependencies on PYTHONPATH, or a "
                      "--scenario that sets it up"});
    else if (m.calls == 0)
      gaps.push_back({"the stress run made no calls to module " + m.name +
                          (m.problem.empty() ? "" : ": " + m.problem),
                      "give a --scenario file whose calls set up its objects, "
                      "or a larger --budget"});
  }
  bool anyRan = std::any_of(
      r.modules.begin(), r.modules.end(),
      [](const ModuleCoverage &m) { return m.imported && m.calls > 0; });
  if (!r.modules.empty() && !anyRan && gaps.empty())
    gaps.push_back({"no module was stressed",
                    "remove the exclusions of [tool.ftready] modules / "
                    "exclude-modules or --module"});
  return gaps;
}

} // namespace

Readiness judge(const std::vector<Finding> &merged, Readiness r) {
  r.present = true;
  r.reasons.clear();
  unsigned confirmed = 0, dynamicOnly = 0, errors = 0, warnings = 0, other = 0;
  bool onlyFt004 = true;
  for (const auto &f : merged) {
    if (!isActive(f))
      continue;
    if (f.rule != "FT004" && f.rule != "FTR004")
      onlyFt004 = false;
    if (f.rule == "FT004" || f.rule == "FTR004")
      continue; // the declaration itself is what the verdict decides
    if (f.status == Status::Confirmed)
      ++confirmed;
    else if (f.status == Status::DynamicOnly)
      ++dynamicOnly;
    else if (f.severity == Severity::Error)
      ++errors;
    else if (f.severity == Severity::Warning)
      ++warnings;
    else
      ++other;
  }
  if (confirmed)
    r.reasons.push_back(std::to_string(confirmed) +
                        " hazards found statically were confirmed at run time");
  if (dynamicOnly)
    r.reasons.push_back(std::to_string(dynamicOnly) +
                        " failures appeared at run time only (races, crashes, "
                        "hangs or errors under concurrency)");
  if (errors)
    r.reasons.push_back(std::to_string(errors) +
                        " static findings of severity error");
  if (warnings)
    r.reasons.push_back(std::to_string(warnings) +
                        " static findings of severity warning, not confirmed "
                        "at run time");
  r.gaps = gapsOf(r);
  if (confirmed || dynamicOnly || errors)
    r.verdict = toString(Verdict::NotReady);
  else if (!r.gaps.empty())
    r.verdict = toString(Verdict::Incomplete);
  else if (warnings || other || (r.stress_ran && !r.races_detectable) ||
           std::any_of(r.modules.begin(), r.modules.end(),
                       [](const ModuleCoverage &m) { return !m.note.empty(); }))
    r.verdict = toString(Verdict::ReadyWithWarnings);
  else
    r.verdict = toString(Verdict::Ready);
  for (const auto &g : r.gaps)
    r.reasons.push_back("could not decide: " + g.what + " (to fix: " + g.fix +
                        ")");
  for (const auto &m : r.modules)
    if (!m.note.empty())
      r.reasons.push_back("module " + m.name + " " + m.note +
                          ": it did not run as its users import it");
  if (r.verdict == std::string("READY"))
    r.reasons.push_back(
        onlyFt004 && !r.declares_support
            ? "no hazard found: declare Py_MOD_GIL_NOT_USED"
            : "no hazard found, and the module already declares "
              "Py_MOD_GIL_NOT_USED");
  if (r.stress_ran && !r.races_detectable)
    r.reasons.push_back(
        "the stress run looked for crashes, hangs and errors, but data races "
        "were not looked for: the interpreter, or a module, was built "
        "without ThreadSanitizer; " +
        howToGetTsanBuild());
  if (r.stress_ran && !r.never_exercised.empty())
    r.reasons.push_back(std::to_string(r.never_exercised.size()) +
                        " callables were never exercised by the stress run");
  return r;
}

std::string effortOf(const Finding &f) {
  if (f.rule == "FT004" || f.rule == "FT005" || f.rule == "FTR004")
    return "S";
  if (f.rule == "FT001")
    return f.severity == Severity::Error ? "M" : "S";
  if (f.rule == "FT002" || f.rule == "FT003" || f.rule == "FT006")
    return "M";
  return "L";
}

namespace {

// What the verdict rests on, a line each: build, parse, every module's run.
std::vector<std::string> evidenceLines(const Readiness &r) {
  std::vector<std::string> out;
  if (!r.evidence_tracked)
    return out;
  if (!r.interpreter.empty())
    out.push_back("interpreter: " + r.interpreter);
  out.push_back("build: " + r.build + (r.built ? ", built" : ", FAILED"));
  out.push_back("translation units: " + std::to_string(r.units_compiled) +
                " compiled, " + std::to_string(r.units_scanned) + " scanned, " +
                std::to_string(r.units_parsed) + " parsed");
  for (const auto &m : r.modules) {
    std::string line = "module " + m.name + ": ";
    if (!m.imported)
      line += "did not import";
    else
      line += std::to_string(m.calls) + " calls in " +
              std::to_string(m.rounds) + " rounds, " +
              std::to_string(static_cast<int>(m.seconds)) + " s of " +
              std::to_string(static_cast<int>(m.budget)) + " s; " +
              std::to_string(m.exercised.size()) + " targets exercised, " +
              std::to_string(m.never_exercised.size()) + " never";
    if (!m.problem.empty())
      line += " (" + m.problem + ")";
    out.push_back(line);
  }
  if (!r.not_built.empty())
    out.push_back("not built, not scanned: " + listed(r.not_built, 12));
  return out;
}

} // namespace

std::string renderMarkdown(const std::vector<Finding> &findings,
                           const RunSummary &summary) {
  const Readiness &r = summary.readiness;
  std::ostringstream md;
  md << "# ftready readiness report";
  if (!r.module.empty())
    md << ": `" << r.module << "`";
  md << "\n\n";
  if (summary.incomplete)
    md << "> **INCOMPLETE**: the run ended before it finished; this is what "
          "it found until then.\n\n";
  md << "**Verdict: " << (r.present ? r.verdict : "not judged") << "**\n\n";
  for (const auto &reason : r.reasons)
    md << "- " << reason << "\n";
  md << "- the module "
     << (r.declares_support ? "declares" : "does not declare")
     << " `Py_MOD_GIL_NOT_USED`\n";
  if (r.stress_ran)
    md << "- stress run: " << r.calls << " calls in " << r.rounds << " rounds, "
       << r.threads << " threads, " << static_cast<int>(r.seconds) << " s of "
       << static_cast<int>(r.budget) << " s\n";
  if (!r.exercised.empty()) {
    md << "- exercised:";
    for (const auto &e : r.exercised)
      md << " `" << e << "`";
    md << "\n";
  }
  if (!r.never_exercised.empty()) {
    md << "- never exercised:";
    for (const auto &e : r.never_exercised)
      md << " `" << e << "`";
    md << "\n";
  }
  if (auto lines = evidenceLines(r); !lines.empty()) {
    md << "\n## What the verdict rests on\n\n";
    for (const auto &l : lines)
      md << "- " << l << "\n";
  }
  auto rules = countBy(findings, true);
  auto files = countBy(findings, false);
  unsigned max = 0;
  for (const auto &[k, v] : rules)
    max = std::max(max, v);
  for (const auto &[k, v] : files)
    max = std::max(max, v);
  md << "\n## Findings by rule\n\n```\n";
  for (const auto &[k, v] : rules)
    md << k << std::string(k.size() < 8 ? 8 - k.size() : 1, ' ')
       << textBar(v, max) << " " << v << "\n";
  md << "```\n\n## Findings by file\n\n```\n";
  for (const auto &[k, v] : files)
    md << k << "  " << textBar(v, max) << " " << v << "\n";
  md << "```\n\n## Effort ranking\n\n| function | file | findings | effort |\n"
        "|---|---|---|---|\n";
  struct Row {
    std::string fn, file, effort;
    unsigned n;
  };
  std::vector<Row> rows;
  for (const auto &[file, fns] : byFileAndFunction(findings))
    for (const auto &[fn, list] : fns) {
      std::string effort = "S";
      for (const auto *f : list)
        effort = std::max(effort, effortOf(*f),
                          [](const std::string &a, const std::string &b) {
                            return std::string("SML").find(a) <
                                   std::string("SML").find(b);
                          });
      rows.push_back({fn, file, effort, static_cast<unsigned>(list.size())});
    }
  std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
    return std::string("LMS").find(a.effort) <
           std::string("LMS").find(b.effort);
  });
  for (const auto &row : rows)
    md << "| `" << row.fn << "` | " << row.file << " | " << row.n << " | "
       << row.effort << " |\n";
  md << "\n## Migration steps, by file and function\n";
  for (const auto &[file, fns] : byFileAndFunction(findings)) {
    md << "\n### " << file << "\n";
    for (const auto &[fn, list] : fns) {
      md << "\n#### `" << fn << "`\n";
      for (const auto *f : list) {
        const RuleInfo *info = findRule(f->rule);
        md << "\n- **" << f->rule << (info ? " " + info->name : std::string())
           << "** (" << toString(f->severity) << ", " << statusLabel(f->status)
           << ", effort " << effortOf(*f) << ") line " << f->location.line
           << ": " << f->message << "\n";
        auto lines = excerpt(summary.root, *f);
        if (!lines.empty()) {
          md << "\n  ```c\n";
          for (const auto &[n, text] : lines)
            md << "  " << (n == f->location.line ? ">" : " ") << n << " | "
               << text << "\n";
          md << "  ```\n";
        }
        if (!f->fix.empty())
          md << "\n  Fix: " << f->fix << "\n";
      }
    }
  }
  unsigned suppressed = 0, baselined = 0, vendored = 0;
  for (const auto &f : findings) {
    suppressed += f.status == Status::Suppressed;
    baselined += f.status == Status::Baselined;
    vendored += f.status == Status::Vendored;
  }
  if (vendored) {
    md << "\n## Vendored code (outside the verdict)\n\n";
    for (const auto &f : findings)
      if (f.status == Status::Vendored)
        md << "- " << f.rule << " " << f.location.file << ":" << f.location.line
           << " `" << f.function << "`: " << f.message << "\n";
  }
  if (suppressed || baselined) {
    md << "\n## Suppressed and baselined\n\n";
    for (const auto &f : findings)
      if (f.status == Status::Suppressed || f.status == Status::Baselined)
        md << "- " << toString(f.status) << ": " << f.rule << " "
           << f.location.file << ":" << f.location.line << " `" << f.function
           << "`"
           << (f.suppression_reason.empty() ? ""
                                            : " (" + f.suppression_reason + ")")
           << "\n";
  }
  return md.str();
}

std::string renderHtml(const std::vector<Finding> &findings,
                       const RunSummary &summary) {
  const Readiness &r = summary.readiness;
  std::string verdictClass = r.verdict == "READY"        ? "ready"
                             : r.verdict == "NOT READY"  ? "not-ready"
                             : r.verdict == "INCOMPLETE" ? "not-ready"
                                                         : "warnings";
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<title>ftready readiness report</title><style>"
       "body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}"
       ".verdict{font-size:1.6em;font-weight:bold;padding:.4em .8em;"
       "border-radius:6px;display:inline-block}"
       ".ready{background:#d7f5dd}.warnings{background:#fff3c4}"
       ".not-ready{background:#fbd3d0}.bar{fill:#4a7bd0}"
       "pre{background:#f5f5f5;padding:.6em;overflow:auto}"
       ".hit{background:#ffe58f}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:.2em .6em}"
       ".incomplete{background:#fbd3d0;padding:.5em}"
       "</style></head><body>\n<h1>ftready readiness report"
    << (r.module.empty() ? "" : ": " + escapeXml(r.module)) << "</h1>\n";
  if (summary.incomplete)
    h << "<p class=\"incomplete\"><b>INCOMPLETE</b>: the run ended before it "
         "finished; this is what it found until then.</p>\n";
  h << "<p class=\"verdict " << verdictClass << "\" id=\"verdict\">"
    << escapeXml(r.present ? r.verdict : "not judged") << "</p>\n<ul>";
  for (const auto &reason : r.reasons)
    h << "<li>" << escapeXml(reason) << "</li>";
  h << "<li>the module "
    << (r.declares_support ? "declares" : "does not declare")
    << " <code>Py_MOD_GIL_NOT_USED</code></li>";
  if (r.stress_ran)
    h << "<li>stress run: " << r.calls << " calls in " << r.rounds
      << " rounds, " << r.threads << " threads, " << static_cast<int>(r.seconds)
      << " s of " << static_cast<int>(r.budget) << " s</li>";
  if (!r.never_exercised.empty()) {
    h << "<li>never exercised:";
    for (const auto &e : r.never_exercised)
      h << " <code>" << escapeXml(e) << "</code>";
    h << "</li>";
  }
  for (const auto &l : evidenceLines(r))
    h << "<li>" << escapeXml(l) << "</li>";
  h << "</ul>\n<h2>Charts</h2>\n"
    << svgBars("Findings by rule", countBy(findings, true)) << "\n"
    << svgBars("Findings by file", countBy(findings, false))
    << "\n<h2>Migration steps, by file and function</h2>\n";
  for (const auto &[file, fns] : byFileAndFunction(findings)) {
    h << "<h3>" << escapeXml(file) << "</h3>\n";
    for (const auto &[fn, list] : fns) {
      h << "<h4><code>" << escapeXml(fn) << "</code></h4>\n";
      for (const auto *f : list) {
        h << "<p><b>" << escapeXml(f->rule) << "</b> (" << toString(f->severity)
          << ", " << statusLabel(f->status) << ", effort " << effortOf(*f)
          << ") line " << f->location.line << ": " << escapeXml(f->message)
          << "</p>\n";
        auto lines = excerpt(summary.root, *f);
        if (!lines.empty()) {
          h << "<pre>";
          for (const auto &[n, text] : lines) {
            std::string row = std::to_string(n) + " | " + text;
            h << (n == f->location.line
                      ? "<span class=\"hit\">" + escapeXml(row) + "</span>"
                      : escapeXml(row))
              << "\n";
          }
          h << "</pre>\n";
        }
        if (!f->fix.empty())
          h << "<p>Fix: " << escapeXml(f->fix) << "</p>\n";
      }
    }
  }
  h << "</body></html>\n";
  return h.str();
}

std::string renderJunit(const std::vector<Finding> &findings,
                        const RunSummary &summary) {
  unsigned failures = 0, skipped = 0;
  for (const auto &f : findings)
    if (!isActive(f))
      ++skipped;
    else if (f.severity != Severity::Note)
      ++failures;
  const Readiness &r = summary.readiness;
  bool verdictFails = r.present && r.verdict == "NOT READY";
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"ftready\" tests=\"" << findings.size() + 1
    << "\" failures=\"" << failures + verdictFails << "\">\n"
    << "  <testsuite name=\"ftready\" tests=\"" << findings.size() + 1
    << "\" failures=\"" << failures + verdictFails << "\" skipped=\"" << skipped
    << "\">\n"
    << "    <testcase classname=\"ftready\" name=\"verdict\">";
  if (verdictFails)
    x << "<failure message=\"" << escapeXml(r.verdict) << "\">";
  for (const auto &reason : r.reasons)
    x << (verdictFails ? "" : "<system-out>") << escapeXml(reason) << "\n"
      << (verdictFails ? "" : "</system-out>");
  if (verdictFails)
    x << "</failure>";
  x << "</testcase>\n";
  for (const auto &f : findings) {
    x << "    <testcase classname=\"" << escapeXml(f.location.file)
      << "\" name=\""
      << escapeXml(f.rule + " " + f.function + ":" +
                   std::to_string(f.location.line))
      << "\">";
    if (!isActive(f))
      x << "<skipped message=\"" << toString(f.status) << "\"/>";
    else if (f.severity != Severity::Note)
      x << "<failure type=\"" << f.rule << "\" message=\""
        << escapeXml(f.message) << "\">" << escapeXml(f.fix) << "</failure>";
    x << "</testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

} // namespace ftready::reports
