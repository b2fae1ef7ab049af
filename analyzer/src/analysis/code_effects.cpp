#include "code_effects.h"

#include "expr_text.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>

#include <set>

namespace ftready::analysis {

namespace {

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

} // namespace

bool mayRunPythonCode(const clang::FunctionDecl *callee) {
  if (!callee)
    return true; // a call through a pointer: a callback
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
