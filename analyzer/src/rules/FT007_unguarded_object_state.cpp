// FT007: a method reads then writes fields of self with no critical section
// on self and no lock.
#include "../analysis/code_effects.h"
#include "../analysis/expr_text.h"
#include "../analysis/ownership.h"
#include "rule.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/ASTMatchers/ASTMatchers.h>

#include <map>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

// A struct that starts with PyObject_HEAD / PyObject_VAR_HEAD.
bool isPythonObjectStruct(clang::QualType t) {
  if (!t->isPointerType())
    return false;
  const auto *rd = t->getPointeeType()->getAsRecordDecl();
  if (!rd || !rd->getDefinition())
    return false;
  auto first = rd->getDefinition()->field_begin();
  return first != rd->getDefinition()->field_end() &&
         first->getNameAsString() == "ob_base";
}

// The variable that is `self`: the first parameter when it already has the
// object's struct type, or a local cast from it (`FooObject *self =
// (FooObject *)op;`).
const clang::VarDecl *selfOf(const clang::FunctionDecl *fn) {
  if (fn->getNumParams() == 0)
    return nullptr;
  const clang::ParmVarDecl *first = fn->getParamDecl(0);
  if (isPythonObjectStruct(first->getType()))
    return first;
  struct Finder : clang::RecursiveASTVisitor<Finder> {
    const clang::ParmVarDecl *param;
    const clang::VarDecl *found = nullptr;
    bool VisitVarDecl(clang::VarDecl *vd) {
      if (!found && vd->hasInit() && isPythonObjectStruct(vd->getType()) &&
          analysis::referencedVar(vd->getInit()) == param)
        found = vd;
      return !found;
    }
  } finder;
  finder.param = first;
  finder.TraverseStmt(fn->getBody());
  return finder.found;
}

bool isSynchronisedField(const clang::FieldDecl *f) {
  clang::QualType t = f->getType().getCanonicalType();
  if (t->isAtomicType())
    return true;
  if (const auto *rd = t->getAsRecordDecl()) {
    std::string n = rd->getNameAsString();
    return n == "PyMutex" || n == "atomic" || n == "PyThread_type_lock";
  }
  return false;
}

enum class Access { Read, Write, ReadWrite, Atomic };

// &field handed to an atomic or lock operation: synchronised, not a plain
// access (_Py_atomic_load_ullong_relaxed(&self->version)).
bool isSynchronisingCall(const clang::Stmt *s) {
  const auto *call = llvm::dyn_cast_or_null<clang::CallExpr>(s);
  const auto *callee = call ? call->getDirectCallee() : nullptr;
  if (!callee)
    return false;
  std::string n = callee->getNameAsString();
  for (const char *prefix :
       {"_Py_atomic_", "atomic_", "__atomic_", "__sync_", "__c11_atomic_",
        "PyMutex_", "_PyMutex_", "pthread_mutex_", "PyThread_"})
    if (n.rfind(prefix, 0) == 0)
      return true;
  return false;
}

// Does `e` read the same field of the same object as `field`?
bool readsSameField(const clang::Expr *e, const clang::MemberExpr *field) {
  struct Finder : clang::RecursiveASTVisitor<Finder> {
    const clang::MemberExpr *field;
    bool found = false;
    bool VisitMemberExpr(clang::MemberExpr *me) {
      if (me->getMemberDecl() == field->getMemberDecl() &&
          analysis::referencedVar(me->getBase()) ==
              analysis::referencedVar(field->getBase()))
        found = true;
      return !found;
    }
  } finder;
  finder.field = field;
  finder.TraverseStmt(const_cast<clang::Expr *>(e));
  return finder.found;
}

// How the field expression `me` is used by what surrounds it.
Access accessOf(const clang::MemberExpr *me, clang::ASTContext &ctx) {
  const clang::Stmt *cur = me;
  clang::DynTypedNode node = clang::DynTypedNode::create(*me);
  for (;;) {
    auto parents = ctx.getParents(node);
    if (parents.empty())
      return Access::Read;
    node = parents[0];
    const auto *p = node.get<clang::Stmt>();
    if (!p)
      return Access::Read;
    if (llvm::isa<clang::ParenExpr>(p) ||
        llvm::isa<clang::ImplicitCastExpr>(p)) {
      cur = p;
      continue;
    }
    // self->buf[i] = ... and self->state.x = ... write the field too.
    if (const auto *as = llvm::dyn_cast<clang::ArraySubscriptExpr>(p))
      if (as->getBase()->IgnoreParenImpCasts() == cur || as->getBase() == cur) {
        cur = p;
        continue;
      }
    if (const auto *m = llvm::dyn_cast<clang::MemberExpr>(p))
      if (!m->isArrow()) {
        cur = p;
        continue;
      }
    if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(p)) {
      if (bo->isAssignmentOp() &&
          bo->getLHS()->IgnoreParenImpCasts() ==
              llvm::cast<clang::Expr>(cur)->IgnoreParenImpCasts())
        return bo->isCompoundAssignmentOp() ||
                       readsSameField(bo->getRHS(),
                                      llvm::cast<clang::MemberExpr>(me))
                   ? Access::ReadWrite
                   : Access::Write;
      return Access::Read;
    }
    if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(p)) {
      if (uo->getOpcode() == clang::UO_AddrOf) {
        // Py_XSETREF/Py_CLEAR take &field and write through it.
        for (auto up = ctx.getParents(*uo); !up.empty();
             up = ctx.getParents(up[0])) {
          // Group *g = &self->groups[i]: a write only if the function
          // writes through g.
          if (const auto *vd = up[0].get<clang::VarDecl>())
            return vd->hasLocalStorage() && !analysis::writesThroughLocal(vd)
                       ? Access::Read
                       : Access::ReadWrite;
          const auto *s = up[0].get<clang::Stmt>();
          if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(s);
              bo && bo->getOpcode() == clang::BO_Assign &&
              bo->getRHS()->IgnoreParenCasts() == uo) {
            const clang::VarDecl *vd = analysis::referencedVar(bo->getLHS());
            return vd && vd->hasLocalStorage() &&
                           !analysis::writesThroughLocal(vd)
                       ? Access::Read
                       : Access::ReadWrite;
          }
          if (s && (llvm::isa<clang::ImplicitCastExpr>(s) ||
                    llvm::isa<clang::CStyleCastExpr>(s) ||
                    llvm::isa<clang::ParenExpr>(s)))
            continue;
          if (isSynchronisingCall(s))
            return Access::Atomic;
          // nd->head == &nd->staticbuf: compared, a read at most, never a
          // write.
          if (const auto *cmp =
                  llvm::dyn_cast_or_null<clang::BinaryOperator>(s);
              cmp && cmp->isComparisonOp())
            return Access::Read;
          // &self->pairs handed to a helper: a write only if the helper,
          // followed through the call graph, writes through it.
          if (const auto *call = llvm::dyn_cast_or_null<clang::CallExpr>(s))
            if (const auto *callee = call->getDirectCallee();
                callee && callee->getDefinition())
              for (unsigned i = 0; i < call->getNumArgs(); ++i)
                if (call->getArg(i)->IgnoreParenCasts() == uo)
                  return analysis::writesThroughParameter(callee, i)
                             ? Access::ReadWrite
                             : Access::Read;
          break;
        }
        return Access::ReadWrite;
      }
      if (uo->isIncrementDecrementOp())
        return Access::ReadWrite;
      return Access::Read;
    }
    return Access::Read;
  }
}

class UnguardedObjectStateRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT007"; }

  void registerMatchers(MatchFinder &finder) override {
    finder.addMatcher(functionDecl(isDefinition(), hasBody(stmt())).bind("fn"),
                      this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    if (isLifecycleFunction(fn))
      return;
    const clang::VarDecl *self = selfOf(fn);
    if (!self)
      return;
    // A helper every caller hands a new object it has not shared yet
    // (pyrsistent's extendWithItem(copyPVector(self), ...)).
    if (analysis::holdsFreshObject(fn->getParamDecl(0), fn, ctx_.model()))
      return;
    struct FieldUses {
      const clang::MemberExpr *firstRead = nullptr;
      const clang::MemberExpr *racyWrite = nullptr;
      bool plainWriteFirst = false;
    };
    std::map<const clang::FieldDecl *, FieldUses> fields;
    for (const clang::MemberExpr *me : selfFieldAccesses(fn, self)) {
      const auto *field = llvm::dyn_cast<clang::FieldDecl>(me->getMemberDecl());
      if (!field || isSynchronisedField(field) || isLocked(fn, self, me))
        continue;
      FieldUses &u = fields[field];
      Access a = accessOf(me, ctx_.ast());
      if (a == Access::Atomic)
        continue;
      if (a == Access::Read && !u.firstRead)
        u.firstRead = me;
      if (a != Access::Read && !u.racyWrite &&
          (a == Access::ReadWrite || u.firstRead))
        u.racyWrite = me;
    }
    for (const auto &[field, u] : fields)
      if (u.racyWrite)
        report(fn, self, field, u.racyWrite);
  }

private:
  // A critical section on self, or on the parameter self was cast from.
  bool isLocked(const clang::FunctionDecl *fn, const clang::VarDecl *self,
                const clang::MemberExpr *at) const {
    const auto &model = ctx_.model();
    if (model.isLockedAt(fn, at->getBeginLoc(), self->getNameAsString()))
      return true;
    const clang::ParmVarDecl *param = fn->getParamDecl(0);
    return param != self &&
           model.isLockedAt(fn, at->getBeginLoc(), param->getNameAsString());
  }

  bool isLifecycleFunction(const clang::FunctionDecl *fn) const {
    // Nobody else holds the object while it is created, initialised,
    // traversed or destroyed.
    return ctx_.model().isLifecycleOnly(fn) || ctx_.model().isInitOnly(fn);
  }

  static std::vector<const clang::MemberExpr *>
  selfFieldAccesses(const clang::FunctionDecl *fn, const clang::VarDecl *self) {
    struct Collector : clang::RecursiveASTVisitor<Collector> {
      const clang::VarDecl *self;
      std::vector<const clang::MemberExpr *> out;
      bool VisitMemberExpr(clang::MemberExpr *me) {
        if (me->isArrow() && analysis::referencedVar(me->getBase()) == self)
          out.push_back(me);
        return true;
      }
    } c;
    c.self = self;
    c.TraverseStmt(fn->getBody());
    return c.out;
  }

  void report(const clang::FunctionDecl *fn, const clang::VarDecl *self,
              const clang::FieldDecl *field, const clang::MemberExpr *write) {
    std::string s = self->getNameAsString();
    std::string f = field->getNameAsString();
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Warning;
    rep.location = write->getBeginLoc();
    rep.function = fn;
    rep.key = f;
    rep.message = "'" + fn->getNameAsString() + "' reads then writes " + s +
                  "->" + f + " with no critical section on '" + s +
                  "': two threads sharing the object can interleave and "
                  "corrupt it";
    if (const auto *param = llvm::dyn_cast<clang::ParmVarDecl>(self))
      rep.evidence = analysis::sharingCallersEvidence(param, fn, ctx_.model());
    rep.fix = "wrap the read and the write in Py_BEGIN_CRITICAL_SECTION(" + s +
              ") ... Py_END_CRITICAL_SECTION() (3.13; Argument Clinic: "
              "@critical_section), or guard " +
              f + " with a PyMutex in the object, or make it atomic";
    ctx_.report(std::move(rep));
  }
};

} // namespace

std::unique_ptr<Rule> makeFT007(const RuleContext &ctx) {
  return std::make_unique<UnguardedObjectStateRule>(ctx);
}

} // namespace ftready::rules
