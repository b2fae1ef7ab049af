#include "field_values.h"

#include "expr_text.h"

#include <clang/Basic/SourceManager.h>

#include <optional>

namespace ftready::analysis {

namespace {

// The value `access` stores when it is a plain `field = constant`; nothing
// when it is a read; false in `ok` for any other write.
std::optional<llvm::APSInt> storedConstant(const clang::MemberExpr *access,
                                           clang::ASTContext &ctx, bool &ok) {
  const clang::Stmt *parent = parentStmtIgnoringCasts(access, ctx);
  if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(parent);
      bo && bo->isAssignmentOp() &&
      bo->getLHS()->IgnoreParenCasts() == access) {
    std::optional<llvm::APSInt> value;
    if (bo->getOpcode() == clang::BO_Assign)
      value = bo->getRHS()->getIntegerConstantExpr(ctx);
    ok = value.has_value();
    return value;
  }
  if (const auto *uo = llvm::dyn_cast_or_null<clang::UnaryOperator>(parent))
    ok = uo->getOpcode() != clang::UO_AddrOf && !uo->isIncrementDecrementOp();
  return std::nullopt;
}

} // namespace

bool storesOnlyOneConstant(const clang::FieldDecl *field,
                           const TuModel &model) {
  clang::ASTContext &ctx = model.context();
  const clang::RecordDecl *record = field->getParent();
  if (!field->getType()->isIntegralOrEnumerationType() || !record ||
      !ctx.getSourceManager().isInMainFile(
          ctx.getSourceManager().getExpansionLoc(record->getLocation())))
    return false;
  std::optional<llvm::APSInt> seen;
  for (const clang::MemberExpr *access : model.accessesOf(field)) {
    bool ok = true;
    std::optional<llvm::APSInt> value = storedConstant(access, ctx, ok);
    if (!ok)
      return false;
    if (!value)
      continue;
    if (seen && llvm::APSInt::compareValues(*seen, *value) != 0)
      return false;
    seen = value;
  }
  return seen.has_value();
}

} // namespace ftready::analysis
