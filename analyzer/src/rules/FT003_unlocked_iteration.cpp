// FT003: iteration over a shared container without a critical section.
#include "../analysis/code_effects.h"
#include "../analysis/expr_text.h"
#include "../analysis/ownership.h"
#include "rule.h"

#include <clang/ASTMatchers/ASTMatchers.h>

#include <set>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

class UnlockedIterationRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT003"; }

  void registerMatchers(MatchFinder &finder) override {
    finder.addMatcher(functionDecl(isDefinition()).bind("fn"), this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (ctx_.model().isInitOnly(fn))
      return;
    for (const auto &use : ctx_.model().apiUsesIn(fn)) {
      if (use.api == "PyDict_Next")
        checkDictNext(use, fn);
      else if (use.api == "PyList_GET_ITEM" || use.api == "PyList_GetItem" ||
               use.api == "PySequence_Fast_GET_ITEM")
        checkIndexedLoop(use, fn);
    }
  }

private:
  // True when the container is shared and nothing holds its lock here.
  bool isUnguarded(const analysis::ApiUse &use, const clang::Stmt *at,
                   const clang::FunctionDecl *fn) {
    const auto &model = ctx_.model();
    unsigned offset = model.offsetOf(at->getBeginLoc());
    if (use.args[0] &&
        analysis::isPrivateContainer(use.args[0], fn, offset, model))
      return false;
    return !model.isLockedAt(fn, at->getBeginLoc(), use.argTexts[0]);
  }

  // A helper's parameter: which callers hand it a shared container.
  std::vector<std::string> chainOf(const analysis::ApiUse &use,
                                   const clang::FunctionDecl *fn) const {
    const auto *param = llvm::dyn_cast_or_null<clang::ParmVarDecl>(
        use.args.empty() ? nullptr : analysis::referencedVar(use.args[0]));
    return analysis::sharingCallersEvidence(param, fn, ctx_.model());
  }

  void checkDictNext(const analysis::ApiUse &next,
                     const clang::FunctionDecl *fn) {
    if (next.args.empty())
      return;
    const clang::Stmt *loop = analysis::enclosingLoop(next.expr, ctx_.ast());
    const clang::Stmt *site = loop ? loop : next.expr;
    const std::string &dict = next.argTexts[0];
    if (!isUnguarded(next, site, fn) || !reported_.insert(site).second)
      return;
    Report rep;
    rep.rule = id();
    rep.location = site->getBeginLoc();
    rep.function = fn;
    rep.key = "PyDict_Next(" + dict + ")";
    rep.message = "PyDict_Next iterates '" + dict +
                  "' without a critical section: another thread can mutate "
                  "it mid-loop, and the borrowed key and value can be freed";
    rep.evidence = chainOf(next, fn);
    rep.fix = "wrap the whole loop in Py_BEGIN_CRITICAL_SECTION(" + dict +
              ") ... Py_END_CRITICAL_SECTION() (3.13; a no-op with the GIL) "
              "and take Py_NewRef of any key or value kept past it, or "
              "iterate over PyDict_Copy(" +
              dict + ")";
    ctx_.report(std::move(rep));
  }

  void checkIndexedLoop(const analysis::ApiUse &item,
                        const clang::FunctionDecl *fn) {
    if (item.args.size() < 2 || !item.args[1])
      return;
    const clang::Stmt *loop =
        analysis::iterationLoopOf(item.expr, item.args[1], ctx_.ast());
    if (!loop || !isUnguarded(item, loop, fn) || !reported_.insert(loop).second)
      return;
    const std::string &seq = item.argTexts[0];
    Report rep;
    rep.rule = id();
    rep.location = loop->getBeginLoc();
    rep.function = fn;
    rep.key = "loop(" + seq + ")";
    rep.message = "loop over '" + seq + "' with " + item.api +
                  " and no critical section: another thread can shrink or "
                  "change it, leaving the index past the end or the item "
                  "freed";
    rep.evidence = chainOf(item, fn);
    rep.fix = "wrap the loop in Py_BEGIN_CRITICAL_SECTION(" + seq +
              ") ... Py_END_CRITICAL_SECTION() and Py_NewRef any item kept "
              "past it, or iterate over a copy (PySequence_List / "
              "PySequence_Tuple)";
    ctx_.report(std::move(rep));
  }

  std::set<const clang::Stmt *> reported_;
};

} // namespace

std::unique_ptr<Rule> makeFT003(const RuleContext &ctx) {
  return std::make_unique<UnlockedIterationRule>(ctx);
}

} // namespace ftready::rules
