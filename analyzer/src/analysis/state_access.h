// The state-access map of one translation unit (see ftready/state_map.h):
// for each function, the globals, function-local statics and struct fields
// it reads and writes, with the lock state the TU model gives, the lazy
// initialisations it makes without a lock, and the Python callables the
// module's tables register it as.
#pragma once

#include "ftready/state_map.h"
#include "tu_model.h"

#include <functional>
#include <string>

namespace ftready::analysis {

// `fileOf` gives a location's file as the map names it (absolute), or ""
// for a file outside the report scope: its functions are left out.
StateMap
buildStateMap(const TuModel &model,
              const std::function<std::string(clang::SourceLocation)> &fileOf);

} // namespace ftready::analysis
