#include "tu_model.h"

#include "expr_text.h"
#include "macro_recorder.h"
#include "ownership.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <tuple>

namespace ftready::analysis {

namespace {

std::set<std::string> intersection(const std::set<std::string> &a,
                                   const std::set<std::string> &b) {
  std::set<std::string> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::inserter(both, both.end()));
  return both;
}

// Python's slot ids (Include/typeslots.h, Include/moduleobject.h) and METH_*
// flags (Include/methodobject.h): stable ABI values.
constexpr int kModExec = 2;
constexpr int kModGil = 4;
constexpr int kMethVarargs = 0x0001;
constexpr int kMethKeywords = 0x0002;
constexpr int kMethFastcall = 0x0080;

Role roleOfTypeSlot(int slot) {
  switch (slot) {
  case 65:
    return Role::TypeNew;
  case 60:
    return Role::TypeInit;
  case 52:
    return Role::TypeDealloc;
  case 71:
    return Role::TypeTraverse;
  case 51:
    return Role::TypeClear;
  case 80:
    return Role::TypeFinalize;
  default:
    return Role::TypeOther;
  }
}

Role roleOfTypeField(const std::string &field) {
  if (field == "tp_new")
    return Role::TypeNew;
  if (field == "tp_init")
    return Role::TypeInit;
  if (field == "tp_dealloc")
    return Role::TypeDealloc;
  if (field == "tp_traverse")
    return Role::TypeTraverse;
  if (field == "tp_clear")
    return Role::TypeClear;
  if (field == "tp_finalize")
    return Role::TypeFinalize;
  return Role::TypeOther;
}

// Lock and unlock calls: which argument names the lock (the pairing key) and
// which name the objects a critical section locks.
struct LockApi {
  const char *name;
  bool lock;
  bool criticalSection;
};

constexpr LockApi kLockApis[] = {
    {"PyMutex_Lock", true, false},
    {"_PyMutex_Lock", true, false},
    {"PyMutex_Unlock", false, false},
    {"_PyMutex_Unlock", false, false},
    {"PyThread_acquire_lock", true, false},
    {"PyThread_acquire_lock_timed", true, false},
    {"PyThread_release_lock", false, false},
    {"pthread_mutex_lock", true, false},
    {"pthread_mutex_unlock", false, false},
    {"pthread_rwlock_rdlock", true, false},
    {"pthread_rwlock_wrlock", true, false},
    {"pthread_rwlock_unlock", false, false},
    {"pthread_spin_lock", true, false},
    {"pthread_spin_unlock", false, false},
    {"mtx_lock", true, false},
    {"mtx_unlock", false, false},
    {"EnterCriticalSection", true, false},
    {"LeaveCriticalSection", false, false},
    {"PyCriticalSection_Begin", true, true},
    {"PyCriticalSection2_Begin", true, true},
    {"PyCriticalSection_End", false, true},
    {"PyCriticalSection2_End", false, true},
};

const LockApi *lockApiNamed(const std::string &name) {
  for (const auto &api : kLockApis)
    if (name == api.name)
      return &api;
  return nullptr;
}

bool isScopedGuardType(clang::QualType t) {
  const auto *rd = t->getAsCXXRecordDecl();
  if (!rd)
    return false;
  std::string n = rd->getNameAsString();
  return n == "lock_guard" || n == "unique_lock" || n == "scoped_lock" ||
         n == "shared_lock";
}

// Is `t` (or what it points to) a Python object: PyObject itself, or a
// struct whose first field is PyObject_HEAD (ob_base) or another object?
bool isPythonObjectType(clang::QualType t, int depth = 0) {
  if (t->isPointerType())
    t = t->getPointeeType();
  const clang::RecordDecl *rd = t->getAsRecordDecl();
  if (!rd || depth > 8)
    return false;
  if (rd->getNameAsString() == "_object")
    return true;
  auto first = rd->field_begin();
  return first != rd->field_end() && !(*first)->getType()->isPointerType() &&
         isPythonObjectType((*first)->getType(), depth + 1);
}

// The variable a mutex is reached through (node, for &node->mutex), and
// whether it is a Python object.
std::pair<std::string, bool> ownerOfMutex(const clang::Expr *e) {
  e = e->IgnoreParenImpCasts();
  if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(e))
    if (uo->getOpcode() == clang::UO_AddrOf)
      e = uo->getSubExpr()->IgnoreParenImpCasts();
  const auto *member = llvm::dyn_cast<clang::MemberExpr>(e);
  if (!member)
    return {};
  const auto *base =
      llvm::dyn_cast<clang::DeclRefExpr>(member->getBase()->IgnoreParenCasts());
  const auto *var =
      base ? llvm::dyn_cast<clang::VarDecl>(base->getDecl()) : nullptr;
  if (!var || var->hasGlobalStorage())
    return {};
  return {var->getNameAsString(), isPythonObjectType(var->getType())};
}

} // namespace

std::optional<long long> intValue(const clang::Expr *e,
                                  const clang::ASTContext &ctx) {
  if (!e)
    return std::nullopt;
  clang::Expr::EvalResult r;
  if (e->EvaluateAsInt(r, ctx))
    return r.Val.getInt().getExtValue();
  if (auto *lit = llvm::dyn_cast<clang::IntegerLiteral>(e->IgnoreParenCasts()))
    return lit->getValue().getSExtValue();
  return std::nullopt;
}

const clang::FunctionDecl *functionIn(const clang::Expr *e) {
  if (!e)
    return nullptr;
  if (auto *dre = llvm::dyn_cast<clang::DeclRefExpr>(e->IgnoreParenCasts()))
    return llvm::dyn_cast<clang::FunctionDecl>(dre->getDecl());
  return nullptr;
}

// The struct's tag, or its typedef name when the struct is anonymous
// (typedef struct { int slot; void *pfunc; } PyType_Slot).
std::string recordName(clang::QualType t) {
  const auto *rd = t->getAsRecordDecl();
  if (!rd)
    return "";
  if (!rd->getName().empty())
    return rd->getNameAsString();
  if (const auto *td = rd->getTypedefNameForAnonDecl())
    return td->getNameAsString();
  return "";
}

struct LockEvent {
  unsigned offset;
  std::string key;
  std::vector<std::string> objects;
  bool lock;
  bool criticalSection;
  std::string owner; // see LockExtent
  bool ownerIsObject = false;
  // An unlock that is its block's last act before `return` ({ unlock(m);
  // return NULL; }): the block's extent. Code past the block did not take
  // that exit and still holds what was locked before the block. {0, 0}: any
  // other unlock.
  unsigned exitBlockBegin = 0;
  unsigned exitBlockEnd = 0;
};

namespace {

// Slots the runtime calls on an object nobody else can reach: at refcount
// zero (tp_dealloc, tp_finalize from it), found unreachable by the collector
// (tp_traverse, tp_clear, tp_finalize), or just made (tp_init, as type_call
// runs it; `obj.__init__()` called again on a shared object is not
// followed, as for the functions only tp_init reaches).
bool isUnsharedObjectSlot(Role role) {
  return role == Role::TypeDealloc || role == Role::TypeTraverse ||
         role == Role::TypeClear || role == Role::TypeFinalize ||
         role == Role::TypeInit;
}

} // namespace

class TuModelBuilder : public clang::RecursiveASTVisitor<TuModelBuilder> {
public:
  TuModelBuilder(TuModel &m, const std::set<std::string> &watched)
      : m_(m), ctx_(m.ctx_), sm_(ctx_.getSourceManager()), watched_(watched) {}

  void finish(const MacroRecord &macros) {
    const auto &marks = macros.criticalSections;
    for (const auto &use : macros.apiMacros)
      noteMacroUse(use);
    for (auto &[fn, uses] : m_.apiUses_)
      std::stable_sort(uses.begin(), uses.end(),
                       [this](const ApiUse &a, const ApiUse &b) {
                         return m_.offsetOf(a.expr->getBeginLoc()) <
                                m_.offsetOf(b.expr->getBeginLoc());
                       });
    std::map<const clang::FunctionDecl *, std::set<const clang::DeclRefExpr *>>
        references;
    for (const auto *ref : functionRefs_)
      if (!calleeRefs_.count(ref))
        if (auto *fd = llvm::dyn_cast<clang::FunctionDecl>(ref->getDecl())) {
          m_.addressTaken_.insert(fd->getCanonicalDecl());
          references[fd->getCanonicalDecl()].insert(ref);
        }
    noteUnsharedSlots(references);
    for (auto &[fn, events] : lockEvents_)
      pairLockEvents(fn, events);
    for (const auto *fn : m_.functions_)
      pairCriticalSectionMarks(fn, marks);
    for (const auto &check : macros.debugChecks)
      m_.debugChecks_.push_back({check.begin, check.end});
  }

  bool TraverseFunctionDecl(clang::FunctionDecl *fd) {
    const clang::FunctionDecl *saved = current_;
    if (fd->doesThisDeclarationHaveABody() &&
        !sm_.isInSystemHeader(fd->getLocation())) {
      current_ = fd;
      m_.functions_.push_back(fd);
      std::string name = fd->getNameAsString();
      if (name.rfind("PyInit_", 0) == 0) {
        m_.roles_[fd->getCanonicalDecl()] = Role::ModuleInit;
        m_.module_.init = fd;
      }
    }
    bool ok = RecursiveASTVisitor::TraverseFunctionDecl(fd);
    current_ = saved;
    return ok;
  }

  bool VisitCallExpr(clang::CallExpr *call) {
    const clang::FunctionDecl *callee = call->getDirectCallee();
    if (auto *dre = llvm::dyn_cast<clang::DeclRefExpr>(
            call->getCallee()->IgnoreParenCasts()))
      calleeRefs_.insert(dre);
    if (!callee)
      return true;
    std::string name = callee->getNameAsString();
    m_.calledNames_.insert(name);
    noteModuleDeclarationCall(name, call);
    if (!current_)
      return true;
    if (watched_.count(name))
      noteCallUse(name, call);
    if (const LockApi *api = lockApiNamed(name))
      noteLockCall(*api, call);
    if (callee->getDefinition() || callee->hasBody()) {
      CallSite site;
      site.caller = current_->getCanonicalDecl();
      site.callee = callee->getCanonicalDecl();
      site.offset = m_.offsetOf(call->getBeginLoc());
      for (const auto *arg : call->arguments()) {
        site.args.push_back(argumentText(arg));
        site.written.push_back(canonicalText(arg, ctx_));
        site.argExprs.push_back(arg);
      }
      m_.calls_.push_back(std::move(site));
    }
    return true;
  }

  // A call's argument as the callers' locks name it: a local that only
  // ever holds a parameter under another type (`textio *self = (textio
  // *)op;`) is that parameter.
  std::string argumentText(const clang::Expr *arg) {
    std::string text = canonicalText(arg, ctx_);
    const clang::VarDecl *vd = referencedVar(arg);
    if (!vd || llvm::isa<clang::ParmVarDecl>(vd) || !vd->hasLocalStorage() ||
        !vd->getInit())
      return text;
    const auto *param = llvm::dyn_cast_or_null<clang::ParmVarDecl>(
        referencedVar(vd->getInit()));
    const auto *owner =
        param ? llvm::dyn_cast<clang::FunctionDecl>(param->getDeclContext())
              : nullptr;
    if (!owner || owner->getCanonicalDecl() != current_->getCanonicalDecl() ||
        !m_.usesOf(vd, current_).assigned.empty() ||
        !m_.usesOf(param, current_).assigned.empty())
      return text;
    return param->getNameAsString();
  }

  bool VisitGotoStmt(clang::GotoStmt *g) {
    if (current_)
      jumps_[current_->getCanonicalDecl()].gotos.push_back(
          {m_.offsetOf(g->getBeginLoc()), g->getLabel()});
    return true;
  }
  bool VisitIndirectGotoStmt(clang::IndirectGotoStmt *) {
    if (current_)
      jumps_[current_->getCanonicalDecl()].computed = true;
    return true;
  }
  bool VisitLabelStmt(clang::LabelStmt *l) {
    if (current_)
      jumps_[current_->getCanonicalDecl()].labels[l->getDecl()] =
          m_.offsetOf(l->getBeginLoc());
    return true;
  }
  bool VisitMemberExpr(clang::MemberExpr *me) {
    if (const auto *fd = llvm::dyn_cast<clang::FieldDecl>(me->getMemberDecl()))
      m_.fieldAccesses_[fd->getCanonicalDecl()].push_back(me);
    return true;
  }

  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (llvm::isa<clang::FunctionDecl>(dre->getDecl()))
      functionRefs_.push_back(dre);
    return true;
  }

  // Remembers the outermost expression of each macro expansion, so that a
  // watched macro's use can be mapped back to the AST.
  bool VisitExpr(clang::Expr *e) {
    if (!current_ || !e->getBeginLoc().isMacroID())
      return true;
    exprsByMacroRange_.try_emplace(
        {fileBegin(sm_, e->getBeginLoc()).getRawEncoding(),
         fileEnd(sm_, e->getEndLoc()).getRawEncoding()},
        ExprAt{e, current_});
    return true;
  }

  bool VisitVarDecl(clang::VarDecl *vd) {
    if (!current_ || !isScopedGuardType(vd->getType()))
      return true;
    // A guard holds its lock to the end of the enclosing block.
    for (const auto &p : ctx_.getParents(*vd)) {
      for (const auto &pp : ctx_.getParents(p)) {
        if (const auto *block = pp.get<clang::CompoundStmt>()) {
          LockExtent ext;
          ext.kind = LockExtent::Kind::ScopedGuard;
          ext.begin = m_.offsetOf(vd->getBeginLoc());
          ext.end = m_.offsetOf(block->getRBracLoc());
          if (const auto *ctor =
                  llvm::dyn_cast_or_null<clang::CXXConstructExpr>(
                      vd->getInit() ? vd->getInit()->IgnoreImplicit()
                                    : nullptr);
              ctor && ctor->getNumArgs() > 0) {
            ext.objects.push_back(canonicalText(ctor->getArg(0), ctx_));
            std::tie(ext.owner, ext.ownerIsObject) =
                ownerOfMutex(ctor->getArg(0));
          }
          m_.extents_[current_->getCanonicalDecl()].push_back(ext);
        }
      }
    }
    return true;
  }

  bool VisitInitListExpr(clang::InitListExpr *ile) {
    const clang::InitListExpr *sem =
        ile->isSemanticForm() ? ile : ile->getSemanticForm();
    if (!sem)
      return true;
    std::string type = recordName(sem->getType());
    if (type == "PyMethodDef")
      noteMethodDef(sem);
    else if (type == "PyModuleDef_Slot")
      noteModuleSlot(sem);
    else if (type == "PyType_Slot")
      noteTypeSlot(sem);
    else if (type == "_typeobject")
      noteStaticType(sem);
    return true;
  }

private:
  struct ExprAt {
    const clang::Expr *expr;
    const clang::FunctionDecl *fn;
  };

  void noteCallUse(const std::string &name, const clang::CallExpr *call) {
    ApiUse use;
    use.api = name;
    use.expr = call;
    for (const auto *arg : call->arguments()) {
      use.args.push_back(arg);
      use.argTexts.push_back(canonicalText(arg, ctx_));
    }
    callUses_.insert(
        {name, fileBegin(sm_, call->getBeginLoc()).getRawEncoding()});
    m_.apiUses_[current_->getCanonicalDecl()].push_back(std::move(use));
  }

  void noteMacroUse(const MacroUse &mu) {
    if (callUses_.count({mu.name, mu.begin.getRawEncoding()}))
      return; // a macro that wraps the function of the same name
    auto it = exprsByMacroRange_.find(
        {mu.begin.getRawEncoding(), mu.end.getRawEncoding()});
    if (it == exprsByMacroRange_.end())
      return;
    ApiUse use;
    use.api = mu.name;
    use.expr = it->second.expr;
    for (const auto &a : mu.args) {
      use.argTexts.push_back(canonicalText(a));
      use.args.push_back(findOperand(it->second.expr, use.argTexts.back()));
    }
    m_.apiUses_[it->second.fn->getCanonicalDecl()].push_back(std::move(use));
  }

  // The sub-expression of a macro expansion that is the argument `text`.
  const clang::Expr *findOperand(const clang::Expr *root,
                                 const std::string &text) {
    struct Finder : clang::RecursiveASTVisitor<Finder> {
      const std::string &text;
      clang::ASTContext &ctx;
      const clang::Expr *found = nullptr;
      Finder(const std::string &t, clang::ASTContext &c) : text(t), ctx(c) {}
      bool VisitExpr(clang::Expr *e) {
        if (!found &&
            (llvm::isa<clang::DeclRefExpr>(e) ||
             llvm::isa<clang::MemberExpr>(e) ||
             llvm::isa<clang::IntegerLiteral>(e)) &&
            canonicalText(e, ctx) == text)
          found = e;
        return !found;
      }
    } finder(text, ctx_);
    finder.TraverseStmt(const_cast<clang::Expr *>(root));
    return finder.found;
  }

  // A slot function the runtime alone hands its object: every reference to
  // it that is not a call registers it as such a slot (not also a method, a
  // tp_iternext or a callback). tp_init and tp_finalize weaker: below.
  void noteUnsharedSlots(
      const std::map<const clang::FunctionDecl *,
                     std::set<const clang::DeclRefExpr *>> &references) {
    for (const auto &[fn, roles] : slotRegistrations_) {
      auto refs = references.find(fn);
      if (refs == references.end())
        continue;
      bool onlySlots = std::all_of(
          refs->second.begin(), refs->second.end(),
          [&](const clang::DeclRefExpr *r) { return roles.count(r) != 0; });
      if (!onlySlots)
        continue;
      Role weakest = roles.begin()->second;
      for (const auto &[ref, r] : roles)
        if (r == Role::TypeInit || r == Role::TypeFinalize)
          weakest = r;
      m_.unsharedSlots_[fn] = weakest;
    }
  }

  void setRole(const clang::FunctionDecl *fd, Role role) {
    if (!fd)
      return;
    auto &slot = m_.roles_[fd->getCanonicalDecl()];
    if (slot == Role::None || slot == Role::TypeOther)
      slot = role;
  }

  void markPrivateParams(const clang::FunctionDecl *fd,
                         std::initializer_list<unsigned> indices) {
    if (const clang::FunctionDecl *def = fd ? fd->getDefinition() : nullptr)
      for (unsigned i : indices)
        if (i < def->getNumParams())
          m_.privateParams_.insert(def->getParamDecl(i));
  }

  void noteMethodDef(const clang::InitListExpr *ile) {
    if (ile->getNumInits() < 3)
      return;
    const clang::FunctionDecl *fd = functionIn(ile->getInit(1));
    auto flags = intValue(ile->getInit(2), ctx_);
    if (!fd || !flags)
      return;
    setRole(fd, Role::Method);
    if (*flags & kMethFastcall)
      markPrivateParams(fd, {1});
    else if (*flags & kMethVarargs)
      markPrivateParams(fd, {1});
    if ((*flags & kMethKeywords) && !(*flags & kMethFastcall))
      markPrivateParams(fd, {2});
  }

  void noteModuleSlot(const clang::InitListExpr *ile) {
    if (ile->getNumInits() < 2)
      return;
    auto slot = intValue(ile->getInit(0), ctx_);
    if (!slot)
      return;
    if (*slot == kModExec)
      setRole(functionIn(ile->getInit(1)), Role::ModExec);
    if (*slot == kModGil) {
      auto value = intValue(ile->getInit(1)->IgnoreParenCasts(), ctx_);
      if (value && *value == 1)
        m_.module_.declares_gil_not_used = true;
      else
        m_.module_.declares_gil_used = true;
    }
  }

  void noteSlotFunction(const clang::Expr *init, Role role) {
    const clang::FunctionDecl *fd = functionIn(init);
    setRole(fd, role);
    if (fd && isUnsharedObjectSlot(role))
      slotRegistrations_[fd->getCanonicalDecl()]
                        [llvm::dyn_cast<clang::DeclRefExpr>(
                            init->IgnoreParenCasts())] = role;
    if (role == Role::TypeNew || role == Role::TypeInit)
      markPrivateParams(fd, {1, 2});
  }

  void noteTypeSlot(const clang::InitListExpr *ile) {
    if (ile->getNumInits() < 2)
      return;
    auto slot = intValue(ile->getInit(0), ctx_);
    if (slot)
      noteSlotFunction(ile->getInit(1), roleOfTypeSlot(*slot));
  }

  void noteStaticType(const clang::InitListExpr *ile) {
    const auto *rd = ile->getType()->getAsRecordDecl();
    if (!rd)
      return;
    unsigned i = 0;
    for (const auto *field : rd->fields()) {
      if (i >= ile->getNumInits())
        break;
      noteSlotFunction(ile->getInit(i++),
                       roleOfTypeField(field->getNameAsString()));
    }
  }

  void noteModuleDeclarationCall(const std::string &name,
                                 const clang::CallExpr *call) {
    if (name == "PyModuleDef_Init")
      m_.module_.multi_phase = true;
    if (name == "PyUnstable_Module_SetGIL" && call->getNumArgs() == 2) {
      auto v = intValue(call->getArg(1)->IgnoreParenCasts(), ctx_);
      if (v && *v == 1)
        m_.module_.declares_gil_not_used = true;
    }
    if (name == "mod_gil_not_used") // pybind11 >= 2.13
      m_.module_.declares_gil_not_used = true;
  }

  void noteLockCall(const LockApi &api, const clang::CallExpr *call) {
    if (call->getNumArgs() == 0)
      return;
    LockEvent ev;
    ev.offset = m_.offsetOf(call->getBeginLoc());
    ev.key = canonicalText(call->getArg(0), ctx_);
    ev.lock = api.lock;
    ev.criticalSection = api.criticalSection;
    if (api.criticalSection && api.lock)
      for (unsigned i = 1; i < call->getNumArgs(); ++i)
        ev.objects.push_back(canonicalText(call->getArg(i), ctx_));
    else
      ev.objects.push_back(ev.key);
    if (!api.criticalSection)
      std::tie(ev.owner, ev.ownerIsObject) = ownerOfMutex(call->getArg(0));
    if (!api.lock)
      std::tie(ev.exitBlockBegin, ev.exitBlockEnd) = earlyExitBlock(call);
    lockEvents_[current_->getCanonicalDecl()].push_back(std::move(ev));
  }

  // The block `call` is a statement of, when nothing but plain expressions
  // stands between it and a `return` there (zlib's `if (...) {
  // LEAVE_ZLIB(self); return NULL; }`): no label, case, break, goto or
  // nested statement that could leave the block another way. Not the
  // function's own body, nor a switch's. {0, 0} otherwise.
  std::pair<unsigned, unsigned> earlyExitBlock(const clang::CallExpr *call) {
    const clang::Stmt *child = call;
    auto parents = ctx_.getParents(*call);
    for (; !parents.empty(); parents = ctx_.getParents(parents[0])) {
      const auto *s = parents[0].get<clang::Stmt>();
      if (!s || !llvm::isa<clang::Expr>(s))
        break;
      child = s; // casts, parentheses, cleanups around the call
    }
    const auto *block =
        parents.empty() ? nullptr : parents[0].get<clang::CompoundStmt>();
    if (!block || block == current_->getBody())
      return {0, 0};
    auto above = ctx_.getParents(*block);
    if (above.empty() || above[0].get<clang::SwitchStmt>() ||
        holdsJumpTarget(block))
      return {0, 0};
    const auto *it = std::find(block->body_begin(), block->body_end(), child);
    for (++it; it != block->body_end(); ++it) {
      if (llvm::isa<clang::ReturnStmt>(*it))
        return {m_.offsetOf(block->getBeginLoc()),
                m_.offsetOf(block->getEndLoc())};
      if (!llvm::isa<clang::Expr>(*it) && !llvm::isa<clang::NullStmt>(*it) &&
          !llvm::isa<clang::DeclStmt>(*it))
        return {0, 0};
    }
    return {0, 0};
  }

  // Does `s` hold a label, a case, or a GNU statement expression (which can
  // break, continue or goto out of what looks like a plain expression)?
  static bool holdsJumpTarget(const clang::Stmt *s) {
    if (!s)
      return false;
    if (llvm::isa<clang::LabelStmt>(s) || llvm::isa<clang::SwitchCase>(s) ||
        llvm::isa<clang::StmtExpr>(s))
      return true;
    for (const clang::Stmt *child : s->children())
      if (holdsJumpTarget(child))
        return true;
    return false;
  }

  unsigned bodyEnd(const clang::FunctionDecl *fn) const {
    const clang::FunctionDecl *def = fn->getDefinition();
    return def && def->getBody() ? m_.offsetOf(def->getBody()->getEndLoc())
                                 : ~0u;
  }

  void pairLockEvents(const clang::FunctionDecl *fn,
                      std::vector<LockEvent> &events) {
    std::sort(events.begin(), events.end(),
              [](const LockEvent &a, const LockEvent &b) {
                return a.offset < b.offset;
              });
    for (size_t i = 0; i < events.size(); ++i) {
      if (!events[i].lock)
        continue;
      LockExtent ext;
      ext.kind = events[i].criticalSection ? LockExtent::Kind::CriticalSection
                                           : LockExtent::Kind::Mutex;
      ext.begin = events[i].offset;
      ext.end = bodyEnd(fn);
      ext.objects = events[i].objects;
      ext.owner = events[i].owner;
      ext.ownerIsObject = events[i].ownerIsObject;
      // An early exit's unlock of a lock taken before its block leaves a
      // hole, from itself to the end of the block; the next other unlock
      // ends the extent. Only when such an unlock is found before the same
      // lock is taken again, and no jump from outside the locked code lands
      // past the first hole: otherwise the first early exit ends it, as any
      // unlock does.
      std::vector<std::pair<unsigned, unsigned>> holes;
      bool closed = false;
      for (size_t j = i + 1; j < events.size(); ++j) {
        if (events[j].key != events[i].key)
          continue;
        if (events[j].lock) {
          if (!holes.empty())
            break;
          continue;
        }
        if (events[j].exitBlockEnd == 0 ||
            events[j].exitBlockBegin <= events[i].offset) {
          ext.end = events[j].offset;
          closed = true;
          break;
        }
        holes.push_back({events[j].offset, events[j].exitBlockEnd});
      }
      if (!holes.empty() &&
          (!closed || jumpsInto(fn, ext.begin, ext.end, holes))) {
        ext.end = holes.front().first;
        holes.clear();
      }
      addExtentAround(fn, std::move(ext), holes);
    }
  }

  // Can control reach code in (holes' first start, end] from outside the
  // locked code [begin, end] minus `holes`: a label there that a goto from
  // outside targets, or any computed goto in the function?
  bool jumpsInto(const clang::FunctionDecl *fn, unsigned begin, unsigned end,
                 const std::vector<std::pair<unsigned, unsigned>> &holes) {
    const Jumps &jumps = jumps_[fn];
    if (jumps.computed)
      return true;
    auto locked = [&](unsigned at) {
      if (at < begin || at > end)
        return false;
      for (const auto &[from, to] : holes)
        if (at >= from && at <= to)
          return false;
      return true;
    };
    for (const auto &[from, label] : jumps.gotos) {
      auto at = jumps.labels.find(label);
      if (at == jumps.labels.end())
        return true;
      if (at->second > holes.front().first && at->second <= end &&
          !locked(from))
        return true;
    }
    return false;
  }

  // `ext` as pieces that leave out `holes` (in file order).
  void
  addExtentAround(const clang::FunctionDecl *fn, LockExtent ext,
                  const std::vector<std::pair<unsigned, unsigned>> &holes) {
    unsigned end = ext.end;
    for (const auto &[from, to] : holes) {
      if (from >= end)
        break;
      if (from > ext.begin) {
        LockExtent piece = ext;
        piece.end = from;
        m_.extents_[fn].push_back(std::move(piece));
      }
      ext.begin = std::max(ext.begin, to);
    }
    if (ext.begin <= end)
      m_.extents_[fn].push_back(std::move(ext));
  }

  void pairCriticalSectionMarks(const clang::FunctionDecl *fn,
                                const std::vector<CriticalSectionMark> &marks) {
    const clang::Stmt *body = fn->getBody();
    if (!body)
      return;
    clang::SourceLocation b = sm_.getExpansionLoc(body->getBeginLoc());
    clang::SourceLocation e = sm_.getExpansionLoc(body->getEndLoc());
    if (sm_.getFileID(b) != sm_.getFileID(e))
      return;
    unsigned from = sm_.getFileOffset(b), to = sm_.getFileOffset(e);
    std::vector<const CriticalSectionMark *> open;
    for (const auto &mark : marks) {
      if (sm_.getFileID(mark.location) != sm_.getFileID(b))
        continue;
      unsigned off = sm_.getFileOffset(mark.location);
      if (off < from || off > to)
        continue;
      if (mark.begin) {
        open.push_back(&mark);
      } else if (!open.empty()) {
        LockExtent ext;
        ext.kind = LockExtent::Kind::CriticalSection;
        ext.begin = sm_.getFileOffset(open.back()->location);
        ext.end = off;
        ext.objects = open.back()->objects;
        open.pop_back();
        m_.extents_[fn->getCanonicalDecl()].push_back(std::move(ext));
      }
    }
  }

  TuModel &m_;
  clang::ASTContext &ctx_;
  const clang::SourceManager &sm_;
  const clang::FunctionDecl *current_ = nullptr;
  std::set<const clang::DeclRefExpr *> calleeRefs_;
  std::vector<const clang::DeclRefExpr *> functionRefs_;
  std::map<const clang::FunctionDecl *, std::vector<LockEvent>> lockEvents_;
  // The gotos and labels of each function, for the extents' early exits.
  struct Jumps {
    std::vector<std::pair<unsigned, const clang::LabelDecl *>> gotos;
    std::map<const clang::LabelDecl *, unsigned> labels;
    bool computed = false; // a goto *p
  };
  std::map<const clang::FunctionDecl *, Jumps> jumps_;
  // slot function -> the references that register it -> as which slot
  std::map<const clang::FunctionDecl *,
           std::map<const clang::DeclRefExpr *, Role>>
      slotRegistrations_;
  const std::set<std::string> &watched_;
  std::set<std::pair<std::string, unsigned>> callUses_;
  std::map<std::pair<unsigned, unsigned>, ExprAt> exprsByMacroRange_;
};

TuModel::TuModel(clang::ASTContext &ctx, const MacroRecord &macros,
                 const std::set<std::string> &watchedApis)
    : ctx_(ctx) {
  TuModelBuilder builder(*this, watchedApis);
  builder.TraverseDecl(ctx.getTranslationUnitDecl());
  builder.finish(macros);
  for (const auto &c : calls_)
    callers_[c.callee].push_back(&c);
  computeInitOnly();
  computeAlwaysLocked();
}

unsigned TuModel::offsetOf(clang::SourceLocation loc) const {
  const auto &sm = ctx_.getSourceManager();
  return sm.getFileOffset(sm.getExpansionLoc(loc));
}

Role TuModel::roleOf(const clang::FunctionDecl *fn) const {
  auto it = roles_.find(fn->getCanonicalDecl());
  return it == roles_.end() ? Role::None : it->second;
}

bool TuModel::isPrivateParameter(const clang::ParmVarDecl *p) const {
  return privateParams_.count(p) != 0;
}

bool TuModel::isInitOnly(const clang::FunctionDecl *fn) const {
  return initOnly_.count(fn->getCanonicalDecl()) != 0;
}

const std::vector<LockExtent> &
TuModel::extentsOf(const clang::FunctionDecl *fn) const {
  static const std::vector<LockExtent> none;
  auto it = extents_.find(fn->getCanonicalDecl());
  return it == extents_.end() ? none : it->second;
}

bool TuModel::isInDebugCheck(clang::SourceLocation loc) const {
  const auto &sm = ctx_.getSourceManager();
  clang::SourceLocation at = fileBegin(sm, loc);
  for (const auto &[b, e] : debugChecks_)
    if (sm.getFileID(b) == sm.getFileID(at) &&
        sm.getFileOffset(b) <= sm.getFileOffset(at) &&
        sm.getFileOffset(at) <= sm.getFileOffset(e))
      return true;
  return false;
}

const std::vector<const CallSite *> &
TuModel::callsOf(const clang::FunctionDecl *fn) const {
  static const std::vector<const CallSite *> none;
  auto it = callers_.find(fn->getCanonicalDecl());
  return it == callers_.end() ? none : it->second;
}

const std::vector<const clang::MemberExpr *> &
TuModel::accessesOf(const clang::FieldDecl *field) const {
  static const std::vector<const clang::MemberExpr *> none;
  auto it = fieldAccesses_.find(field->getCanonicalDecl());
  return it == fieldAccesses_.end() ? none : it->second;
}

const std::vector<ApiUse> &
TuModel::apiUsesIn(const clang::FunctionDecl *fn) const {
  static const std::vector<ApiUse> none;
  auto it = apiUses_.find(fn->getCanonicalDecl());
  return it == apiUses_.end() ? none : it->second;
}

bool TuModel::mutexCovers(const LockExtent &ext,
                          const std::string &object) const {
  // A mutex inside a Python object protects that object, not another one
  // (&other->mutex does not protect self). A static mutex, or one in a
  // plain C struct (module state), is a coarse lock over everything.
  return object.empty() || !ext.ownerIsObject ||
         ext.owner == baseObjectOf(object);
}

bool TuModel::extentCovers(const clang::FunctionDecl *fn, unsigned offset,
                           const std::string &object) const {
  for (const auto &ext : extentsOf(fn)) {
    if (offset < ext.begin || offset > ext.end)
      continue;
    if (ext.kind != LockExtent::Kind::CriticalSection) {
      if (mutexCovers(ext, object))
        return true;
      continue;
    }
    if (object.empty())
      return true;
    for (const auto &o : ext.objects)
      if (o == object || o == baseObjectOf(object))
        return true;
  }
  return false;
}

bool TuModel::isLockedAt(const clang::FunctionDecl *fn,
                         clang::SourceLocation loc,
                         const std::string &object) const {
  if (!fn)
    return false;
  if (extentCovers(fn, offsetOf(loc), object))
    return true;
  auto it = alwaysLocked_.find(fn->getCanonicalDecl());
  if (it == alwaysLocked_.end())
    return false;
  const HeldByCallers &held = it->second;
  if (!held.mutexes.empty() || held.objects.count(object) ||
      held.objects.count(baseObjectOf(object)) ||
      (object.empty() && !held.objects.empty()))
    return true;
  // An object no other thread can reach during the call (not its fields:
  // a dying object's fields can be shared), or one every caller made and
  // did not share (not its fields either: a copy's fields can be the
  // original's), guarded while this function keeps it.
  if (object.empty() || !held.guarded.count(object))
    return false;
  if (held.exclusive.count(object))
    return true;
  const clang::FunctionDecl *def = fn->getDefinition();
  for (unsigned i = 0; def && i < def->getNumParams(); ++i)
    if (def->getParamDecl(i)->getNameAsString() == object)
      return parameterKeptPrivate(def->getParamDecl(i), def, offsetOf(loc),
                                  *this);
  return false;
}

std::set<std::string> TuModel::locksHeldAt(const clang::FunctionDecl *fn,
                                           clang::SourceLocation loc) const {
  std::set<std::string> out;
  if (!fn)
    return out;
  unsigned offset = offsetOf(loc);
  for (const auto &ext : extentsOf(fn)) {
    if (offset < ext.begin || offset > ext.end)
      continue;
    if (ext.kind == LockExtent::Kind::CriticalSection)
      for (const auto &o : ext.objects)
        out.insert("critical section on '" + o + "'");
    else if (ext.ownerIsObject)
      continue; // one object's mutex: two objects, two locks
    else if (!ext.objects.empty())
      out.insert(ext.objects.front());
    else
      out.insert("a scoped lock in " + fn->getNameAsString());
  }
  if (auto it = alwaysLocked_.find(fn->getCanonicalDecl());
      it != alwaysLocked_.end()) {
    out.insert(it->second.mutexes.begin(), it->second.mutexes.end());
    for (const auto &o : it->second.objects)
      out.insert("critical section on '" + o + "'");
  }
  return out;
}

const clang::FunctionDecl *
TuModel::functionAt(clang::SourceLocation loc) const {
  const auto &sm = ctx_.getSourceManager();
  clang::SourceLocation at = sm.getExpansionLoc(loc);
  for (const auto *fn : functions_) {
    clang::SourceRange r = fn->getSourceRange();
    clang::SourceLocation b = sm.getExpansionLoc(r.getBegin());
    clang::SourceLocation e = sm.getExpansionLoc(r.getEnd());
    if (sm.getFileID(b) == sm.getFileID(at) &&
        sm.getFileOffset(b) <= sm.getFileOffset(at) &&
        sm.getFileOffset(at) <= sm.getFileOffset(e))
      return fn;
  }
  return nullptr;
}

std::set<const clang::FunctionDecl *>
TuModel::onlyReachedFrom(const std::set<Role> &roots) const {
  std::set<const clang::FunctionDecl *> reached;
  for (const auto &[fn, role] : roles_)
    if (roots.count(role))
      reached.insert(fn);
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto &[callee, sites] : callers_) {
      if (reached.count(callee) || addressTaken_.count(callee) ||
          roleOf(callee) != Role::None)
        continue;
      bool all = std::all_of(sites.begin(), sites.end(), [&](auto *s) {
        return reached.count(s->caller) != 0;
      });
      if (all) {
        reached.insert(callee);
        changed = true;
      }
    }
  }
  return reached;
}

void TuModel::computeInitOnly() {
  initOnly_ = onlyReachedFrom({Role::ModuleInit, Role::ModExec});
  lifecycleOnly_ = onlyReachedFrom({Role::TypeNew, Role::TypeInit,
                                    Role::TypeDealloc, Role::TypeTraverse,
                                    Role::TypeClear, Role::TypeFinalize});
}

bool TuModel::isLifecycleOnly(const clang::FunctionDecl *fn) const {
  return lifecycleOnly_.count(fn->getCanonicalDecl()) != 0;
}

// What the runtime's own call of a slot function guarantees for its object
// (the first parameter): out of every other thread's reach for the whole
// call (tp_dealloc, tp_traverse, tp_clear), or only while the slot keeps it
// (tp_init, tp_finalize).
HeldByCallers TuModel::heldAtSlotCall(const clang::FunctionDecl *def,
                                      Role role) const {
  HeldByCallers held;
  if (def->getNumParams() == 0)
    return held;
  std::string self = def->getParamDecl(0)->getNameAsString();
  held.guarded.insert(self);
  // tp_init can publish the object before it writes, tp_finalize can bring
  // it back: kept while the function keeps it, like a new object.
  if (role != Role::TypeInit && role != Role::TypeFinalize)
    held.exclusive.insert(self);
  return held;
}

// heldAtCall asks these again in every round of computeAlwaysLocked (and
// rules ask again later); they are questions of the code alone, not of the
// locks found so far, so each is answered once.
bool TuModel::ownedAtCall(const CallSite &s, unsigned index, Owned what) const {
  auto [it, fresh] = ownedAtCall_.try_emplace({&s, index, what}, false);
  if (!fresh)
    return it->second;
  const clang::FunctionDecl *callerDef = s.caller->getDefinition();
  bool owned =
      what == Owned::Argument
          ? isPrivateContainer(s.argExprs[index], callerDef, s.offset, *this)
          : parameterKeptPrivate(callerDef->getParamDecl(index), callerDef,
                                 s.offset, *this);
  it->second = owned;
  return owned;
}

namespace {

// What every one of two kinds of calls holds.
void meet(HeldByCallers &common, const HeldByCallers &here) {
  common.objects = intersection(common.objects, here.objects);
  common.mutexes = intersection(common.mutexes, here.mutexes);
  common.guarded = intersection(common.guarded, here.guarded);
  common.exclusive = intersection(common.exclusive, here.exclusive);
}

} // namespace

// A function's call of itself: what it holds there, plus what its own
// callers hold of each parameter it passes on unchanged.
HeldByCallers TuModel::heldAtSelfCall(const CallSite &s,
                                      const clang::FunctionDecl *def,
                                      const HeldByCallers &callers) const {
  HeldByCallers here = heldAtCall(s, def);
  here.mutexes.insert(callers.mutexes.begin(), callers.mutexes.end());
  for (unsigned i = 0; i < def->getNumParams() && i < s.args.size(); ++i) {
    const std::string name = def->getParamDecl(i)->getNameAsString();
    if (s.args[i] != name ||
        !usesOf(def->getParamDecl(i), def).assigned.empty())
      continue;
    for (auto [from, to] : {std::pair{&callers.objects, &here.objects},
                            std::pair{&callers.guarded, &here.guarded},
                            std::pair{&callers.exclusive, &here.exclusive}})
      if (from->count(name))
        to->insert(name);
  }
  return here;
}

void TuModel::computeAlwaysLocked() {
  auto callers = callers_;
  // A slot the file also calls itself (deque_clear: tp_clear, and the body
  // of the locked clear() method) is called by the runtime too, from no site
  // in the file.
  for (const auto &[fn, role] : unsharedSlots_)
    callers[fn];
  // To a fixed point: Argument Clinic's wrapper -> _impl -> *_lock_held
  // helper -> helper chains run several calls deep. A helper's set only
  // grows, so this ends; the cap is a guard.
  bool changed = true;
  for (int round = 0; changed && round < 64; ++round) {
    changed = false;
    for (const auto &[callee, sites] : callers) {
      // The slot table takes a slot function's address: the runtime calls
      // it, as above.
      auto slot = unsharedSlots_.find(callee);
      bool isSlot = slot != unsharedSlots_.end();
      if (!isSlot &&
          (addressTaken_.count(callee) || roleOf(callee) != Role::None))
        continue;
      const clang::FunctionDecl *def = callee->getDefinition();
      if (!def)
        continue;
      HeldByCallers common;
      bool first = true;
      if (isSlot) {
        common = heldAtSlotCall(def, slot->second);
        first = false;
      }
      for (const CallSite *s : sites) {
        if (s->caller == callee)
          continue; // recursion: below
        HeldByCallers here = heldAtCall(*s, def);
        if (first) {
          common = std::move(here);
          first = false;
        } else {
          meet(common, here);
        }
      }
      // A call of itself passes on what it was given (deque_extendleft_impl
      // on a copy of itself): it keeps a parameter it hands on unchanged.
      for (const CallSite *s : sites)
        if (s->caller == callee && !first)
          meet(common, heldAtSelfCall(*s, def, common));
      auto empty = [](const HeldByCallers &h) {
        return h.objects.empty() && h.mutexes.empty() && h.guarded.empty();
      };
      HeldByCallers &now = alwaysLocked_[callee];
      if (!empty(common) &&
          (now.objects != common.objects || now.mutexes != common.mutexes ||
           now.guarded != common.guarded ||
           now.exclusive != common.exclusive)) {
        now = std::move(common);
        changed = true;
      }
      if (empty(now))
        alwaysLocked_.erase(callee);
    }
  }
}

bool TuModel::guardsArgumentAt(const CallSite &site, unsigned index) const {
  const clang::FunctionDecl *def =
      site.callee ? site.callee->getDefinition() : nullptr;
  if (!def || index >= def->getNumParams())
    return false;
  return heldAtCall(site, def).guarded.count(
             def->getParamDecl(index)->getNameAsString()) != 0;
}

HeldByCallers TuModel::heldAtCall(const CallSite &s,
                                  const clang::FunctionDecl *def) const {
  // Held at the call: critical-section objects, mutexes, and the objects
  // those mutexes belong to.
  std::set<std::string> lockedObjects, guardedObjects, exclusiveObjects;
  HeldByCallers here;
  for (const auto &ext : extentsOf(s.caller))
    if (s.offset >= ext.begin && s.offset <= ext.end) {
      if (ext.kind == LockExtent::Kind::CriticalSection) {
        lockedObjects.insert(ext.objects.begin(), ext.objects.end());
        continue;
      }
      // A Python object's mutex locks that object (followed through the
      // arguments below), not whatever the helper touches.
      if (ext.ownerIsObject)
        lockedObjects.insert(ext.owner);
      else if (!ext.objects.empty())
        here.mutexes.insert(ext.objects.front());
    }
  if (auto it = alwaysLocked_.find(s.caller); it != alwaysLocked_.end()) {
    lockedObjects.insert(it->second.objects.begin(), it->second.objects.end());
    guardedObjects.insert(it->second.guarded.begin(), it->second.guarded.end());
    exclusiveObjects.insert(it->second.exclusive.begin(),
                            it->second.exclusive.end());
    here.mutexes.insert(it->second.mutexes.begin(), it->second.mutexes.end());
  }
  auto in = [](const std::set<std::string> &set, const std::string &arg) {
    return set.count(arg) || set.count(baseObjectOf(arg));
  };
  // The caller's own guarded parameter, passed on before the caller hands
  // it to anybody else.
  const clang::FunctionDecl *callerDef = s.caller->getDefinition();
  auto keptGuarded = [&](const std::string &arg) {
    if (!guardedObjects.count(arg) || !callerDef)
      return false;
    for (unsigned k = 0; k < callerDef->getNumParams(); ++k)
      if (callerDef->getParamDecl(k)->getNameAsString() == arg)
        return ownedAtCall(s, k, Owned::CallersParameter);
    return false;
  };
  for (unsigned i = 0; i < def->getNumParams() && i < s.args.size(); ++i) {
    const std::string name = def->getParamDecl(i)->getNameAsString();
    // Locked by the caller; or guarded: locked, or an object the caller
    // just created and nobody else can reach (deque_copy extends its fresh
    // copy), which is no lock for anything else.
    if (in(lockedObjects, s.args[i]) ||
        (i < s.written.size() && in(lockedObjects, s.written[i]))) {
      here.objects.insert(name);
      here.guarded.insert(name);
      here.exclusive.insert(name);
    } else if (exclusiveObjects.count(s.args[i])) { // not its fields
      here.guarded.insert(name);
      here.exclusive.insert(name);
    } else if (!def->isExternallyVisible() && // every caller in view
               (keptGuarded(s.args[i]) || ownedAtCall(s, i, Owned::Argument))) {
      here.guarded.insert(name);
    }
  }
  return here;
}

namespace {

// Every variable's uses and `=` assignments in one walk of a body.
class UsesIndexer : public clang::RecursiveASTVisitor<UsesIndexer> {
public:
  explicit UsesIndexer(std::map<const clang::VarDecl *, VariableUses> &out)
      : out_(out) {}
  bool VisitDeclRefExpr(clang::DeclRefExpr *dre) {
    if (const auto *vd = llvm::dyn_cast<clang::VarDecl>(dre->getDecl()))
      out_[vd].uses.push_back(dre);
    return true;
  }
  bool VisitBinaryOperator(clang::BinaryOperator *bo) {
    if (bo->getOpcode() == clang::BO_Assign)
      if (const clang::VarDecl *vd = referencedVar(bo->getLHS()))
        out_[vd].assigned.push_back(bo->getRHS());
    return true;
  }

private:
  std::map<const clang::VarDecl *, VariableUses> &out_;
};

} // namespace

const VariableUses &TuModel::usesOf(const clang::VarDecl *vd,
                                    const clang::FunctionDecl *fn) const {
  static const VariableUses none;
  if (!vd || !fn || !fn->getBody())
    return none;
  auto [it, inserted] = variableUses_.try_emplace(fn);
  if (inserted) {
    UsesIndexer indexer(it->second);
    indexer.TraverseStmt(const_cast<clang::Stmt *>(fn->getBody()));
  }
  auto found = it->second.find(vd);
  return found == it->second.end() ? none : found->second;
}

} // namespace ftready::analysis
