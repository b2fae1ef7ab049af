// FT004: the module does not declare that it can run without the GIL.
#include "rule.h"

#include <clang/ASTMatchers/ASTMatchers.h>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

class MissingGilDeclarationRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT004"; }

  // The whole translation unit decides: the slot table, the init function
  // and any PyUnstable_Module_SetGIL call are gathered by the model.
  void registerMatchers(MatchFinder &) override {}
  void check(const MatchFinder::MatchResult &) override {}

  void onEndOfTranslationUnit() override {
    const auto &mod = ctx_.model().module();
    if (!mod.init || mod.declares_gil_not_used)
      return;
    std::string name = mod.init->getNameAsString().substr(7);
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Note;
    rep.location = mod.init->getLocation();
    rep.function = mod.init;
    rep.key = name;
    rep.message =
        "module '" + name + "' does not declare free-threading support" +
        (mod.declares_gil_used ? " (its Py_mod_gil slot says Py_MOD_GIL_USED)"
                               : "") +
        ": importing it into 3.13t re-enables the GIL for the whole process "
        "with a RuntimeWarning";
    rep.fix = mod.multi_phase
                  ? "once its other findings are fixed, add "
                    "{Py_mod_gil, Py_MOD_GIL_NOT_USED} to the module's "
                    "PyModuleDef_Slot array (3.13)"
                  : "once its other findings are fixed, call "
                    "PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) "
                    "under #ifdef Py_GIL_DISABLED after creating the module "
                    "(3.13)";
    ctx_.report(std::move(rep));
  }
};

} // namespace

std::unique_ptr<Rule> makeFT004(const RuleContext &ctx) {
  return std::make_unique<MissingGilDeclarationRule>(ctx);
}

} // namespace ftready::rules
