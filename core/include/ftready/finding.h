// The one finding type every part of ftready produces and consumes.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace ftready {

const char *version();

enum class Severity { Note, Warning, Error };

// Where a finding stands once static and dynamic results are merged.
// Vendored: in a bundled copy of another project's code (reported apart,
// outside the verdict, unless --include-vendored).
enum class Status {
  StaticOnly,
  DynamicOnly,
  Confirmed,
  Suppressed,
  Baselined,
  Vendored
};

struct Location {
  std::string
      file; // as given to the tool (absolute or relative to the scan root)
  unsigned line = 0;
  unsigned column = 0;
};

struct Finding {
  std::string rule; // FT001..FT007, FTR001..
  Severity severity = Severity::Warning;
  Location location;
  std::string function; // enclosing C function, empty at file scope
  std::string message;
  std::string fix;
  std::vector<std::string> evidence; // supporting lines: calls, stacks
  std::string fingerprint;           // stable across line drift
  Status status = Status::StaticOnly;
  std::string suppression_reason; // set when status is Suppressed
};

const char *toString(Severity s);
const char *toString(Status s);
std::optional<Severity> parseSeverity(const std::string &s);
std::optional<Status> parseStatus(const std::string &s);

// Hash of rule, file, function and the message's subject (the `key`): not the
// line, so a finding keeps its fingerprint when code above it moves.
std::string makeFingerprint(const std::string &rule, const std::string &file,
                            const std::string &function,
                            const std::string &key);

void to_json(nlohmann::json &j, const Finding &f);
void from_json(const nlohmann::json &j, Finding &f);

// JSON Lines: one finding per line, flushed as written so a killed run keeps
// what it found.
void writeJsonLine(std::ostream &out, const Finding &f);
// Throws std::runtime_error naming the line that is not a finding.
std::vector<Finding> readJsonLines(std::istream &in);

// Orders by file, line, column, rule: reports and tests compare stable lists.
void sortFindings(std::vector<Finding> &findings);

} // namespace ftready
