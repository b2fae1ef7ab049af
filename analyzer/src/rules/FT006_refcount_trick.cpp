// FT006: reference-count and object-layout tricks that are wrong in the
// free-threaded build.
#include "../analysis/expr_text.h"
#include "../analysis/ownership.h"
#include "rule.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/ASTMatchers/ASTMatchers.h>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

const clang::BinaryOperator *comparisonAround(const clang::Expr *e,
                                              clang::ASTContext &ctx) {
  const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(
      analysis::parentStmtIgnoringCasts(e, ctx));
  return bo && bo->isComparisonOp() ? bo : nullptr;
}

// A comparison of a reference count with 1 or 2: "am I the only owner?".
bool comparesWithSmallCount(const clang::BinaryOperator *bo,
                            const clang::Expr *count, clang::ASTContext &ctx) {
  const clang::Expr *other =
      bo->getLHS()->IgnoreParenImpCasts() == count->IgnoreParenImpCasts()
          ? bo->getRHS()
          : bo->getLHS();
  clang::Expr::EvalResult v;
  if (!other->EvaluateAsInt(v, ctx))
    return false;
  auto n = v.Val.getInt().getExtValue();
  return n >= 0 && n <= 2;
}

class RefcountTrickRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT006"; }

  void registerMatchers(MatchFinder &finder) override {
    finder.addMatcher(
        memberExpr(member(hasName("ob_refcnt")),
                   hasAncestor(functionDecl(isDefinition()).bind("fn")))
            .bind("field"),
        this);
    finder.addMatcher(functionDecl(isDefinition()).bind("uses"), this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    if (const auto *field = r.Nodes.getNodeAs<clang::MemberExpr>("field"))
      reportField(field->getMemberLoc(),
                  r.Nodes.getNodeAs<clang::FunctionDecl>("fn"));
    if (const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("uses"))
      for (const auto &use : ctx_.model().apiUsesIn(fn))
        checkUse(use, fn);
  }

  // Without Py_GIL_DISABLED ob_refcnt parses; with it the compiler says the
  // member does not exist. Both are this finding.
  void onEndOfTranslationUnit() override {
    for (const auto &d : ctx_.diagnostics())
      if (d.message.find("no member named 'ob_refcnt'") != std::string::npos)
        reportField(d.location, ctx_.model().functionAt(d.location));
  }

private:
  void reportField(clang::SourceLocation loc, const clang::FunctionDecl *fn) {
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Error;
    rep.location = loc;
    rep.function = fn;
    rep.key = "ob_refcnt";
    rep.message = "reads ob_refcnt directly: the free-threaded build has no "
                  "such field (the count is split into ob_ref_local and "
                  "ob_ref_shared)";
    rep.fix = "use Py_REFCNT(op) for diagnostics only; to test sole "
              "ownership use PyUnstable_Object_IsUniquelyReferenced (3.14), "
              "or drop the shortcut";
    ctx_.report(std::move(rep));
  }

  void checkUse(const analysis::ApiUse &use, const clang::FunctionDecl *fn) {
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Error;
    rep.location = use.expr->getBeginLoc();
    rep.function = fn;
    if (use.api == "Py_SET_REFCNT") {
      rep.key = "Py_SET_REFCNT";
      rep.message = "Py_SET_REFCNT overwrites a count that other threads "
                    "update concurrently in the free-threaded build";
      rep.fix = "drop it: manage references with Py_INCREF/Py_DECREF";
    } else if (use.api == "Py_REFCNT") {
      const auto *cmp = comparisonAround(use.expr, ctx_.ast());
      if (!cmp || !comparesWithSmallCount(cmp, use.expr, ctx_.ast()))
        return;
      // assert(Py_REFCNT(x) == 1): a debug check, not logic that relies on
      // the count.
      if (ctx_.model().isInDebugCheck(use.expr->getBeginLoc()))
        return;
      // An object this call created and never handed out has no other
      // owner to race with: the count it reads is its own.
      if (!use.args.empty() && use.args[0] &&
          analysis::isPrivateContainer(
              use.args[0], fn, ctx_.model().offsetOf(use.expr->getBeginLoc()),
              ctx_.model()))
        return;
      rep.key = "Py_REFCNT-compare";
      rep.message = "'Py_REFCNT(...) " + cmp->getOpcodeStr().str() +
                    " N' assumes it sees every reference: in the "
                    "free-threaded build other threads hold references "
                    "counted in ob_ref_shared and can take one at any time";
      rep.fix = "use PyUnstable_Object_IsUniquelyReferenced (3.14), or drop "
                "the in-place shortcut";
    } else {
      return;
    }
    ctx_.report(std::move(rep));
  }
};

} // namespace

std::unique_ptr<Rule> makeFT006(const RuleContext &ctx) {
  return std::make_unique<RefcountTrickRule>(ctx);
}

} // namespace ftready::rules
