// Inline opt-outs, in the NOLINT tradition:
//   code;  // ftready: ignore[FT001] the list is private to this thread
//   // ftready: ignore-next-line[FT002,FT007] reason
//   code;
// A suppressed finding is kept with status Suppressed and its reason.
#pragma once

#include "ftready/finding.h"

#include <string>
#include <vector>

namespace ftready::analyzer {

// Returns how many findings it marked. Paths are resolved against `root`.
unsigned applySuppressions(std::vector<Finding> &findings,
                           const std::string &root);

// For one comment line: does it suppress `rule`? Sets `reason` if so.
bool suppresses(const std::string &line, const std::string &rule,
                bool nextLineForm, std::string *reason);

} // namespace ftready::analyzer
