// Preprocessor side of the analysis layer: records the critical-section
// macros and the C API macros (PyList_GET_ITEM is a macro, not a function)
// before expansion hides them.
#pragma once

#include "tu_model.h"

#include <clang/Lex/PPCallbacks.h>
#include <clang/Lex/Preprocessor.h>

#include <set>
#include <string>
#include <vector>

namespace ftready::analysis {

// One expansion of a watched API macro.
struct MacroUse {
  std::string name;
  clang::SourceLocation begin; // file locations (see fileBegin/fileEnd)
  clang::SourceLocation end;
  std::vector<std::string> args; // raw argument text
};

// The file range of one expansion of a debug-only check (assert).
struct DebugCheck {
  clang::SourceLocation begin, end; // file locations
};

struct MacroRecord {
  std::vector<CriticalSectionMark> criticalSections;
  std::vector<MacroUse> apiMacros;
  std::vector<DebugCheck> debugChecks;
};

// Where the first / last token of a range was written in the file. Unlike
// expansion locations these tell apart a macro nested in another's argument.
clang::SourceLocation fileBegin(const clang::SourceManager &sm,
                                clang::SourceLocation loc);
clang::SourceLocation fileEnd(const clang::SourceManager &sm,
                              clang::SourceLocation loc);

class MacroRecorder : public clang::PPCallbacks {
public:
  MacroRecorder(clang::Preprocessor &pp, std::set<std::string> watched,
                MacroRecord &out)
      : pp_(pp), watched_(std::move(watched)), out_(out) {}

  void MacroExpands(const clang::Token &name, const clang::MacroDefinition &,
                    clang::SourceRange range,
                    const clang::MacroArgs *args) override;

private:
  std::vector<std::string> argumentTexts(const clang::MacroInfo *mi,
                                         const clang::MacroArgs *args) const;

  clang::Preprocessor &pp_;
  std::set<std::string> watched_;
  MacroRecord &out_;
};

} // namespace ftready::analysis
