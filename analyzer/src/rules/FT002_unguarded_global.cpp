// FT002: mutable static/global C state written outside module initialisation
// without a lock, atomic or thread-local.
#include "../analysis/expr_text.h"
#include "rule.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/ASTMatchers/ASTMatchers.h>

#include <set>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

bool isAtomicType(clang::QualType t) {
  t = t.getCanonicalType();
  if (t->isAtomicType())
    return true;
  if (const auto *rd = t->getAsCXXRecordDecl())
    return rd->getNameAsString() == "atomic" ||
           rd->getNameAsString() == "atomic_flag";
  return false;
}

// Calls that take a variable's address to operate on it atomically or once.
bool isAtomicOrOnceCall(const std::string &name) {
  for (const char *prefix : {"_Py_atomic_", "atomic_", "__atomic_", "__sync_",
                             "__c11_atomic_", "Interlocked", "pthread_once",
                             "call_once", "PyThread_tss_", "PyThread_"})
    if (name.rfind(prefix, 0) == 0)
      return true;
  return false;
}

bool isExemptVariable(const clang::VarDecl *vd) {
  clang::QualType t = vd->getType();
  if (t.isConstQualified() || vd->getTLSKind() != clang::VarDecl::TLS_None ||
      isAtomicType(t))
    return true;
  if (const auto *at = t->getAsArrayTypeUnsafe())
    if (at->getElementType().isConstQualified() ||
        isAtomicType(at->getElementType()))
      return true;
  const auto &sm = vd->getASTContext().getSourceManager();
  return sm.isInSystemHeader(vd->getLocation());
}

const char *kindOfWrite(const clang::Stmt *write) {
  if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(write))
    if (uo->isIncrementDecrementOp())
      return "counter";
  if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(write))
    if (bo->isCompoundAssignmentOp())
      return "counter";
  if (llvm::isa<clang::CallExpr>(write))
    return "buffer";
  return "value";
}

std::string fixFor(const std::string &kind, const std::string &var,
                   bool pyObjectPointer) {
  if (pyObjectPointer)
    return "create '" + var +
           "' once in Py_mod_exec/PyInit_* and keep it in module state, or "
           "guard its lazy creation with a static PyMutex (3.13)";
  if (kind == "counter")
    return "make '" + var +
           "' _Atomic and update it with atomic_fetch_add (C11 "
           "<stdatomic.h>), or guard it with a static PyMutex (3.13)";
  if (kind == "buffer")
    return "use a local buffer or declare '" + var +
           "' _Thread_local (C11) / thread_local (C++)";
  return "write '" + var +
         "' only in Py_mod_exec/PyInit_*, or guard every access with a "
         "static PyMutex (3.13), or make it _Atomic / _Thread_local";
}

auto globalVar() {
  return varDecl(hasGlobalStorage(), unless(parmVarDecl())).bind("var");
}

auto refToGlobal() {
  return anyOf(declRefExpr(to(globalVar())),
               memberExpr(hasObjectExpression(
                   ignoringParenImpCasts(declRefExpr(to(globalVar()))))),
               arraySubscriptExpr(hasBase(
                   ignoringParenImpCasts(declRefExpr(to(globalVar()))))));
}

// Does `call` write the global through the pointer `arg` it is given?
bool writesThrough(const clang::CallExpr *call, const clang::Expr *arg,
                   const clang::VarDecl *var) {
  const auto *callee = call->getDirectCallee();
  if (!callee || !arg || isAtomicOrOnceCall(callee->getNameAsString()))
    return false;
  clang::QualType t = var->getType();
  bool isArray = t->isArrayType();
  bool addressOf = llvm::isa<clang::UnaryOperator>(arg);
  // Only &scalar and byte buffers: a struct's address (a type object) is
  // handed around without being written, and a scalar by value is a read.
  if (addressOf
          ? !t->isScalarType()
          : !(isArray && t->getArrayElementTypeNoTypeQual()->isScalarType()))
    return false;
  for (unsigned i = 0; i < call->getNumArgs(); ++i) {
    if (call->getArg(i)->IgnoreParenImpCasts() != arg)
      continue;
    if (i >= callee->getNumParams())
      return true; // variadic: PyArg_ParseTuple(args, "i", &flag)
    clang::QualType p = callee->getParamDecl(i)->getType();
    return p->isPointerType() && !p->getPointeeType().isConstQualified();
  }
  return false;
}

class UnguardedGlobalRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT002"; }

  void registerMatchers(MatchFinder &finder) override {
    auto inFn = hasAncestor(functionDecl(isDefinition()).bind("fn"));
    finder.addMatcher(
        binaryOperator(isAssignmentOperator(),
                       hasLHS(ignoringParenImpCasts(refToGlobal())), inFn)
            .bind("write"),
        this);
    finder.addMatcher(
        unaryOperator(anyOf(hasOperatorName("++"), hasOperatorName("--")),
                      hasUnaryOperand(ignoringParenImpCasts(refToGlobal())),
                      inFn)
            .bind("write"),
        this);
    // &scalar handed to a call that writes through it (PyArg_Parse "i"),
    // or a static array passed where the callee writes (snprintf, memcpy).
    finder.addMatcher(
        callExpr(hasAnyArgument(ignoringParenImpCasts(
                     anyOf(declRefExpr(to(globalVar())).bind("arg"),
                           unaryOperator(hasOperatorName("&"),
                                         hasUnaryOperand(ignoringParenImpCasts(
                                             declRefExpr(to(globalVar())))))
                               .bind("arg")))),
                 inFn)
            .bind("write"),
        this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    const auto *write = r.Nodes.getNodeAs<clang::Stmt>("write");
    const auto *var = r.Nodes.getNodeAs<clang::VarDecl>("var");
    const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (!write || !var || !fn || isExemptVariable(var))
      return;
    if (const auto *call = llvm::dyn_cast<clang::CallExpr>(write))
      if (!writesThrough(call, r.Nodes.getNodeAs<clang::Expr>("arg"), var))
        return;
    const auto &model = ctx_.model();
    if (model.isInitOnly(fn))
      return;
    std::set<std::string> held = model.locksHeldAt(fn, write->getBeginLoc());
    if (!held.empty()) {
      // Judged at the end, against the other writes of the variable.
      lockedWrites_.push_back({fn, var, write, std::move(held)});
      return;
    }
    if (!reported_.insert({fn->getCanonicalDecl(), var}).second)
      return;
    std::string name = var->getNameAsString();
    Report rep = reportFor(fn, var, write);
    rep.message = subject(var) + "' is written in '" + fn->getNameAsString() +
                  "' outside module initialisation without a lock, atomic "
                  "or thread-local: concurrent calls race on it";
    rep.fix = fixFor(kindOfWrite(write), name, isPyObjectPointer(var));
    ctx_.report(std::move(rep));
  }

  // Writes made under locks race if two of them share no lock: each is
  // reported, naming the other.
  void onEndOfTranslationUnit() override {
    for (const auto &w : lockedWrites_)
      for (const auto &other : lockedWrites_)
        if (other.var == w.var && disjoint(w.held, other.held)) {
          reportDifferentLocks(w, other);
          break;
        }
  }

private:
  struct LockedWrite {
    const clang::FunctionDecl *fn;
    const clang::VarDecl *var;
    const clang::Stmt *write;
    std::set<std::string> held;
  };

  static bool disjoint(const std::set<std::string> &a,
                       const std::set<std::string> &b) {
    for (const auto &x : a)
      if (b.count(x))
        return false;
    return true;
  }

  // "table_lock" for &table_lock; several locks joined with "and".
  static std::string lockNames(const std::set<std::string> &held) {
    std::string out;
    for (const auto &l : held) {
      std::string name = l.rfind('&', 0) == 0 ? l.substr(1) : l;
      if (name.rfind("critical section", 0) != 0)
        name = "'" + name + "'";
      out += (out.empty() ? "" : " and ") + name;
    }
    return out;
  }

  static bool isPyObjectPointer(const clang::VarDecl *var) {
    return var->getType()->isPointerType() &&
           var->getType()->getPointeeType().getAsString().find("PyObject") !=
               std::string::npos;
  }

  static std::string subject(const clang::VarDecl *var) {
    return std::string(var->isStaticLocal() ? "function-local static '"
                                            : "global '") +
           var->getNameAsString();
  }

  Report reportFor(const clang::FunctionDecl *fn, const clang::VarDecl *var,
                   const clang::Stmt *write) const {
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Warning;
    rep.location = write->getBeginLoc();
    rep.function = fn;
    rep.key = var->getNameAsString();
    return rep;
  }

  void reportDifferentLocks(const LockedWrite &w, const LockedWrite &other) {
    if (!reported_.insert({w.fn->getCanonicalDecl(), w.var}).second)
      return;
    std::string name = w.var->getNameAsString();
    Report rep = reportFor(w.fn, w.var, w.write);
    rep.message = subject(w.var) + "' is written in '" +
                  w.fn->getNameAsString() + "' under " + lockNames(w.held) +
                  ", and in '" + other.fn->getNameAsString() + "' under " +
                  lockNames(other.held) +
                  ": different locks do not exclude each other, so "
                  "concurrent calls race on it";
    rep.fix = "guard every write of '" + name +
              "' with the same lock, or make it _Atomic";
    rep.evidence.push_back("other write: " + other.fn->getNameAsString());
    ctx_.report(std::move(rep));
  }

  std::set<std::pair<const clang::FunctionDecl *, const clang::VarDecl *>>
      reported_;
  std::vector<LockedWrite> lockedWrites_;
};

} // namespace

std::unique_ptr<Rule> makeFT002(const RuleContext &ctx) {
  return std::make_unique<UnguardedGlobalRule>(ctx);
}

} // namespace ftready::rules
