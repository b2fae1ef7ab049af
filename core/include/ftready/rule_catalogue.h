// Metadata of every rule id ftready reports: static (FT) and run-time (FTR).
#pragma once

#include "ftready/finding.h"

#include <string>
#include <vector>

namespace ftready {

struct RuleInfo {
  std::string id;
  std::string name; // SARIF rule name, PascalCase
  std::string summary;
  Severity default_severity;
  std::string help; // the fix, in one paragraph
  std::string doc;  // path of the rule's doc in the repository
};

const std::vector<RuleInfo> &ruleCatalogue();
const RuleInfo *findRule(const std::string &id);

} // namespace ftready
