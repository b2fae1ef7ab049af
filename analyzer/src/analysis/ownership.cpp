#include "ownership.h"

#include "expr_text.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>

#include <set>

namespace ftready::analysis {

namespace {

const std::set<std::string> kFreshConstructors = {
    "PyList_New",        "PyDict_New",       "PySet_New",
    "PyFrozenSet_New",   "PyTuple_New",      "PySequence_List",
    "PySequence_Tuple",  "PyDict_Copy",      "PyList_GetSlice",
    "PyList_AsTuple",    "PyDict_Keys",      "PyDict_Values",
    "PyDict_Items",      "PyMapping_Keys",   "PyMapping_Values",
    "PyMapping_Items",   "PyTuple_Pack",     "PyTuple_GetSlice",
    "_PyObject_New",     "_PyObject_GC_New", "PyType_GenericAlloc",
    "PyType_GenericNew",
};

// Calls that use a container as their first argument without storing it.
const std::set<std::string> kContainerOperations = {
    "PyList_Append",
    "PyList_SetItem",
    "PyList_SET_ITEM",
    "PyList_Insert",
    "PyList_GetItem",
    "PyList_GET_ITEM",
    "PyList_GetItemRef",
    "PyList_Size",
    "PyList_GET_SIZE",
    "PyList_Sort",
    "PyList_Reverse",
    "PyList_SetSlice",
    "PyDict_SetItem",
    "PyDict_SetItemString",
    "PyDict_GetItem",
    "PyDict_GetItemWithError",
    "PyDict_GetItemString",
    "PyDict_GetItemRef",
    "PyDict_Next",
    "PyDict_Size",
    "PyDict_Contains",
    "PyDict_DelItem",
    "PyDict_SetDefault",
    "PyTuple_SetItem",
    "PyTuple_SET_ITEM",
    "PyTuple_GET_ITEM",
    "PyTuple_GetItem",
    "PyTuple_Size",
    "PyTuple_GET_SIZE",
    "PySet_Add",
    "PySet_Contains",
    "PySet_Size",
    "Py_SIZE",
    "PySequence_Fast_GET_ITEM",
    "PySequence_Fast_GET_SIZE",
    "PySequence_Fast_ITEMS",
};

// Reference-count operations never publish their argument.
const std::set<std::string> kRefcountOperations = {
    "Py_INCREF",  "Py_XINCREF", "Py_DECREF",
    "Py_XDECREF", "_Py_INCREF", "_Py_DECREF",
    "Py_IncRef",  "Py_DecRef",  "_Py_IsImmortal",
    "Py_REFCNT",  "_Py_REFCNT", "Py_TYPE",
    "_Py_TYPE",   "Py_IS_TYPE", "_Py_IsOwnedByCurrentThread",
};

// Does this use of the variable hand it to somebody who can keep it?
bool publishes(const clang::DeclRefExpr *use, clang::ASTContext &ctx) {
  clang::DynTypedNode parentNode = parentIgnoringCasts(use, ctx);
  const clang::Stmt *parent = parentNode.get<clang::Stmt>();
  if (!parent) {
    const auto *vd = parentNode.get<clang::VarDecl>();
    return vd && !vd->hasLocalStorage(); // static T *x = local;
  }
  if (const auto *call = llvm::dyn_cast<clang::CallExpr>(parent)) {
    const auto *callee = call->getDirectCallee();
    if (!callee)
      return true;
    std::string name = callee->getNameAsString();
    if (kRefcountOperations.count(name))
      return false;
    if (kContainerOperations.count(name) && call->getNumArgs() > 0 &&
        call->getArg(0)->IgnoreParenCasts() == use)
      return false;
    return true;
  }
  if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(parent)) {
    // Stored anywhere, even in another local: an alias we do not follow.
    return bo->isAssignmentOp() && bo->getRHS()->IgnoreParenCasts() == use;
  }
  if (llvm::isa<clang::ReturnStmt>(parent))
    return true;
  if (llvm::isa<clang::InitListExpr>(parent))
    return true;
  return false;
}

class VarUses : public clang::RecursiveASTVisitor<VarUses> {
public:
  explicit VarUses(const clang::VarDecl *vd) : vd_(vd) {}
  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (dre->getDecl() == vd_)
      uses.push_back(dre);
    return true;
  }
  bool VisitBinaryOperator(clang::BinaryOperator *bo) {
    if (bo->getOpcode() == clang::BO_Assign &&
        referencedVar(bo->getLHS()) == vd_)
      assigned.push_back(bo->getRHS());
    return true;
  }
  std::vector<const clang::DeclRefExpr *> uses;
  std::vector<const clang::Expr *> assigned;

private:
  const clang::VarDecl *vd_;
};

bool isFreshValue(const clang::Expr *e, const TuModel &model) {
  clang::ASTContext &ctx = model.context();
  e = e->IgnoreParenCasts();
  if (e->isNullPointerConstant(ctx, clang::Expr::NPC_ValueDependentIsNull))
    return true;
  if (const auto *call = llvm::dyn_cast<clang::CallExpr>(e)) {
    // The module's own tp_new makes a new instance too.
    if (const auto *callee = call->getDirectCallee())
      return isFreshConstructor(callee->getNameAsString()) ||
             model.roleOf(callee) == Role::TypeNew;
    // type->tp_alloc(type, 0): a new instance.
    if (const auto *me = llvm::dyn_cast<clang::MemberExpr>(
            call->getCallee()->IgnoreParenCasts()))
      return me->getMemberDecl()->getNameAsString() == "tp_alloc";
  }
  return false;
}

} // namespace

bool isFreshConstructor(const std::string &callee) {
  return kFreshConstructors.count(callee) != 0;
}

bool isPrivateContainer(const clang::Expr *e, const clang::FunctionDecl *fn,
                        unsigned useOffset, const TuModel &model) {
  const clang::VarDecl *vd = referencedVar(e);
  if (!vd || !fn || !fn->getBody())
    return false;
  if (const auto *p = llvm::dyn_cast<clang::ParmVarDecl>(vd))
    return model.isPrivateParameter(p);
  if (!vd->hasLocalStorage())
    return false;
  clang::ASTContext &ctx = model.context();
  VarUses uses(vd);
  uses.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
  if (vd->hasInit())
    uses.assigned.push_back(vd->getInit());
  if (uses.assigned.empty())
    return false;
  for (const auto *value : uses.assigned)
    if (!isFreshValue(value, model))
      return false;
  for (const auto *use : uses.uses)
    if (model.offsetOf(use->getBeginLoc()) < useOffset && publishes(use, ctx))
      return false;
  return true;
}

} // namespace ftready::analysis
