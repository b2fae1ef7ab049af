#include "code_effects.h"

#include "expr_text.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>

#include <set>
#include <vector>

namespace ftready::analysis {

namespace {

// Calls that cannot run Python code, each checked against its definition in
// CPython 3.13. Not counted anywhere: a collection the allocator may start
// (finalizers then run), which any allocation can trigger.
// PyErr_Set*: the new exception is an instance of a C type or of a class
// made by PyErr_NewException (BaseException.__init__, no Python code).
const std::set<std::string> kNoPythonCode = {
    "Py_INCREF",
    "Py_XINCREF",
    "Py_NewRef",
    "Py_XNewRef",
    "_Py_NewRef",
    "_Py_XNewRef",
    "Py_IncRef",
    "Py_TYPE",
    "_Py_TYPE",
    "Py_IS_TYPE",
    "Py_SIZE",
    "Py_REFCNT",
    "PyErr_Occurred",
    "PyErr_SetString",
    "PyErr_SetNone",
    "PyErr_NoMemory",
    "PyType_HasFeature",
    "PyType_IsSubtype",
    "PyObject_TypeCheck",
    "PyList_Size",
    "PyList_GET_SIZE",
    "PyDict_Size",
    "PyDict_GET_SIZE",
    "PyTuple_Size",
    "PyTuple_GET_SIZE",
    "PyTuple_GET_ITEM",
    "PyTuple_GetItem",
    "PyList_GET_ITEM",
    "PyList_GetItem",
    "PyList_GetItemRef",
    "PyLong_FromLong",
    "PyLong_FromSsize_t",
    "PyBool_FromLong",
    "PyObject_Malloc",
    "PyObject_Free",
    "PyMem_Malloc",
    "PyMem_Free",
    "PyMem_Realloc",
    "PyMem_RawMalloc",
    "PyMem_RawFree",
    "PyCriticalSection_Begin",
    "PyCriticalSection_End",
    "PyCriticalSection2_Begin",
    "PyCriticalSection2_End",
    "_PyMutex_Lock",
    "_PyMutex_Unlock",
    "PyMutex_Lock",
    "PyMutex_Unlock",
    // Accessors: static inline functions of CPython's headers that read a
    // field or a pointer and call nothing (3.13 cpython/*.h).
    "PyBytes_AS_STRING",
    "PyBytes_GET_SIZE",
    "PyByteArray_AS_STRING",
    "PyByteArray_GET_SIZE",
    "PyUnicode_GET_LENGTH",
    "PyUnicode_DATA",
    "PyUnicode_KIND",
    "PyUnicode_READ",
    "PyUnicode_READ_CHAR",
    "PyUnicode_IS_ASCII",
    "PyUnicode_IS_COMPACT",
    "PyFloat_AS_DOUBLE",
    "PyList_SET_ITEM",
    "PyTuple_SET_ITEM",
    "PySequence_Fast_GET_SIZE",
    "PySequence_Fast_GET_ITEM",
    "PySequence_Fast_ITEMS",
    "Py_Is",
    "Py_IsNone",
    "Py_IsTrue",
    "Py_IsFalse",
    "PyCapsule_GetPointer",
    "PyModule_GetState",
    "PyType_GetModuleState",
    "PyObject_GC_Track",
    "PyObject_GC_UnTrack",
};

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class RefersTo : public clang::RecursiveASTVisitor<RefersTo> {
public:
  explicit RefersTo(const clang::VarDecl *vd) : vd_(vd) {}
  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (dre->getDecl() == vd_)
      found = true;
    return !found;
  }
  bool found = false;

private:
  const clang::VarDecl *vd_;
};

const clang::Expr *loopCondition(const clang::Stmt *loop) {
  if (const auto *f = llvm::dyn_cast<clang::ForStmt>(loop))
    return f->getCond();
  if (const auto *w = llvm::dyn_cast<clang::WhileStmt>(loop))
    return w->getCond();
  if (const auto *d = llvm::dyn_cast<clang::DoStmt>(loop))
    return d->getCond();
  return nullptr;
}

class VarRefs : public clang::RecursiveASTVisitor<VarRefs> {
public:
  explicit VarRefs(const clang::VarDecl *p) : p_(p) {}
  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (dre->getDecl() == p_)
      uses.push_back(dre);
    return true;
  }
  std::vector<const clang::DeclRefExpr *> uses;

private:
  const clang::VarDecl *p_;
};

const clang::Stmt *parentOf(const clang::Stmt *s, clang::ASTContext &ctx) {
  auto parents = ctx.getParents(*s);
  return parents.empty() ? nullptr : parents[0].get<clang::Stmt>();
}

bool isTransparent(const clang::Stmt *s) {
  return llvm::isa<clang::ParenExpr>(s) ||
         llvm::isa<clang::ImplicitCastExpr>(s) ||
         llvm::isa<clang::CStyleCastExpr>(s);
}

bool writesThroughCopy(const clang::VarDecl *copy, int depth);

// Is what `cur` designates (a pointer, or memory reached through it)
// written by what surrounds it? `through`: `cur` is already memory the
// pointer reaches (p->x, *p, p[i]), not the pointer itself. Where the
// pointer goes somewhere not followed, it is taken as written.
bool writtenBy(const clang::Stmt *cur, bool through, clang::ASTContext &ctx,
               int depth) {
  auto same = [](const clang::Expr *e, const clang::Stmt *s) {
    return e && e->IgnoreParenCasts() ==
                    llvm::cast<clang::Expr>(s)->IgnoreParenCasts();
  };
  for (const clang::Stmt *p = parentOf(cur, ctx); p;
       cur = p, p = parentOf(p, ctx)) {
    if (const auto *ic = llvm::dyn_cast<clang::ImplicitCastExpr>(p)) {
      if (ic->getCastKind() == clang::CK_ArrayToPointerDecay)
        through = false; // list->items: a pointer into the memory again
      continue;
    }
    if (isTransparent(p))
      continue;
    if (const auto *me = llvm::dyn_cast<clang::MemberExpr>(p)) {
      if (me->isArrow() || through) {
        through = true;
        continue; // p->x, p->x.y
      }
      return false;
    }
    if (const auto *as = llvm::dyn_cast<clang::ArraySubscriptExpr>(p)) {
      if (!same(as->getBase(), cur))
        return false; // used as an index
      through = true;
      continue;
    }
    if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(p)) {
      switch (uo->getOpcode()) {
      case clang::UO_Deref:
        through = true;
        continue;
      case clang::UO_AddrOf:
        through = false; // &p->x: a pointer again
        continue;
      case clang::UO_LNot:
        return false;
      default:
        return uo->isIncrementDecrementOp() ? through : !through;
      }
    }
    if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(p)) {
      if (bo->isAssignmentOp() && same(bo->getLHS(), cur))
        return through;
      if (bo->isComparisonOp() || bo->isLogicalOp() || through)
        return false; // a test, or a value read from the memory
      if (bo->isAdditiveOp())
        continue; // p + i: the same memory
      if (bo->getOpcode() == clang::BO_Assign)
        // Copied (q = p): writes through the copy are writes through p.
        return writesThroughCopy(referencedVar(bo->getLHS()), depth);
      return true;
    }
    if (const auto *co = llvm::dyn_cast<clang::ConditionalOperator>(p)) {
      if (same(co->getCond(), cur))
        return false;
      continue; // c ? p : q is p
    }
    if (const auto *mc = llvm::dyn_cast<clang::CXXMemberCallExpr>(p))
      if (same(mc->getImplicitObjectArgument(), cur)) {
        const auto *m = mc->getMethodDecl();
        return !m || !m->isConst(); // p->vec.push_back(x)
      }
    if (const auto *oc = llvm::dyn_cast<clang::CXXOperatorCallExpr>(p))
      if (oc->getNumArgs() > 0 && same(oc->getArg(0), cur)) {
        const auto *m =
            llvm::dyn_cast_or_null<clang::CXXMethodDecl>(oc->getDirectCallee());
        return !m || !m->isConst(); // p->map[k] = v, p->s = "x"
      }
    if (const auto *call = llvm::dyn_cast<clang::CallExpr>(p)) {
      if (through)
        return false; // a value read from the memory, passed on
      for (unsigned i = 0; i < call->getNumArgs(); ++i)
        if (same(call->getArg(i), cur))
          return writesThroughParameter(call->getDirectCallee(), i, depth + 1);
      return false; // the callee expression
    }
    if (llvm::isa<clang::IfStmt>(p) || llvm::isa<clang::WhileStmt>(p) ||
        llvm::isa<clang::DoStmt>(p) || llvm::isa<clang::ForStmt>(p) ||
        llvm::isa<clang::UnaryExprOrTypeTraitExpr>(p) ||
        llvm::isa<clang::CompoundStmt>(p))
      return false;  // a condition, sizeof, or an expression statement
    return !through; // handed on (return, an initialiser list...): not followed
  }
  auto parents = ctx.getParents(*cur);
  const auto *var =
      parents.empty() ? nullptr : parents[0].get<clang::VarDecl>();
  if (through)
    // T &r = p->x binds a reference that may write it.
    return var && var->getType()->isReferenceType() &&
           !var->getType().getNonReferenceType().isConstQualified();
  // A variable's initialiser (T *q = p), or handed on where we cannot see.
  return writesThroughCopy(var, depth);
}

// A local copy of the pointer: followed, a few copies deep. Anything else
// (a global, a field) keeps it where we cannot see: a write.
bool writesThroughCopy(const clang::VarDecl *copy, int depth) {
  const auto *fn = copy && copy->hasLocalStorage()
                       ? llvm::dyn_cast_or_null<clang::FunctionDecl>(
                             copy->getParentFunctionOrMethod())
                       : nullptr;
  if (!fn || !fn->getBody() || depth > 4)
    return true;
  return writesThroughVariable(copy, fn->getBody(), depth + 1);
}

} // namespace

bool writesThroughVariable(const clang::VarDecl *var, const clang::Stmt *body,
                           int depth) {
  VarRefs uses(var);
  uses.TraverseStmt(const_cast<clang::Stmt *>(body));
  clang::ASTContext &ctx = var->getASTContext();
  for (const auto *use : uses.uses)
    if (writtenBy(use, false, ctx, depth))
      return true;
  return false;
}

bool writesThroughParameter(const clang::FunctionDecl *fn, unsigned index,
                            int depth) {
  if (!fn)
    return true; // through a function pointer: unknown
  const clang::FunctionDecl *def = fn->getDefinition();
  if (!def || !def->getBody() || depth > 4) {
    if (index >= fn->getNumParams())
      return true; // variadic
    clang::QualType t = fn->getParamDecl(index)->getType();
    return !t->isPointerType() || !t->getPointeeType().isConstQualified();
  }
  if (index >= def->getNumParams())
    return true;
  return writesThroughVariable(def->getParamDecl(index), def->getBody(), depth);
}

bool writesThroughLocal(const clang::VarDecl *var) {
  const auto *fn = var ? llvm::dyn_cast_or_null<clang::FunctionDecl>(
                             var->getParentFunctionOrMethod())
                       : nullptr;
  if (!fn || !fn->getBody() || !var->getType()->isPointerType())
    return true;
  return writesThroughVariable(var, fn->getBody(), 0);
}

bool mayRunPythonCode(const clang::FunctionDecl *callee) {
  if (!callee)
    return true; // a call through a pointer: a callback
  // Compiler builtins (__builtin_expect behind likely()/unlikely(),
  // __builtin_memcpy...) are no calls into Python.
  if (callee->getBuiltinID() != 0)
    return false;
  std::string name = callee->getNameAsString();
  if (kNoPythonCode.count(name))
    return false;
  if (endsWith(name, "_Check") || endsWith(name, "_CheckExact"))
    return false;
  const auto &sm = callee->getASTContext().getSourceManager();
  bool pythonApi = name.rfind("Py", 0) == 0 || name.rfind("_Py", 0) == 0;
  // The C library and other system code do not call back into Python.
  if (!pythonApi && sm.isInSystemHeader(callee->getLocation()))
    return false;
  return true;
}

const clang::Stmt *enclosingLoop(const clang::Stmt *s, clang::ASTContext &ctx) {
  clang::DynTypedNode node = clang::DynTypedNode::create(*s);
  for (;;) {
    auto parents = ctx.getParents(node);
    if (parents.empty())
      return nullptr;
    node = parents[0];
    const clang::Stmt *p = node.get<clang::Stmt>();
    if (!p) {
      if (node.get<clang::FunctionDecl>())
        return nullptr;
      continue;
    }
    if (llvm::isa<clang::ForStmt>(p) || llvm::isa<clang::WhileStmt>(p) ||
        llvm::isa<clang::DoStmt>(p))
      return p;
  }
}

const clang::Stmt *iterationLoopOf(const clang::Stmt *access,
                                   const clang::Expr *indexExpr,
                                   clang::ASTContext &ctx) {
  const clang::VarDecl *index = referencedVar(indexExpr);
  if (!index)
    return nullptr;
  for (const clang::Stmt *loop = enclosingLoop(access, ctx); loop;
       loop = enclosingLoop(loop, ctx)) {
    if (const clang::Expr *cond = loopCondition(loop)) {
      RefersTo refers(index);
      refers.TraverseStmt(const_cast<clang::Expr *>(cond));
      if (refers.found)
        return loop;
    }
  }
  return nullptr;
}

} // namespace ftready::analysis
