#include "macro_recorder.h"

#include "expr_text.h"

#include <clang/Lex/Lexer.h>
#include <clang/Lex/MacroArgs.h>
#include <clang/Lex/MacroInfo.h>

namespace ftready::analysis {

namespace {

bool isBeginCriticalSection(const std::string &n) {
  return n.rfind("Py_BEGIN_CRITICAL_SECTION", 0) == 0;
}

bool isEndCriticalSection(const std::string &n) {
  return n.rfind("Py_END_CRITICAL_SECTION", 0) == 0;
}

} // namespace

clang::SourceLocation fileBegin(const clang::SourceManager &sm,
                                clang::SourceLocation loc) {
  return sm.getFileLoc(loc);
}

clang::SourceLocation fileEnd(const clang::SourceManager &sm,
                              clang::SourceLocation loc) {
  while (loc.isMacroID()) {
    if (sm.isMacroArgExpansion(loc))
      loc = sm.getImmediateSpellingLoc(loc);
    else
      loc = sm.getImmediateExpansionRange(loc).getEnd();
  }
  return loc;
}

std::vector<std::string>
MacroRecorder::argumentTexts(const clang::MacroInfo *mi,
                             const clang::MacroArgs *args) const {
  std::vector<std::string> out;
  if (!mi || !args)
    return out;
  for (unsigned i = 0; i < mi->getNumParams(); ++i) {
    std::string text;
    for (const clang::Token *t = args->getUnexpArgument(i);
         t && t->isNot(clang::tok::eof); ++t)
      text += pp_.getSpelling(*t);
    out.push_back(text);
  }
  return out;
}

void MacroRecorder::MacroExpands(const clang::Token &nameTok,
                                 const clang::MacroDefinition &def,
                                 clang::SourceRange range,
                                 const clang::MacroArgs *args) {
  const clang::IdentifierInfo *ii = nameTok.getIdentifierInfo();
  if (!ii)
    return;
  std::string name = ii->getName().str();
  const auto &sm = pp_.getSourceManager();
  clang::SourceLocation at = sm.getExpansionLoc(range.getBegin());
  if (sm.isInSystemHeader(at))
    return;
  bool begin = isBeginCriticalSection(name);
  if (begin || isEndCriticalSection(name)) {
    CriticalSectionMark mark;
    mark.location = at;
    mark.begin = begin;
    if (begin)
      for (const auto &a : argumentTexts(def.getMacroInfo(), args))
        mark.objects.push_back(canonicalText(a));
    out_.criticalSections.push_back(std::move(mark));
    return;
  }
  // Debug-only checks: their condition is no logic the module relies on
  // (and NDEBUG builds drop it).
  if (name == "assert" || name == "_PyObject_ASSERT" ||
      name == "_PyObject_ASSERT_WITH_MSG") {
    out_.debugChecks.push_back(
        {fileBegin(sm, range.getBegin()), fileEnd(sm, range.getEnd())});
    return;
  }
  if (!watched_.count(name))
    return;
  // PySequence_Fast_GET_ITEM expands to PyList_GET_ITEM: a watched macro in
  // the body of another watched macro is part of that use, not one more.
  clang::SourceLocation b = range.getBegin();
  if (b.isMacroID() && !sm.isMacroArgExpansion(b) &&
      watched_.count(
          clang::Lexer::getImmediateMacroName(b, sm, pp_.getLangOpts()).str()))
    return;
  MacroUse use;
  use.name = name;
  use.begin = fileBegin(sm, range.getBegin());
  use.end = fileEnd(sm, range.getEnd());
  use.args = argumentTexts(def.getMacroInfo(), args);
  out_.apiMacros.push_back(std::move(use));
}

} // namespace ftready::analysis
