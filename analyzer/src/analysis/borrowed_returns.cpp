#include "borrowed_returns.h"

#include "expr_text.h"
#include "ownership.h"

#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/Stmt.h>

namespace ftready::analysis {

namespace {

// The locals `fn` returns as they are: `return x;`.
std::set<const clang::VarDecl *> returnedLocals(const clang::FunctionDecl *fn) {
  struct Returns : clang::RecursiveASTVisitor<Returns> {
    std::set<const clang::VarDecl *> vars;
    bool VisitReturnStmt(clang::ReturnStmt *r) {
      if (const clang::VarDecl *vd = referencedVar(r->getRetValue()))
        if (vd->hasLocalStorage())
          vars.insert(vd);
      return true;
    }
  } returns;
  returns.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
  return returns.vars;
}

// Is the fetch `e` returned: `return API(...)`, or stored into a local
// (`T *x = API(...)`, `x = API(...)`) that some `return x;` gives back?
bool isReturned(const clang::Expr *e,
                const std::set<const clang::VarDecl *> &returned,
                clang::ASTContext &ctx) {
  clang::DynTypedNode parent = parentIgnoringCasts(e, ctx);
  if (parent.get<clang::ReturnStmt>())
    return true;
  if (const auto *vd = parent.get<clang::VarDecl>())
    return returned.count(vd) > 0;
  if (const auto *bo = parent.get<clang::BinaryOperator>())
    if (bo->getOpcode() == clang::BO_Assign)
      if (const clang::VarDecl *vd = referencedVar(bo->getLHS()))
        return returned.count(vd) > 0;
  return false;
}

} // namespace

std::optional<BorrowedReturn> borrowedReturnOf(const clang::FunctionDecl *fn,
                                               const TuModel &model) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  if (!def || !def->getBody() || !def->getReturnType()->isPointerType())
    return std::nullopt;
  clang::ASTContext &ctx = model.context();
  std::set<const clang::VarDecl *> returned = returnedLocals(def);
  for (const auto &use : model.apiUsesIn(def)) {
    const BorrowedApi *api = findBorrowedApi(use.api);
    if (!api || std::string(api->kind) == "iteration" || api->container_arg < 0)
      continue;
    auto idx = static_cast<size_t>(api->container_arg);
    if (idx >= use.argTexts.size() || !isReturned(use.expr, returned, ctx))
      continue;
    unsigned at = model.offsetOf(use.expr->getBeginLoc());
    if ((use.args[idx] && isPrivateContainer(use.args[idx], def, at, model)) ||
        model.isLockedAt(def, use.expr->getBeginLoc(), use.argTexts[idx]))
      continue;
    return BorrowedReturn{def, api, use.argTexts[idx], use.expr->getBeginLoc()};
  }
  return std::nullopt;
}

} // namespace ftready::analysis
