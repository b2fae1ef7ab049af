#include "state_access.h"

#include "expr_text.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>

#include <filesystem>
#include <map>
#include <set>

namespace ftready::analysis {

namespace {

constexpr int kTpMethods = 64; // Py_tp_methods
constexpr int kTpGetset = 73;  // Py_tp_getset

// C APIs that change the container (or object) handed to them first.
bool mutatesFirstArgument(const std::string &api) {
  static const std::set<std::string> apis = {
      "PyList_Append", "PyList_Insert", "PyList_SetItem", "PyList_SetSlice",
      "PyList_Sort", "PyList_Reverse", "PyList_Extend", "PyList_Clear",
      "PyDict_SetItem", "PyDict_SetItemString", "PyDict_DelItem",
      "PyDict_DelItemString", "PyDict_Clear", "PyDict_Update", "PyDict_Merge",
      "PyDict_MergeFromSeq2", "PyDict_SetDefault", "PyDict_SetDefaultRef",
      "PyDict_Pop", "PyDict_PopString", "PySet_Add", "PySet_Discard",
      "PySet_Clear", "PySet_Pop", "PyObject_SetItem", "PyObject_DelItem",
      "PyObject_SetAttr", "PyObject_SetAttrString", "PyByteArray_Resize",
      "_PyBytes_Resize",
      // libc: the destination buffer comes first
      "strcpy", "strncpy", "strcat", "strncat", "memcpy", "memmove", "memset",
      "sprintf", "snprintf", "vsprintf", "vsnprintf", "strtok"};
  return apis.count(api) != 0;
}

// C APIs that read a container under its own lock and return strong
// references or copies (never a borrowed item, never an iteration the
// caller continues).
bool readsUnderItsLock(const std::string &api) {
  static const std::set<std::string> apis = {"PyList_GetItemRef",
                                             "PyDict_GetItemRef",
                                             "PyDict_GetItemStringRef",
                                             "PyList_Size",
                                             "PyDict_Size",
                                             "PyDict_Contains",
                                             "PyDict_ContainsString",
                                             "PySequence_Contains",
                                             "PyDict_Copy",
                                             "PyList_AsTuple",
                                             "PyList_GetSlice",
                                             "PySequence_List",
                                             "PySequence_Tuple",
                                             "PyDict_Keys",
                                             "PyDict_Values",
                                             "PyDict_Items",
                                             "PyObject_GetItem",
                                             "PySet_Contains",
                                             "PySet_Size",
                                             "PyObject_Length",
                                             "PyObject_Size"};
  return apis.count(api) != 0;
}

// Is an access through `via` one the API makes under the object's own lock
// (PyList_Append, PyDict_SetItem, PyList_GetItemRef)? Only a Python object
// handed to such an API is; Py_SIZE, PyList_GET_ITEM and borrowed-item
// calls are not.
bool apiLocked(const std::string &via, const clang::Expr *e) {
  return e->getType()->isPointerType() &&
         (mutatesFirstArgument(via) || readsUnderItsLock(via)) &&
         via.rfind("Py", 0) == 0;
}

std::string stringIn(const clang::Expr *e) {
  if (!e)
    return "";
  if (const auto *s =
          llvm::dyn_cast<clang::StringLiteral>(e->IgnoreParenImpCasts()))
    return s->getString().str();
  return "";
}

const clang::VarDecl *varIn(const clang::Expr *e) {
  if (!e)
    return nullptr;
  e = e->IgnoreParenCasts();
  if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(e))
    if (uo->getOpcode() == clang::UO_AddrOf)
      e = uo->getSubExpr()->IgnoreParenCasts();
  if (const auto *d = llvm::dyn_cast<clang::DeclRefExpr>(e))
    return llvm::dyn_cast<clang::VarDecl>(d->getDecl());
  return nullptr;
}

const clang::InitListExpr *initList(const clang::Expr *e) {
  const auto *ile =
      llvm::dyn_cast_or_null<clang::InitListExpr>(e ? e->IgnoreImplicit() : e);
  if (ile && !ile->isSemanticForm())
    ile = ile->getSemanticForm();
  return ile;
}

// The initialiser of the struct field named `field`.
const clang::Expr *fieldInit(const clang::InitListExpr *ile,
                             const std::string &field) {
  const auto *rd = ile->getType()->getAsRecordDecl();
  if (!rd)
    return nullptr;
  unsigned i = 0;
  for (const auto *f : rd->fields()) {
    if (i >= ile->getNumInits())
      break;
    if (f->getNameAsString() == field)
      return ile->getInit(i);
    ++i;
  }
  return nullptr;
}

std::string shortTypeName(const std::string &tpName) {
  return tpName.substr(tpName.rfind('.') + 1);
}

// The module's tables: which Python callable each C function is.
class CallableTables : public clang::RecursiveASTVisitor<CallableTables> {
public:
  explicit CallableTables(clang::ASTContext &ctx) : ctx_(ctx) {}

  bool VisitVarDecl(clang::VarDecl *vd) {
    const clang::InitListExpr *ile = initList(vd->getInit());
    if (!ile)
      return true;
    clang::QualType t = vd->getType();
    if (const auto *at = t->getAsArrayTypeUnsafe())
      t = at->getElementType();
    std::string type = recordName(t);
    const clang::VarDecl *key = vd->getCanonicalDecl();
    if (type == "PyMethodDef" || type == "PyGetSetDef" || type == "PyType_Slot")
      tables_[key] = {type, ile};
    else if (type == "PyType_Spec")
      noteSpec(ile);
    else if (type == "_typeobject")
      noteStaticType(ile);
    else if (type == "PyModuleDef")
      if (const auto *m = varIn(fieldInit(ile, "m_methods")))
        owners_[m->getCanonicalDecl()] = "";
    return true;
  }

  // Function -> its Python names.
  std::map<const clang::FunctionDecl *, std::vector<std::string>>
  names() const {
    std::map<const clang::FunctionDecl *, std::vector<std::string>> out;
    for (const auto &[var, table] : tables_) {
      auto owner = owners_.find(var);
      std::string prefix = owner == owners_.end() || owner->second.empty()
                               ? ""
                               : owner->second + ".";
      for (const auto *e : table.second->inits()) {
        const clang::InitListExpr *entry = initList(e);
        if (!entry || entry->getNumInits() < 2)
          continue;
        std::string name = stringIn(entry->getInit(0));
        if (name.empty())
          continue;
        if (table.first == "PyMethodDef") {
          add(out, functionIn(entry->getInit(1)), prefix + name);
        } else if (table.first == "PyGetSetDef") {
          add(out, functionIn(entry->getInit(1)), prefix + name + " (get)");
          if (entry->getNumInits() > 2)
            add(out, functionIn(entry->getInit(2)), prefix + name + " (set)");
        }
      }
    }
    return out;
  }

private:
  static void
  add(std::map<const clang::FunctionDecl *, std::vector<std::string>> &out,
      const clang::FunctionDecl *fd, const std::string &name) {
    if (fd)
      out[fd->getCanonicalDecl()].push_back(name);
  }

  void noteSpec(const clang::InitListExpr *spec) {
    std::string type = shortTypeName(stringIn(fieldInit(spec, "name")));
    const clang::VarDecl *slots = varIn(fieldInit(spec, "slots"));
    if (type.empty() || !slots)
      return;
    specs_.push_back({type, slots->getCanonicalDecl()});
    resolveSpecs();
  }

  // A spec may come before or after its slot array: resolved both times.
  void resolveSpecs() {
    for (const auto &[type, slotsVar] : specs_) {
      auto it = tables_.find(slotsVar);
      if (it == tables_.end() || it->second.first != "PyType_Slot")
        continue;
      for (const auto *e : it->second.second->inits()) {
        const clang::InitListExpr *slot = initList(e);
        if (!slot || slot->getNumInits() < 2)
          continue;
        auto id = intValue(slot->getInit(0), ctx_);
        if (id && (*id == kTpMethods || *id == kTpGetset))
          if (const auto *table = varIn(slot->getInit(1)))
            owners_[table->getCanonicalDecl()] = type;
      }
    }
  }

  void noteStaticType(const clang::InitListExpr *ile) {
    std::string type = shortTypeName(stringIn(fieldInit(ile, "tp_name")));
    if (type.empty())
      return;
    for (const char *field : {"tp_methods", "tp_getset"})
      if (const auto *table = varIn(fieldInit(ile, field)))
        owners_[table->getCanonicalDecl()] = type;
  }

  clang::ASTContext &ctx_;
  std::map<const clang::VarDecl *,
           std::pair<std::string, const clang::InitListExpr *>>
      tables_;
  std::map<const clang::VarDecl *, std::string> owners_; // table -> type
  std::vector<std::pair<std::string, const clang::VarDecl *>> specs_;

public:
  // Specs seen before their slot arrays are resolved once all is visited.
  void finish() { resolveSpecs(); }
};

bool isSynchronisationOrStatic(clang::QualType t,
                               const clang::SourceManager &sm) {
  if (const auto *at = t->getAsArrayTypeUnsafe())
    t = at->getElementType();
  t = t.getCanonicalType();
  if (t.isConstQualified() || t->isAtomicType() || t->isFunctionType())
    return true;
  // A type object, a module definition, a mutex: the API's own structs.
  if (const auto *rd = t->getAsRecordDecl())
    return sm.isInSystemHeader(rd->getLocation());
  return false;
}

// Mutable state a function can share with another: a global, a static.
bool isSharedVariable(const clang::VarDecl *vd) {
  if (!vd || !vd->hasGlobalStorage() || llvm::isa<clang::ParmVarDecl>(vd) ||
      vd->getTLSKind() != clang::VarDecl::TLS_None)
    return false;
  const auto &sm = vd->getASTContext().getSourceManager();
  return !sm.isInSystemHeader(vd->getLocation()) &&
         !isSynchronisationOrStatic(vd->getType(), sm);
}

std::string baseName(const std::string &path) {
  return std::filesystem::path(path).filename().string();
}

struct Use {
  bool write = false;
  std::string via;
};

class AccessCollector : public clang::RecursiveASTVisitor<AccessCollector> {
public:
  AccessCollector(
      const TuModel &model,
      const std::function<std::string(clang::SourceLocation)> &fileOf,
      const std::map<const clang::FunctionDecl *, std::vector<std::string>>
          &names)
      : model_(model), ctx_(model.context()), fileOf_(fileOf), names_(names) {}

  bool TraverseFunctionDecl(clang::FunctionDecl *fd) {
    // Module init and an object's own lifecycle (tp_new, tp_dealloc...) run
    // while nothing else can reach what they touch.
    if (!fd->doesThisDeclarationHaveABody() || model_.isInitOnly(fd) ||
        model_.isLifecycleOnly(fd))
      return true;
    std::string file = fileOf_(fd->getLocation());
    if (file.empty())
      return true;
    FunctionState fs;
    fs.function = fd->getNameAsString();
    fs.file = file;
    auto it = names_.find(fd->getCanonicalDecl());
    if (it != names_.end())
      fs.callables = it->second;
    current_ = fd;
    state_ = &fs;
    seen_.clear();
    TraverseStmt(fd->getBody());
    current_ = nullptr;
    state_ = nullptr;
    if (!fs.callables.empty() || !fs.accesses.empty() || !fs.calls.empty())
      map_.functions.push_back(std::move(fs));
    return true;
  }

  bool VisitDeclRefExpr(clang::DeclRefExpr *e) {
    const auto *vd = llvm::dyn_cast<clang::VarDecl>(e->getDecl());
    if (!state_ || !isSharedVariable(vd))
      return true;
    bool locked = !model_.locksHeldAt(current_, e->getBeginLoc()).empty();
    note(variableName(vd), e, locked);
    return true;
  }

  bool VisitMemberExpr(clang::MemberExpr *e) {
    const auto *field = llvm::dyn_cast<clang::FieldDecl>(e->getMemberDecl());
    if (!state_ || !field || !e->isArrow())
      return true;
    const clang::RecordDecl *rd = field->getParent();
    const auto &sm = ctx_.getSourceManager();
    if (sm.isInSystemHeader(rd->getLocation()) ||
        isSynchronisationOrStatic(field->getType(), sm))
      return true;
    std::string record = recordName(ctx_.getRecordType(rd));
    if (record.empty())
      return true;
    // A critical section on the field's object (self->list) or on its
    // owner (self) guards it.
    bool locked =
        model_.isLockedAt(current_, e->getBeginLoc(), canonicalText(e, ctx_));
    recordField(record, field, e, locked);
    return true;
  }

  bool VisitCallExpr(clang::CallExpr *call) {
    const auto *callee = call->getDirectCallee();
    const clang::FunctionDecl *def = callee ? callee->getDefinition() : nullptr;
    // The module's own functions: the API's inline ones touch no state of
    // the module's.
    if (!state_ || !def ||
        ctx_.getSourceManager().isInSystemHeader(def->getLocation()))
      return true;
    std::string name = def->getNameAsString();
    auto &calls = state_->calls;
    if (std::find(calls.begin(), calls.end(), name) == calls.end())
      calls.push_back(name);
    return true;
  }

  bool VisitIfStmt(clang::IfStmt *s) {
    if (!state_ || !s->getThen())
      return true;
    const clang::VarDecl *var = testedForNull(s->getCond());
    if (!isSharedVariable(var))
      return true;
    const clang::BinaryOperator *store = assignmentTo(var, s->getThen());
    if (!store || !model_.locksHeldAt(current_, store->getBeginLoc()).empty())
      return true;
    const auto &sm = ctx_.getSourceManager();
    LazyInit l;
    l.state = variableName(var);
    l.file = state_->file;
    l.first_line = sm.getExpansionLineNumber(s->getBeginLoc());
    l.last_line = sm.getExpansionLineNumber(s->getThen()->getEndLoc());
    state_->lazy_inits.push_back(std::move(l));
    return true;
  }

  // Callables whose C function is defined in another translation unit (a
  // method table in module.c, methods in type.c): named here without a
  // file, joined to the definition by linkCallables once every unit is in.
  StateMap take() {
    for (const auto &[fd, callables] : names_) {
      const clang::FunctionDecl *def = fd->getDefinition();
      if (def && def->doesThisDeclarationHaveABody())
        continue;
      FunctionState fs;
      fs.function = fd->getNameAsString();
      fs.callables = callables;
      map_.functions.push_back(std::move(fs));
    }
    return std::move(map_);
  }

private:
  std::string variableName(const clang::VarDecl *vd) const {
    std::string file =
        baseName(ctx_.getSourceManager()
                     .getFilename(ctx_.getSourceManager().getExpansionLoc(
                         vd->getLocation()))
                     .str());
    if (vd->isStaticLocal())
      if (const auto *fn =
              llvm::dyn_cast<clang::FunctionDecl>(vd->getDeclContext()))
        return "static " + vd->getNameAsString() + " in " +
               fn->getNameAsString() + " (" + file + ")";
    return "global " + vd->getNameAsString() + " (" + file + ")";
  }

  void recordField(const std::string &record, const clang::FieldDecl *field,
                   const clang::Expr *e, bool locked) {
    note("field " + record + "." + field->getNameAsString(), e, locked);
  }

  void note(const std::string &state, const clang::Expr *e, bool locked) {
    Use use = classify(e);
    if (!seen_.insert({state, use.write, locked, use.via}).second)
      return;
    StateAccess a;
    a.state = state;
    a.write = use.write;
    a.locked = locked;
    a.via = use.via;
    a.api_locked = apiLocked(use.via, e);
    a.line = ctx_.getSourceManager().getExpansionLineNumber(e->getBeginLoc());
    state_->accesses.push_back(std::move(a));
  }

  // Is the lvalue `e` written, read, or handed to a C API?
  Use classify(const clang::Expr *e) const {
    const clang::Stmt *cur = e;
    for (int depth = 0; depth < 16; ++depth) {
      auto parents = ctx_.getParents(*cur);
      if (parents.empty())
        return {};
      const clang::Stmt *p = parents[0].get<clang::Stmt>();
      if (!p)
        return {};
      if (llvm::isa<clang::ParenExpr>(p) || llvm::isa<clang::CastExpr>(p)) {
        cur = p;
        continue;
      }
      if (const auto *ase = llvm::dyn_cast<clang::ArraySubscriptExpr>(p)) {
        if (ase->getBase()->IgnoreParenImpCasts() != cur &&
            ase->getBase() != cur)
          return {}; // an index is read
        cur = p;
        continue;
      }
      if (const auto *me = llvm::dyn_cast<clang::MemberExpr>(p)) {
        if (me->isArrow())
          return {}; // the pointer is read; the field is its own state
        cur = p;
        continue;
      }
      if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(p))
        return {bo->isAssignmentOp() && bo->getLHS() == cur, ""};
      if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(p)) {
        if (uo->isIncrementDecrementOp() || uo->getOpcode() == clang::UO_AddrOf)
          return {true, ""};
        if (uo->getOpcode() == clang::UO_Deref) {
          cur = p;
          continue;
        }
        return {};
      }
      if (const auto *call = llvm::dyn_cast<clang::CallExpr>(p)) {
        const auto *callee = call->getDirectCallee();
        if (!callee || call->getCallee() == cur)
          return {};
        std::string name = callee->getNameAsString();
        bool first = call->getNumArgs() > 0 && call->getArg(0) == cur;
        return {first && mutatesFirstArgument(name), name};
      }
      return {};
    }
    return {};
  }

  // `v == NULL`, `!v`, `NULL == v`, `v == 0`, through __builtin_expect.
  const clang::VarDecl *testedForNull(const clang::Expr *cond) const {
    if (!cond)
      return nullptr;
    cond = cond->IgnoreParenImpCasts();
    if (const auto *call = llvm::dyn_cast<clang::CallExpr>(cond))
      if (call->getBuiltinCallee() && call->getNumArgs() == 2)
        cond = call->getArg(0)->IgnoreParenImpCasts();
    if (const auto *uo = llvm::dyn_cast<clang::UnaryOperator>(cond))
      if (uo->getOpcode() == clang::UO_LNot)
        return referencedVarDirect(uo->getSubExpr());
    const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(cond);
    if (!bo || bo->getOpcode() != clang::BO_EQ)
      return nullptr;
    auto isNull = [&](const clang::Expr *x) {
      return x->isNullPointerConstant(
                 ctx_, clang::Expr::NPC_ValueDependentIsNotNull) !=
             clang::Expr::NPCK_NotNull;
    };
    if (isNull(bo->getRHS()))
      return referencedVarDirect(bo->getLHS());
    if (isNull(bo->getLHS()))
      return referencedVarDirect(bo->getRHS());
    return nullptr;
  }

  static const clang::VarDecl *referencedVarDirect(const clang::Expr *e) {
    const auto *d =
        llvm::dyn_cast<clang::DeclRefExpr>(e->IgnoreParenImpCasts());
    return d ? llvm::dyn_cast<clang::VarDecl>(d->getDecl()) : nullptr;
  }

  // The first `var = ...` inside `s`.
  static const clang::BinaryOperator *assignmentTo(const clang::VarDecl *var,
                                                   const clang::Stmt *s) {
    struct Finder : clang::RecursiveASTVisitor<Finder> {
      const clang::VarDecl *var;
      const clang::BinaryOperator *found = nullptr;
      bool VisitBinaryOperator(clang::BinaryOperator *bo) {
        if (!found && bo->getOpcode() == clang::BO_Assign &&
            referencedVarDirect(bo->getLHS()) == var)
          found = bo;
        return !found;
      }
    } f;
    f.var = var;
    f.TraverseStmt(const_cast<clang::Stmt *>(s));
    return f.found;
  }

  const TuModel &model_;
  clang::ASTContext &ctx_;
  const std::function<std::string(clang::SourceLocation)> &fileOf_;
  const std::map<const clang::FunctionDecl *, std::vector<std::string>> &names_;
  const clang::FunctionDecl *current_ = nullptr;
  FunctionState *state_ = nullptr;
  std::set<std::tuple<std::string, bool, bool, std::string>> seen_;
  StateMap map_;
};

} // namespace

StateMap
buildStateMap(const TuModel &model,
              const std::function<std::string(clang::SourceLocation)> &fileOf) {
  clang::ASTContext &ctx = model.context();
  CallableTables tables(ctx);
  tables.TraverseDecl(ctx.getTranslationUnitDecl());
  tables.finish();
  auto names = tables.names();
  AccessCollector collector(model, fileOf, names);
  collector.TraverseDecl(ctx.getTranslationUnitDecl());
  return collector.take();
}

} // namespace ftready::analysis
