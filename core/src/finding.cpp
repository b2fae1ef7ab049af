#include "ftready/finding.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <tuple>

namespace ftready {

const char *version() { return FTREADY_VERSION; }

const char *toString(Severity s) {
  switch (s) {
  case Severity::Note:
    return "note";
  case Severity::Warning:
    return "warning";
  case Severity::Error:
    return "error";
  }
  return "warning";
}

const char *toString(Status s) {
  switch (s) {
  case Status::StaticOnly:
    return "static-only";
  case Status::DynamicOnly:
    return "dynamic-only";
  case Status::Confirmed:
    return "confirmed";
  case Status::Suppressed:
    return "suppressed";
  case Status::Baselined:
    return "baselined";
  case Status::Vendored:
    return "vendored";
  }
  return "static-only";
}

std::optional<Severity> parseSeverity(const std::string &s) {
  for (Severity v : {Severity::Note, Severity::Warning, Severity::Error})
    if (s == toString(v))
      return v;
  return std::nullopt;
}

std::optional<Status> parseStatus(const std::string &s) {
  for (Status v : {Status::StaticOnly, Status::DynamicOnly, Status::Confirmed,
                   Status::Suppressed, Status::Baselined, Status::Vendored})
    if (s == toString(v))
      return v;
  return std::nullopt;
}

std::string makeFingerprint(const std::string &rule, const std::string &file,
                            const std::string &function,
                            const std::string &key) {
  // FNV-1a, 64 bits: stable across platforms and releases, unlike std::hash.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const std::string &s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0x1f; // field separator
    h *= 1099511628211ull;
  };
  mix(rule);
  mix(file);
  mix(function);
  mix(key);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void to_json(nlohmann::json &j, const Finding &f) {
  j = nlohmann::json{{"rule", f.rule},
                     {"severity", toString(f.severity)},
                     {"file", f.location.file},
                     {"line", f.location.line},
                     {"column", f.location.column},
                     {"function", f.function},
                     {"message", f.message},
                     {"fix", f.fix},
                     {"evidence", f.evidence},
                     {"fingerprint", f.fingerprint},
                     {"status", toString(f.status)}};
  if (!f.suppression_reason.empty())
    j["suppression_reason"] = f.suppression_reason;
}

void from_json(const nlohmann::json &j, Finding &f) {
  f.rule = j.at("rule").get<std::string>();
  auto sev = parseSeverity(j.at("severity").get<std::string>());
  if (!sev)
    throw std::runtime_error("unknown severity '" +
                             j.at("severity").get<std::string>() + "'");
  f.severity = *sev;
  f.location.file = j.at("file").get<std::string>();
  f.location.line = j.at("line").get<unsigned>();
  f.location.column = j.value("column", 0u);
  f.function = j.value("function", "");
  f.message = j.at("message").get<std::string>();
  f.fix = j.value("fix", "");
  f.evidence = j.value("evidence", std::vector<std::string>{});
  f.fingerprint = j.value("fingerprint", "");
  auto st = parseStatus(j.value("status", "static-only"));
  if (!st)
    throw std::runtime_error("unknown status '" + j.value("status", "") + "'");
  f.status = *st;
  f.suppression_reason = j.value("suppression_reason", "");
}

void writeJsonLine(std::ostream &out, const Finding &f) {
  // Evidence comes from hostile processes: invalid UTF-8 is replaced, never
  // a reason to lose the finding.
  out << nlohmann::json(f).dump(-1, ' ', false,
                                nlohmann::json::error_handler_t::replace)
      << '\n';
  out.flush();
}

std::vector<Finding> readJsonLines(std::istream &in) {
  std::vector<Finding> out;
  std::string line;
  unsigned number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    try {
      out.push_back(nlohmann::json::parse(line).get<Finding>());
    } catch (const std::exception &e) {
      // A run killed mid-write leaves a torn last line: keep what came before.
      if (in.peek() == EOF && line.back() != '}')
        break;
      throw std::runtime_error("line " + std::to_string(number) +
                               " is not a finding: " + e.what());
    }
  }
  return out;
}

void sortFindings(std::vector<Finding> &findings) {
  std::stable_sort(
      findings.begin(), findings.end(), [](const Finding &a, const Finding &b) {
        return std::tie(a.location.file, a.location.line, a.location.column,
                        a.rule) < std::tie(b.location.file, b.location.line,
                                           b.location.column, b.rule);
      });
}

} // namespace ftready
