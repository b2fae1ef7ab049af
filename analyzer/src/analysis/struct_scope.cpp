#include "struct_scope.h"

#include "expr_text.h"

#include <clang/AST/RecursiveASTVisitor.h>

#include <algorithm>

namespace ftready::analysis {

namespace {

bool isPointerToStruct(clang::QualType t) {
  return t->isPointerType() && t->getPointeeType()->isStructureType();
}

// The struct a struct or struct pointer type names, canonical.
const clang::RecordDecl *structOf(clang::QualType t) {
  if (t->isPointerType())
    t = t->getPointeeType();
  const clang::RecordDecl *rd = t->getAsRecordDecl();
  return rd ? llvm::cast<clang::RecordDecl>(rd->getCanonicalDecl()) : nullptr;
}

const clang::FunctionDecl *ownerOf(const clang::VarDecl *vd) {
  return llvm::dyn_cast_or_null<clang::FunctionDecl>(
      vd->getParentFunctionOrMethod());
}

// The local structs of a function body (not its parameters, not statics).
class LocalStructs : public clang::RecursiveASTVisitor<LocalStructs> {
public:
  bool VisitVarDecl(clang::VarDecl *vd) {
    if (!llvm::isa<clang::ParmVarDecl>(vd) && vd->hasLocalStorage() &&
        vd->getType()->isStructureType())
      out.push_back(vd);
    return true;
  }
  std::vector<const clang::VarDecl *> out;
};

// Is every position `call` passes `arg` in a struct pointer parameter that
// stays in its call?
bool argumentStays(const clang::CallExpr *call, const clang::Expr *arg,
                   const StructScope &scope) {
  const clang::FunctionDecl *callee = call->getDirectCallee();
  const clang::FunctionDecl *def = callee ? callee->getDefinition() : nullptr;
  if (!def)
    return false;
  for (unsigned i = 0; i < call->getNumArgs(); ++i)
    if (call->getArg(i)->IgnoreParenCasts() == arg &&
        (i >= def->getNumParams() ||
         !scope.pointersKept.count(def->getParamDecl(i))))
      return false;
  return true;
}

// &s handed to memset, or to parameters that stay in their call.
bool addressStays(const clang::UnaryOperator *addr, const StructScope &scope,
                  clang::ASTContext &ctx) {
  const auto *call = llvm::dyn_cast_or_null<clang::CallExpr>(
      parentStmtIgnoringCasts(addr, ctx));
  if (!call || !call->getDirectCallee())
    return false;
  if (call->getDirectCallee()->getNameAsString() == "memset")
    return true;
  return argumentStays(call, addr, scope);
}

// Does this use of a struct's value (a local's name, or *p) leave the
// struct where it is: a field reached, its size taken, written over, copied
// into a local that stays, its address handed to a parameter that stays?
bool valueUseStays(const clang::Expr *value, const StructScope &scope,
                   clang::ASTContext &ctx) {
  clang::DynTypedNode node = parentIgnoringCasts(value, ctx);
  if (const auto *vd = node.get<clang::VarDecl>())
    return scope.localsKept.count(vd) != 0; // T sub = *args;
  const clang::Stmt *parent = node.get<clang::Stmt>();
  if (const auto *me = llvm::dyn_cast_or_null<clang::MemberExpr>(parent))
    return !me->isArrow() && !fieldAddressTaken(me, ctx);
  if (llvm::isa_and_nonnull<clang::UnaryExprOrTypeTraitExpr>(parent))
    return true; // sizeof s
  if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(parent);
      bo && bo->getOpcode() == clang::BO_Assign) {
    // A local written over as a whole: startsPrivate() asks what it then
    // holds. Not *p = x, which nothing follows.
    if (bo->getLHS()->IgnoreParenCasts() == value)
      return llvm::isa<clang::DeclRefExpr>(value);
    const clang::VarDecl *to = referencedVar(bo->getLHS());
    return to && scope.localsKept.count(to) != 0; // sub = *args
  }
  if (const auto *addr = llvm::dyn_cast_or_null<clang::UnaryOperator>(parent);
      addr && addr->getOpcode() == clang::UO_AddrOf)
    return addressStays(addr, scope, ctx);
  return false;
}

// Does this use of a struct pointer parameter use what it points to in
// place?
bool pointerUseStays(const clang::DeclRefExpr *use, const StructScope &scope,
                     clang::ASTContext &ctx) {
  const clang::Stmt *parent = parentStmtIgnoringCasts(use, ctx);
  if (const auto *me = llvm::dyn_cast_or_null<clang::MemberExpr>(parent))
    return me->isArrow() && !fieldAddressTaken(me, ctx);
  if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(parent))
    return bo->isEqualityOp();
  if (const auto *uo = llvm::dyn_cast_or_null<clang::UnaryOperator>(parent)) {
    if (uo->getOpcode() == clang::UO_LNot)
      return true;
    return uo->getOpcode() == clang::UO_Deref && valueUseStays(uo, scope, ctx);
  }
  if (const auto *call = llvm::dyn_cast_or_null<clang::CallExpr>(parent))
    return call->getCallee()->IgnoreParenCasts() != use &&
           argumentStays(call, use, scope);
  return false;
}

// Drops from `set` every member `stays` says no to, until none is dropped.
// Returns whether it dropped any.
template <typename T, typename Pred>
bool dropUntilStable(std::set<const T *> &set, Pred stays) {
  bool droppedAny = false;
  for (bool dropped = true; dropped;) {
    dropped = false;
    for (auto it = set.begin(); it != set.end();) {
      if (stays(*it)) {
        ++it;
        continue;
      }
      it = set.erase(it);
      dropped = droppedAny = true;
    }
  }
  return droppedAny;
}

void collectCandidates(StructScope &scope, const TuModel &model) {
  for (const clang::FunctionDecl *fn : model.functions()) {
    for (const clang::ParmVarDecl *p : fn->parameters())
      if (isPointerToStruct(p->getType()) &&
          model.usesOf(p, fn).assigned.empty())
        scope.pointersKept.insert(p);
    LocalStructs locals;
    locals.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
    scope.localsKept.insert(locals.out.begin(), locals.out.end());
    if (!isInternalHelper(fn, model) || model.callsOf(fn).empty())
      continue;
    for (const clang::ParmVarDecl *p : fn->parameters())
      if (isPointerToStruct(p->getType()))
        scope.privateParams.insert(p);
  }
}

// Does every call of the helper hand `p` a struct that stays in its caller,
// of `p`'s own struct type (not one cast to it, whose fields are other
// fields)?
bool alwaysGivenPrivateStruct(const clang::ParmVarDecl *p,
                              const StructScope &scope, const TuModel &model) {
  const clang::FunctionDecl *fn = ownerOf(p);
  const clang::RecordDecl *type = structOf(p->getType());
  unsigned index = p->getFunctionScopeIndex();
  for (const CallSite *site : model.callsOf(fn)) {
    if (!site->caller || !site->caller->getDefinition() ||
        index >= site->argExprs.size())
      return false;
    const clang::Expr *arg = site->argExprs[index]->IgnoreParenCasts();
    if (const auto *addr = llvm::dyn_cast<clang::UnaryOperator>(arg);
        addr && addr->getOpcode() == clang::UO_AddrOf) {
      const clang::VarDecl *local = referencedVar(addr->getSubExpr());
      if (!local || !scope.localsKept.count(local) ||
          structOf(local->getType()) != type)
        return false;
      continue;
    }
    const auto *forwarded =
        llvm::dyn_cast_or_null<clang::ParmVarDecl>(referencedVar(arg));
    if (!forwarded || !scope.privateParams.count(forwarded) ||
        structOf(forwarded->getType()) != type)
      return false;
  }
  return true;
}

const StructScope &scopeOf(const TuModel &model) {
  StructScope &scope = model.structScope();
  if (scope.computed)
    return scope;
  scope.computed = true;
  collectCandidates(scope, model);
  clang::ASTContext &ctx = model.context();
  // Pointers and locals depend on each other (a copy into a local, an
  // address into a parameter): drop from both until neither changes.
  for (bool changed = true; changed;) {
    changed =
        dropUntilStable(scope.pointersKept, [&](const clang::ParmVarDecl *p) {
          for (const auto *use : model.usesOf(p, ownerOf(p)).uses)
            if (!pointerUseStays(use, scope, ctx))
              return false;
          return true;
        });
    changed |= dropUntilStable(scope.localsKept, [&](const clang::VarDecl *v) {
      for (const auto *use : model.usesOf(v, ownerOf(v)).uses)
        if (!valueUseStays(use, scope, ctx))
          return false;
      return true;
    });
  }
  dropUntilStable(scope.privateParams, [&](const clang::ParmVarDecl *p) {
    return alwaysGivenPrivateStruct(p, scope, model);
  });
  return scope;
}

} // namespace

bool fieldAddressTaken(const clang::MemberExpr *member,
                       clang::ASTContext &ctx) {
  const auto *addr = llvm::dyn_cast_or_null<clang::UnaryOperator>(
      parentStmtIgnoringCasts(member, ctx));
  return addr && addr->getOpcode() == clang::UO_AddrOf &&
         !insideMacro(addr->getBeginLoc(), "Py_CLEAR", ctx);
}

bool isInternalHelper(const clang::FunctionDecl *def, const TuModel &model) {
  return def && !def->isExternallyVisible() &&
         model.roleOf(def) == Role::None && !model.isAddressTaken(def);
}

bool pointerStaysInCall(const clang::FunctionDecl *fn, unsigned index,
                        const TuModel &model) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  return def && index < def->getNumParams() &&
         scopeOf(model).pointersKept.count(def->getParamDecl(index)) != 0;
}

bool localStructStaysInCall(const clang::VarDecl *var, const TuModel &model) {
  return var && scopeOf(model).localsKept.count(var) != 0;
}

bool parameterIsPrivateStruct(const clang::ParmVarDecl *param,
                              const TuModel &model) {
  return param && scopeOf(model).privateParams.count(param) != 0;
}

std::vector<const clang::VarDecl *>
stayingLocalsOf(const clang::RecordDecl *record, const TuModel &model) {
  std::vector<const clang::VarDecl *> out;
  if (!record)
    return out;
  for (const clang::VarDecl *v : scopeOf(model).localsKept) {
    const clang::RecordDecl *of = v->getType()->getAsRecordDecl();
    if (of && of->getCanonicalDecl() == record->getCanonicalDecl())
      out.push_back(v);
  }
  return out;
}

bool isPrivateStructValue(const clang::Expr *value, const TuModel &model) {
  value = value->IgnoreParenCasts();
  if (const auto *deref = llvm::dyn_cast<clang::UnaryOperator>(value);
      deref && deref->getOpcode() == clang::UO_Deref)
    return parameterIsPrivateStruct(llvm::dyn_cast_or_null<clang::ParmVarDecl>(
                                        referencedVar(deref->getSubExpr())),
                                    model);
  const clang::VarDecl *local = referencedVar(value);
  return local && !llvm::isa<clang::ParmVarDecl>(local) &&
         localStructStaysInCall(local, model);
}

} // namespace ftready::analysis
