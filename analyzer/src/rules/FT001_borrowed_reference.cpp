// FT001: a borrowed reference taken from a container other threads can reach,
// then used while the container can change.
#include "../analysis/borrowed_apis.h"
#include "../analysis/borrowed_returns.h"
#include "../analysis/code_effects.h"
#include "../analysis/expr_text.h"
#include "../analysis/ownership.h"
#include "../analysis/paths.h"
#include "rule.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/ASTMatchers/ASTMatchers.h>

#include <map>
#include <memory>
#include <optional>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

// How the borrowed result is used.
struct BorrowedUse {
  bool dereferenced = false; // anything beyond a NULL test
  std::string holder;        // the local that keeps it, if any
  // First call between the fetch and the point the reference is owned
  // (Py_INCREF/Py_NewRef) or last used that can run Python code.
  std::string runsCodeBeforeOwned;
};

// A NULL test: `x != NULL`, `!x`, `if (x)`. Only tests existence.
bool isNullTest(const clang::Stmt *use, const clang::Stmt *parent,
                clang::ASTContext &ctx) {
  if (!parent)
    return false;
  if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(parent)) {
    if (!bo->isEqualityOp())
      return bo->isLogicalOp();
    const clang::Expr *other =
        bo->getLHS()->IgnoreParenCasts() == use ? bo->getRHS() : bo->getLHS();
    return other->isNullPointerConstant(
        ctx, clang::Expr::NPC_ValueDependentIsNotNull);
  }
  if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(parent))
    return uo->getOpcode() == clang::UO_LNot;
  if (const auto *is = llvm::dyn_cast<clang::IfStmt>(parent))
    return is->getCond()->IgnoreParenCasts() == use;
  if (const auto *ws = llvm::dyn_cast<clang::WhileStmt>(parent))
    return ws->getCond()->IgnoreParenCasts() == use;
  return false;
}

class Uses : public clang::RecursiveASTVisitor<Uses> {
public:
  explicit Uses(const clang::VarDecl *vd) : vd_(vd) {}
  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (dre->getDecl() == vd_)
      refs.push_back(dre);
    return true;
  }
  bool VisitCallExpr(clang::CallExpr *c) {
    calls.push_back(c);
    return true;
  }
  std::vector<const clang::DeclRefExpr *> refs;
  std::vector<const clang::CallExpr *> calls;

private:
  const clang::VarDecl *vd_;
};

bool takesOwnership(const clang::Stmt *parent) {
  const auto *call = llvm::dyn_cast_or_null<clang::CallExpr>(parent);
  if (!call || !call->getDirectCallee())
    return false;
  std::string n = call->getDirectCallee()->getNameAsString();
  return n == "Py_INCREF" || n == "Py_XINCREF" || n == "Py_NewRef" ||
         n == "Py_XNewRef" || n == "_Py_NewRef" || n == "_Py_XNewRef";
}

// The local the fetch is stored into: `x = API(...)` or `T *x = API(...)`.
const clang::VarDecl *holderOf(const clang::Expr *call,
                               clang::ASTContext &ctx) {
  clang::DynTypedNode node = clang::DynTypedNode::create(*call);
  for (;;) {
    auto parents = ctx.getParents(node);
    if (parents.empty())
      return nullptr;
    node = parents[0];
    if (const auto *vd = node.get<clang::VarDecl>())
      return vd->hasLocalStorage() ? vd : nullptr;
    const clang::Stmt *p = node.get<clang::Stmt>();
    if (!p)
      return nullptr;
    if (llvm::isa<clang::ImplicitCastExpr>(p) ||
        llvm::isa<clang::ParenExpr>(p) || llvm::isa<clang::CStyleCastExpr>(p))
      continue;
    if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(p))
      if (bo->getOpcode() == clang::BO_Assign) {
        const clang::VarDecl *vd = analysis::referencedVar(bo->getLHS());
        return vd && vd->hasLocalStorage() ? vd : nullptr;
      }
    return nullptr;
  }
}

BorrowedUse analyseUse(const clang::Expr *call, const clang::FunctionDecl *fn,
                       const analysis::TuModel &model) {
  clang::ASTContext &ctx = model.context();
  BorrowedUse use;
  const clang::Stmt *parent = analysis::parentStmtIgnoringCasts(call, ctx);
  const clang::VarDecl *holder = holderOf(call, ctx);
  unsigned fetch = model.offsetOf(call->getBeginLoc());
  if (!holder) {
    use.dereferenced = !isNullTest(call, parent, ctx);
    if (takesOwnership(parent) || !parent)
      return use;
    if (const auto *outer = llvm::dyn_cast<clang::CallExpr>(parent))
      if (analysis::mayRunPythonCode(outer->getDirectCallee()) &&
          outer->getDirectCallee())
        use.runsCodeBeforeOwned = outer->getDirectCallee()->getNameAsString();
    return use;
  }
  use.holder = holder->getNameAsString();
  Uses uses(holder);
  uses.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
  unsigned windowEnd = 0;
  bool owned = false;
  std::vector<const clang::DeclRefExpr *> window; // uses until it is owned
  for (const auto *ref : uses.refs) {
    unsigned at = model.offsetOf(ref->getBeginLoc());
    if (at <= fetch)
      continue;
    const clang::Stmt *p = analysis::parentStmtIgnoringCasts(ref, ctx);
    if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(p))
      if (bo->getOpcode() == clang::BO_Assign &&
          bo->getLHS()->IgnoreParenCasts() == ref)
        break; // reassigned: later uses are another value
    if (isNullTest(ref, p, ctx))
      continue;
    use.dereferenced = true;
    if (!owned) {
      windowEnd = at;
      window.push_back(ref);
    }
    if (takesOwnership(p))
      owned = true;
  }
  // "Used after X" needs a path from the fetch through X to a use: a call
  // on a branch that returns first (the error path) does not count.
  std::unique_ptr<analysis::FunctionPaths> paths;
  auto onAPathToAUse = [&](const clang::CallExpr *c, unsigned end) {
    if (!paths)
      paths = std::make_unique<analysis::FunctionPaths>(fn, ctx);
    if (!paths->canReach(call, c))
      return false;
    for (const auto *ref : window)
      if (model.offsetOf(ref->getBeginLoc()) > end && paths->canReach(c, ref))
        return true;
    return false;
  };
  for (const auto *c : uses.calls) {
    // Calls that end before the last use; the call that uses it is the use.
    unsigned at = model.offsetOf(c->getBeginLoc());
    unsigned end = model.offsetOf(c->getEndLoc());
    if (at > fetch && end < windowEnd && c != call->IgnoreParenCasts() &&
        analysis::mayRunPythonCode(c->getDirectCallee()) &&
        onAPathToAUse(c, end)) {
      use.runsCodeBeforeOwned = c->getDirectCallee()
                                    ? c->getDirectCallee()->getNameAsString()
                                    : "a call through a function pointer";
      break;
    }
  }
  return use;
}

// What a borrowed API without a container argument reads from.
std::string globalStateOf(const std::string &api) {
  if (api.rfind("PySys_", 0) == 0)
    return "sys";
  if (api.rfind("PyImport_", 0) == 0)
    return "sys.modules";
  return "the current frame";
}

// Why a borrowed reference can die under the caller without the GIL.
std::string howItCanVanish(const analysis::BorrowedApi &api,
                           const std::string &container) {
  if (std::string(api.name).rfind("PyWeakref_", 0) == 0)
    return "without the GIL another thread can drop the last strong "
           "reference to the object '" +
           container + "' refers to, and it is freed before it is used";
  if (api.container_arg < 0)
    return "without the GIL another thread can replace the value in " +
           (container == "sys" ? std::string("the sys module") : container) +
           " and free it before it is used";
  return "without the GIL another thread can remove the item from '" +
         container + "' and free it before it is used";
}

std::string fixFor(const analysis::BorrowedApi &api,
                   const std::string &container) {
  std::string fix;
  if (*api.replacement)
    fix = std::string("use ") + api.replacement + " (strong reference" +
          (*api.since ? std::string(", since ") + api.since : "") + ")";
  if (std::string(api.since) == "3.13")
    fix += "; for Python < 3.13 include pythoncapi-compat's "
           "pythoncapi_compat.h";
  if (api.container_arg >= 0)
    fix += std::string(fix.empty() ? "" : "; or ") +
           "hold Py_BEGIN_CRITICAL_SECTION(" + container +
           ") around the fetch and every use, taking Py_NewRef inside it";
  return fix;
}

class BorrowedReferenceRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT001"; }

  void registerMatchers(MatchFinder &finder) override {
    finder.addMatcher(functionDecl(isDefinition()).bind("fn"), this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (ctx_.model().isInitOnly(fn))
      return;
    for (const auto &use : ctx_.model().apiUsesIn(fn))
      if (const auto *api = analysis::findBorrowedApi(use.api))
        if (std::string(api->kind) != "iteration")
          checkUse(use, *api, fn);
    checkHelperCalls(fn);
  }

private:
  const std::optional<analysis::BorrowedReturn> &
  borrowedReturn(const clang::FunctionDecl *callee) {
    auto it = returns_.find(callee->getCanonicalDecl());
    if (it == returns_.end())
      it = returns_
               .emplace(callee->getCanonicalDecl(),
                        analysis::borrowedReturnOf(callee, ctx_.model()))
               .first;
    return it->second;
  }

  // A helper of the file that returns a borrowed reference, called here and
  // its result held across a call that can run Python code: the finding is
  // the caller's, where the reference must be taken (or the helper changed
  // to return a new one).
  void checkHelperCalls(const clang::FunctionDecl *fn) {
    const auto &model = ctx_.model();
    Uses calls(nullptr);
    calls.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
    for (const clang::CallExpr *call : calls.calls) {
      const clang::FunctionDecl *callee = call->getDirectCallee();
      if (!callee || callee->getCanonicalDecl() == fn->getCanonicalDecl())
        continue;
      const auto &ret = borrowedReturn(callee);
      if (!ret || model.isLockedAt(fn, call->getBeginLoc(), ""))
        continue;
      BorrowedUse how = analyseUse(call, fn, model);
      if (how.runsCodeBeforeOwned.empty())
        continue;
      reportHelperCall(*call, fn, *ret, how);
    }
  }

  void reportHelperCall(const clang::CallExpr &call,
                        const clang::FunctionDecl *fn,
                        const analysis::BorrowedReturn &ret,
                        const BorrowedUse &how) {
    const auto &sm = ctx_.ast().getSourceManager();
    std::string helper = ret.helper->getNameAsString();
    std::string fetched =
        std::string(ret.api->name) + "(" + ret.container + ")";
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Error;
    rep.location = call.getBeginLoc();
    rep.function = fn;
    rep.key = "returned by " + helper + ": " + fetched;
    rep.message = "borrowed reference returned by " + helper + "() (" +
                  fetched + ")" +
                  (how.holder.empty() ? "" : " kept in '" + how.holder + "'") +
                  " is used after " + how.runsCodeBeforeOwned +
                  "(), which can run Python code that mutates '" +
                  ret.container + "' and frees the item";
    rep.evidence = {helper + " returns " + fetched +
                        " without a reference of its own (line " +
                        std::to_string(sm.getExpansionLineNumber(ret.fetch)) +
                        ")",
                    "call that can run code: " + how.runsCodeBeforeOwned};
    rep.fix =
        "take the reference at the call: Py_NewRef(" + helper +
        "(...)), released after the last use; or make " + helper +
        " return a new reference" +
        (*ret.api->replacement ? std::string(" (") + ret.api->replacement + ")"
                               : std::string());
    ctx_.report(std::move(rep));
  }

  void checkUse(const analysis::ApiUse &use, const analysis::BorrowedApi &api,
                const clang::FunctionDecl *fn) {
    const auto &model = ctx_.model();
    const clang::Expr *fetch = use.expr;
    std::string container = globalStateOf(use.api);
    unsigned at = model.offsetOf(fetch->getBeginLoc());
    if (api.container_arg >= 0) {
      auto idx = static_cast<size_t>(api.container_arg);
      if (idx >= use.argTexts.size())
        return;
      container = use.argTexts[idx];
      if (use.args[idx] &&
          analysis::isPrivateContainer(use.args[idx], fn, at, model))
        return;
      // An indexed loop over the container is FT003's finding.
      if (use.args.size() > 1 && use.args[1] &&
          analysis::iterationLoopOf(fetch, use.args[1], ctx_.ast()))
        return;
    }
    if (model.isLockedAt(fn, fetch->getBeginLoc(),
                         api.container_arg >= 0 ? container : ""))
      return;
    BorrowedUse how = analyseUse(fetch, fn, model);
    if (!how.dereferenced)
      return; // an existence test
    Report rep;
    rep.rule = id();
    rep.location = fetch->getBeginLoc();
    rep.function = fn;
    rep.key = use.api + "(" + container + ")";
    std::string what =
        "borrowed reference from " + use.api + "(" + container + ")" +
        (how.holder.empty() ? "" : " kept in '" + how.holder + "'");
    if (!how.runsCodeBeforeOwned.empty()) {
      rep.severity = Severity::Error;
      rep.message = what + " is used after " + how.runsCodeBeforeOwned +
                    "(), which can run Python code that mutates '" + container +
                    "' and frees the item";
      rep.evidence.push_back("call that can run code: " +
                             how.runsCodeBeforeOwned);
    } else {
      rep.severity = Severity::Warning;
      rep.message = what + ": " + howItCanVanish(api, container);
    }
    rep.fix = fixFor(api, container);
    ctx_.report(std::move(rep));
  }

  std::map<const clang::FunctionDecl *, std::optional<analysis::BorrowedReturn>>
      returns_;
};

} // namespace

std::unique_ptr<Rule> makeFT001(const RuleContext &ctx) {
  return std::make_unique<BorrowedReferenceRule>(ctx);
}

} // namespace ftready::rules
