#include "ownership.h"

#include "expr_text.h"
#include "struct_scope.h"

#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>
#include <llvm/Support/Path.h>

#include <algorithm>
#include <set>
#include <utility>

namespace ftready::analysis {

namespace {

const std::set<std::string> kFreshConstructors = {
    "PyList_New",
    "PyDict_New",
    "PySet_New",
    "PyFrozenSet_New",
    "PyTuple_New",
    "PySequence_List",
    "PySequence_Tuple",
    "PyDict_Copy",
    "PyList_GetSlice",
    "PyList_AsTuple",
    "PyDict_Keys",
    "PyDict_Values",
    "PyDict_Items",
    "PyMapping_Keys",
    "PyMapping_Values",
    "PyMapping_Items",
    "PyTuple_Pack",
    "PyTuple_GetSlice",
    "_PyObject_New",
    "_PyObject_GC_New",
    "PyType_GenericAlloc",
    "PyType_GenericNew",
    // str methods that always build a new list
    "PyUnicode_Split",
    "PyUnicode_RSplit",
    "PyUnicode_Splitlines",
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

// Reference-count and GC-tracking operations never publish their argument
// (a tracked object is reachable through gc.get_objects(), which no code
// uses to share a half-built object).
const std::set<std::string> kRefcountOperations = {
    "Py_INCREF",
    "Py_XINCREF",
    "Py_DECREF",
    "Py_XDECREF",
    "_Py_INCREF",
    "_Py_DECREF",
    "Py_IncRef",
    "Py_DecRef",
    "_Py_IsImmortal",
    "Py_REFCNT",
    "_Py_REFCNT",
    "Py_TYPE",
    "_Py_TYPE",
    "Py_IS_TYPE",
    "_Py_IsOwnedByCurrentThread",
    "PyObject_GC_Track",
    "PyObject_GC_UnTrack",
    "_PyObject_GC_TRACK",
    "_PyObject_GC_UNTRACK",
};

// Calls that read a container handed to them in any position and keep no
// reference to it.
const std::set<std::string> kNonRetainingReaders = {
    "PyUnicode_Join",
    "PySequence_Tuple",
    "PySequence_List",
    "PyList_AsTuple",
    "PyObject_Length",
    "PyObject_Size",
    "PySequence_Size",
    "PySequence_Length",
    // checks that every key is a string; keeps nothing
    "PyArg_ValidateKeywordArguments",
    // a critical section holds the object's lock until it ends, and keeps
    // nothing after (the public API's functions have no body to follow)
    "PyCriticalSection_Begin",
    "PyCriticalSection2_Begin",
};

// Values are followed this many steps deep (a helper's parameter, a local's
// assignments, a maker's returns).
constexpr int kMaxDepth = 4;
// Whether a helper keeps its parameter is followed through this many
// helpers at once (each such answer is kept, see paramKeptInWholeCall).
constexpr unsigned kMaxOpenQuestions = 16;

// Does `fn` (a definition) keep its parameter `index` in the call: no use
// before offset `before` hands it to somebody who can keep it?
bool paramStaysPrivate(const clang::FunctionDecl *fn, unsigned index,
                       unsigned before, const TuModel &model, int depth);

// What a function does with a parameter in the whole call: keeps it, keeps
// it but returns it at the end (Py_NewRef), or hands it to somebody.
using Kept = KeptParameters::Answer;
Kept paramKeptInWholeCall(const clang::FunctionDecl *fn, unsigned index,
                          const TuModel &model);

bool storedInPrivateStruct(const clang::Expr *lhs, const TuModel &model,
                           int depth);

// Does this use of the variable (or field) hand it to somebody who can keep
// it? With `returned`, a use that returns it from the function (ending the
// call) is not counted, and is said there.
bool publishes(const clang::Expr *use, const TuModel &model, int depth,
               bool *returned = nullptr) {
  clang::ASTContext &ctx = model.context();
  clang::DynTypedNode parentNode = parentIgnoringCasts(use, ctx);
  const clang::Stmt *parent = parentNode.get<clang::Stmt>();
  if (!parent) {
    // T *x = value: a static keeps it, and a local is an alias we do not
    // follow.
    return parentNode.get<clang::VarDecl>() != nullptr;
  }
  // c ? value : other, (x, value): whatever receives the whole expression
  // receives the value.
  if (const auto *cond =
          llvm::dyn_cast<clang::AbstractConditionalOperator>(parent))
    if (cond->getCond()->IgnoreParenCasts() != use)
      return publishes(cond, model, depth, returned);
  if (const auto *comma = llvm::dyn_cast<clang::BinaryOperator>(parent);
      comma && comma->getOpcode() == clang::BO_Comma &&
      comma->getRHS()->IgnoreParenCasts() == use)
    return publishes(comma, model, depth, returned);
  if (const auto *call = llvm::dyn_cast<clang::CallExpr>(parent)) {
    const auto *callee = call->getDirectCallee();
    if (!callee)
      return true;
    std::string name = callee->getNameAsString();
    if (kRefcountOperations.count(name) || kNonRetainingReaders.count(name))
      return false;
    if (kContainerOperations.count(name) && call->getNumArgs() > 0 &&
        call->getArg(0)->IgnoreParenCasts() == use)
      return false;
    // A helper of this translation unit that keeps the argument in the call.
    const clang::FunctionDecl *def = callee->getDefinition();
    if (!def || !def->getBody())
      return true;
    bool comesBack = false; // the call's value is the argument
    for (unsigned i = 0; i < call->getNumArgs(); ++i) {
      if (call->getArg(i)->IgnoreParenCasts() != use)
        continue;
      if (i >= def->getNumParams()) // a variadic argument: not followed
        return true;
      Kept kept = paramKeptInWholeCall(def, i, model);
      if (kept == Kept::HandedOn)
        return true;
      comesBack |= kept == Kept::Returned;
    }
    return comesBack && publishes(call, model, depth, returned);
  }
  if (const auto *bo = llvm::dyn_cast<clang::BinaryOperator>(parent)) {
    // Stored anywhere, even in another local (an alias we do not follow),
    // but a field of a struct that stays in the call.
    return bo->isAssignmentOp() && bo->getRHS()->IgnoreParenCasts() == use &&
           !storedInPrivateStruct(bo->getLHS(), model, depth);
  }
  if (llvm::isa<clang::ReturnStmt>(parent)) {
    if (returned)
      *returned = true;
    return returned == nullptr;
  }
  if (llvm::isa<clang::InitListExpr>(parent))
    return true;
  return false;
}

bool returnsFreshObject(const clang::FunctionDecl *fn, const TuModel &model,
                        int depth);

// The generic call APIs, whose first argument is the callable.
const std::set<std::string> kCallApis = {
    "PyObject_Call",         "PyObject_CallObject",
    "PyObject_CallNoArgs",   "PyObject_CallOneArg",
    "PyObject_CallFunction", "PyObject_CallFunctionObjArgs",
    "PyObject_Vectorcall",   "PyObject_VectorcallDict",
    "_PyObject_CallNoArgs",  "_PyObject_CallFunction_SizeT",
    "_PyObject_Vectorcall",
};

bool isPyTypeObjectPointer(clang::QualType t) {
  const auto *record =
      t->isPointerType() ? t->getPointeeType()->getAsRecordDecl() : nullptr;
  return record && record->getName() == "_typeobject";
}

// Was `d` written by the module itself: not in a system header, and not in
// the folder of Python's own headers (where PyObject's struct is)?
bool isModulesOwn(const clang::Decl *d, clang::ASTContext &ctx) {
  const auto &sm = ctx.getSourceManager();
  clang::SourceLocation at = sm.getExpansionLoc(d->getLocation());
  if (at.isInvalid() || sm.isInSystemHeader(at))
    return false;
  auto lookup = ctx.getTranslationUnitDecl()->lookup(
      clang::DeclarationName(&ctx.Idents.get("_object")));
  if (lookup.empty())
    return true;
  std::string pythonHeaders =
      llvm::sys::path::parent_path(
          sm.getFilename(sm.getExpansionLoc((*lookup.begin())->getLocation())))
          .str() +
      "/";
  return sm.getFilename(at).str().rfind(pythonHeaders, 0) != 0;
}

// Is `e` (ignoring casts) one of the module's own types, whose call makes a
// new instance: Py_TYPE(x) of an object struct of the module's own
// (deque_copy: Py_TYPE(deque) called for a subclass's copy), a static type
// object of the module, or a type kept in the module's state? Not Python's
// own types (tuple(t), str(s) and friends can return their argument), nor
// what cannot be told apart from a metaclass. A Python subclass whose
// __new__ or __init__ hands the new object to others breaks this, as it
// breaks CPython's own reasoning in deque_copy.
bool isInstanceMakingType(const clang::Expr *e, clang::ASTContext &ctx) {
  e = e->IgnoreParenCasts();
  if (!isPyTypeObjectPointer(e->getType()))
    return false;
  if (const auto *call = llvm::dyn_cast<clang::CallExpr>(e)) {
    const auto *callee = call->getDirectCallee();
    if (!callee || callee->getName() != "Py_TYPE" || call->getNumArgs() != 1)
      return false;
    clang::QualType of = call->getArg(0)->IgnoreParenCasts()->getType();
    const auto *record =
        of->isPointerType() ? of->getPointeeType()->getAsRecordDecl() : nullptr;
    return record && isModulesOwn(record, ctx);
  }
  if (const auto *addr = llvm::dyn_cast<clang::UnaryOperator>(e)) {
    const auto *ref =
        llvm::dyn_cast<clang::DeclRefExpr>(addr->getSubExpr()->IgnoreParens());
    return addr->getOpcode() == clang::UO_AddrOf && ref &&
           llvm::isa<clang::VarDecl>(ref->getDecl()) &&
           isModulesOwn(ref->getDecl(), ctx);
  }
  if (const auto *member = llvm::dyn_cast<clang::MemberExpr>(e)) {
    const auto *field = member->getMemberDecl();
    return isModulesOwn(field, ctx);
  }
  return false;
}

bool isFreshValue(const clang::Expr *e, const TuModel &model, int depth = 0) {
  clang::ASTContext &ctx = model.context();
  e = e->IgnoreParenCasts();
  if (e->isNullPointerConstant(ctx, clang::Expr::NPC_ValueDependentIsNull))
    return true;
  if (const auto *call = llvm::dyn_cast<clang::CallExpr>(e)) {
    // Calling a type: a new instance of it.
    if (const auto *callee = call->getDirectCallee();
        callee && kCallApis.count(callee->getNameAsString()) &&
        call->getNumArgs() > 0 && isInstanceMakingType(call->getArg(0), ctx))
      return true;
    // The module's own tp_new makes a new instance too, and so does any
    // function of this translation unit that returns only new objects.
    if (const auto *callee = call->getDirectCallee())
      return isFreshConstructor(callee->getNameAsString()) ||
             model.roleOf(callee) == Role::TypeNew ||
             returnsFreshObject(callee, model, depth + 1);
    // type->tp_alloc(type, 0): a new instance.
    if (const auto *me = llvm::dyn_cast<clang::MemberExpr>(
            call->getCallee()->IgnoreParenCasts()))
      return me->getMemberDecl()->getNameAsString() == "tp_alloc";
  }
  return false;
}

// A variable whose address is taken (PyArg_ParseTuple(args, "O", &o),
// Py_SETREF(o, ...)) can receive anything: its assignments do not say what
// it holds. Py_CLEAR's own &o only stores NULL.
bool addressTaken(const clang::DeclRefExpr *use, clang::ASTContext &ctx) {
  const auto *addr = llvm::dyn_cast_or_null<clang::UnaryOperator>(
      parentStmtIgnoringCasts(use, ctx));
  return addr && addr->getOpcode() == clang::UO_AddrOf &&
         !insideMacro(addr->getBeginLoc(), "Py_CLEAR", ctx);
}

// Is `use` inside a loop that also holds `offset`? Then a use after the
// offset in the text runs before it on the next iteration.
bool inLoopAround(const clang::Stmt *use, unsigned offset,
                  const TuModel &model) {
  clang::ASTContext &ctx = model.context();
  for (auto parents = ctx.getParents(*use); !parents.empty();
       parents = ctx.getParents(parents[0])) {
    if (parents[0].get<clang::FunctionDecl>())
      break;
    const auto *s = parents[0].get<clang::Stmt>();
    if (s &&
        (llvm::isa<clang::ForStmt>(s) || llvm::isa<clang::WhileStmt>(s) ||
         llvm::isa<clang::DoStmt>(s)) &&
        model.offsetOf(s->getBeginLoc()) <= offset &&
        offset <= model.offsetOf(s->getEndLoc()))
      return true;
  }
  return false;
}

// Does some use of a variable, before `offset` or in a loop around it,
// hand it on, or take its address? Returning it ends the call: a return
// earlier in the text is on another path than `offset`, and one at the end
// hands it on only once the call is over (said in `returned`).
bool handedOnBefore(const VariableUses &uses, unsigned offset,
                    const TuModel &model, int depth, bool *returned = nullptr) {
  bool ignored = false;
  for (const auto *use : uses.uses) {
    if (addressTaken(use, model.context()))
      return true;
    if ((model.offsetOf(use->getBeginLoc()) < offset ||
         inLoopAround(use, offset, model)) &&
        publishes(use, model, depth, returned ? returned : &ignored))
      return true;
  }
  return false;
}

// An initialiser that puts nothing shared in the struct: pointers NULL or
// fresh, anything else a plain value.
bool isFreshInitialiser(const clang::Expr *init, const TuModel &model);

// The function whose body holds `s`.
const clang::FunctionDecl *enclosingFunction(const clang::Stmt *s,
                                             clang::ASTContext &ctx) {
  for (auto parents = ctx.getParents(*s); !parents.empty();
       parents = ctx.getParents(parents[0]))
    if (const auto *fn = parents[0].get<clang::FunctionDecl>())
      return fn;
  return nullptr;
}

// Is `member` a field of a struct that stays in the call: a local, or a
// helper's pointer to a caller's local (struct_scope.h)?
bool inPrivateStruct(const clang::MemberExpr *member, const TuModel &model) {
  // The struct under its own type: ((Other *)a)->target reads another
  // struct's field, whose stores say nothing about what `a` holds.
  const auto *ref = llvm::dyn_cast<clang::DeclRefExpr>(
      member->getBase()->IgnoreParenImpCasts());
  const clang::VarDecl *base =
      ref ? llvm::dyn_cast<clang::VarDecl>(ref->getDecl()) : nullptr;
  if (!base)
    return false;
  if (member->isArrow())
    return parameterIsPrivateStruct(llvm::dyn_cast<clang::ParmVarDecl>(base),
                                    model);
  return !llvm::isa<clang::ParmVarDecl>(base) &&
         localStructStaysInCall(base, model);
}

// Is `lhs` a field of a struct that stays in the call (regex's
// `args.pattern = pattern`), whose field no access anywhere in the file
// hands on? Then a value stored there is still the call's own.
bool storedInPrivateStruct(const clang::Expr *lhs, const TuModel &model,
                           int depth) {
  clang::ASTContext &ctx = model.context();
  const auto *member =
      llvm::dyn_cast<clang::MemberExpr>(lhs->IgnoreParenCasts());
  if (!member || depth > kMaxDepth || !inPrivateStruct(member, model))
    return false;
  const auto *field = llvm::dyn_cast<clang::FieldDecl>(member->getMemberDecl());
  if (!field)
    return false;
  for (const auto *access : model.accessesOf(field)) {
    const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(
        parentStmtIgnoringCasts(access, ctx));
    if (bo && bo->isAssignmentOp() &&
        bo->getLHS()->IgnoreParenCasts() == access)
      continue; // a store into the field: judged where it is stored from
    if (fieldAddressTaken(access, ctx) || publishes(access, model, depth + 1))
      return false;
  }
  return true;
}

bool isFreshInitialiser(const clang::Expr *init, const TuModel &model) {
  init = init->IgnoreImplicit();
  if (llvm::isa<clang::ImplicitValueInitExpr>(init))
    return true;
  const auto *list = llvm::dyn_cast<clang::InitListExpr>(init);
  if (!list)
    return false; // a copy of another struct, a call's result
  if (!list->isSemanticForm() && list->getSemanticForm())
    list = list->getSemanticForm();
  for (const clang::Expr *e : list->inits()) {
    if (!e)
      continue;
    const clang::Expr *inner = e->IgnoreImplicit();
    if (llvm::isa<clang::InitListExpr>(inner)) {
      if (!isFreshInitialiser(inner, model))
        return false;
    } else if (e->getType()->isPointerType() && !isFreshValue(e, model)) {
      return false;
    }
  }
  return true;
}

// A value stored into `field` in `fn` that nobody else holds for the
// whole call: a fresh object, a local or parameter holding one
// (`args.pattern = pattern`), or the same field of another private struct.
bool isFreshFieldValue(const clang::Expr *value, const clang::FieldDecl *field,
                       const clang::FunctionDecl *fn, const TuModel &model,
                       int depth) {
  if (isFreshValue(value, model, depth))
    return true;
  if (const auto *member =
          llvm::dyn_cast<clang::MemberExpr>(value->IgnoreParenCasts()))
    return member->getMemberDecl() == field && inPrivateStruct(member, model);
  const clang::VarDecl *vd = referencedVar(value);
  if (const auto *param = llvm::dyn_cast_or_null<clang::ParmVarDecl>(vd))
    return parameterHoldsFreshObject(param, fn, ~0u, model, depth + 1);
  return isPrivateLocal(vd, fn, ~0u, model, depth + 1);
}

// Does a local struct that stays in its call start from, and get only,
// values that put nothing shared in it: an initialiser of NULL or fresh
// pointers, or a copy of another such struct (`subargs = *args`)?
bool startsPrivate(const clang::VarDecl *local, const TuModel &model) {
  const clang::FunctionDecl *fn = llvm::dyn_cast_or_null<clang::FunctionDecl>(
      local->getParentFunctionOrMethod());
  if (local->hasInit() && !isFreshInitialiser(local->getInit(), model) &&
      !isPrivateStructValue(local->getInit(), model))
    return false;
  for (const clang::Expr *value : model.usesOf(local, fn).assigned)
    if (!isPrivateStructValue(value, model))
      return false;
  return true;
}

// Does every store into `field`, anywhere in the TU, put a fresh object in
// it, does every private struct of its type start without a shared one,
// and does no access hand the object on?
bool fieldHoldsOnlyFreshObjects(const clang::FieldDecl *field,
                                const TuModel &model, int depth) {
  clang::ASTContext &ctx = model.context();
  if (depth > kMaxDepth)
    return false;
  bool stored = false;
  for (const auto *access : model.accessesOf(field)) {
    const clang::Stmt *parent = parentStmtIgnoringCasts(access, ctx);
    if (const auto *bo = llvm::dyn_cast_or_null<clang::BinaryOperator>(parent);
        bo && bo->getOpcode() == clang::BO_Assign &&
        bo->getLHS()->IgnoreParenCasts() == access) {
      if (!isFreshFieldValue(bo->getRHS(), field,
                             enclosingFunction(access, ctx), model, depth))
        return false;
      stored = true;
      continue;
    }
    // &b.list handed to PyArg_ParseTuple or Py_SETREF stores anything.
    if (fieldAddressTaken(access, ctx) || publishes(access, model, depth))
      return false;
  }
  for (const clang::VarDecl *local : stayingLocalsOf(field->getParent(), model))
    if (!startsPrivate(local, model))
      return false;
  return stored;
}

// buffer->list / buffer.list, where the struct stays in this call (a local,
// or a helper's parameter that is always a caller's local) and the field
// only ever holds objects created fresh.
bool isPrivateStructField(const clang::MemberExpr *member, const TuModel &model,
                          int depth) {
  const auto *field = llvm::dyn_cast<clang::FieldDecl>(member->getMemberDecl());
  return field && inPrivateStruct(member, model) &&
         fieldHoldsOnlyFreshObjects(field, model, depth);
}

} // namespace

namespace {

class Returns : public clang::RecursiveASTVisitor<Returns> {
public:
  bool VisitReturnStmt(clang::ReturnStmt *r) {
    out.push_back(r);
    return true;
  }
  std::vector<const clang::ReturnStmt *> out;
};

} // namespace

// A local of `fn` that holds only fresh objects, none handed on before
// `useOffset`.
bool isPrivateLocal(const clang::VarDecl *vd, const clang::FunctionDecl *fn,
                    unsigned useOffset, const TuModel &model, int depth) {
  if (!vd || !fn || !fn->getBody() || !vd->hasLocalStorage() ||
      llvm::isa<clang::ParmVarDecl>(vd) || depth > kMaxDepth)
    return false;
  const VariableUses &uses = model.usesOf(vd, fn);
  if (!vd->hasInit() && uses.assigned.empty())
    return false;
  if (vd->hasInit() && !isFreshValue(vd->getInit(), model, depth))
    return false;
  for (const auto *value : uses.assigned)
    if (!isFreshValue(value, model, depth))
      return false;
  return !handedOnBefore(uses, useOffset, model, depth);
}

namespace {

// Does `fn` return only new objects nobody else holds: NULL, a fresh
// constructor's result, or a local of its own it has not handed on?
// (copyPVector(), newPvec() in pyrsistent: helpers that build the result.)
bool returnsFreshObject(const clang::FunctionDecl *fn, const TuModel &model,
                        int depth) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  if (!def || !def->getBody() || depth > kMaxDepth ||
      !def->getReturnType()->isPointerType())
    return false;
  Returns returns;
  returns.TraverseStmt(const_cast<clang::Stmt *>(def->getBody()));
  if (returns.out.empty())
    return false;
  for (const clang::ReturnStmt *r : returns.out) {
    const clang::Expr *value = r->getRetValue();
    if (!value)
      return false;
    if (isFreshValue(value, model, depth))
      continue;
    if (!isPrivateLocal(referencedVar(value), def,
                        model.offsetOf(r->getBeginLoc()), model, depth))
      return false;
  }
  return true;
}

bool paramKeptUntil(const clang::FunctionDecl *fn, unsigned index,
                    unsigned before, const TuModel &model, int depth,
                    bool *returned = nullptr) {
  const VariableUses &uses = model.usesOf(fn->getParamDecl(index), fn);
  if (!uses.assigned.empty())
    return false; // an alias we do not follow
  return !handedOnBefore(uses, before, model, depth, returned);
}

// What `fn` does with its parameter `index` in the whole call. Helpers call
// each other in cycles (deque_extend_impl -> deque_extend ->
// deque_extend_impl) and are asked about again and again, so each answer is
// kept, computed from depth 0 whoever asks.
//
// A question met again while it is open is first assumed kept: a cycle
// hands nothing on by itself, and every other use still decides. If the
// answer then comes out "returned" after somebody leaned on that
// assumption, the value of the cycle's call is the parameter after all, so
// it is answered again with "returned" assumed, which follows that value
// (`registry = settle(v, n - 1); ... return v;`).
//
// An answer that leaned on an assumption about a question still open
// further out is not kept, since that question may yet turn out handed on;
// nor is one cut short by the bound on open questions. "Handed on" from a
// whole computation is certain either way.
Kept answerWholeCall(const clang::FunctionDecl *fn, unsigned index,
                     const TuModel &model) {
  bool returned = false;
  if (!paramKeptUntil(fn, index, ~0u, model, 0, &returned))
    return Kept::HandedOn;
  return returned ? Kept::Returned : Kept::Kept;
}

Kept paramKeptInWholeCall(const clang::FunctionDecl *fn, unsigned index,
                          const TuModel &model) {
  if (!fn || !fn->getBody() || index >= fn->getNumParams())
    return Kept::HandedOn;
  KeptParameters &memo = model.keptParameters();
  auto key = std::make_pair(fn, index);
  if (auto it = memo.answers.find(key); it != memo.answers.end()) {
    if (it->second.answer != Kept::InProgress)
      return it->second.answer;
    memo.lowestAssumed = std::min(memo.lowestAssumed, it->second.position);
    it->second.leanedOn = true;
    return it->second.assumed;
  }
  if (memo.open >= kMaxOpenQuestions) {
    memo.truncated = true;
    return Kept::HandedOn;
  }
  unsigned position = memo.open++;
  unsigned outer = memo.lowestAssumed;
  bool outerTruncated = memo.truncated;
  Kept assumed = Kept::Kept;
  Kept answer;
  unsigned lowest;
  bool truncated;
  for (;;) {
    memo.answers[key] = {Kept::InProgress, position, assumed, false};
    memo.lowestAssumed = ~0u;
    memo.truncated = false;
    answer = answerWholeCall(fn, index, model);
    lowest = memo.lowestAssumed;
    truncated = memo.truncated;
    bool leaned = memo.answers[key].leanedOn;
    if (!(leaned && assumed == Kept::Kept && answer == Kept::Returned))
      break;
    assumed = Kept::Returned; // once: "returned" is the weaker assumption
  }
  memo.lowestAssumed = std::min(outer, lowest < position ? lowest : ~0u);
  memo.truncated = outerTruncated || truncated;
  --memo.open;
  bool certain =
      answer == Kept::HandedOn ? !truncated : lowest >= position && !truncated;
  if (certain)
    memo.answers[key] = {answer, position, assumed, false};
  else
    memo.answers.erase(key);
  return answer;
}

bool paramStaysPrivate(const clang::FunctionDecl *fn, unsigned index,
                       unsigned before, const TuModel &model, int depth) {
  if (!fn || !fn->getBody() || index >= fn->getNumParams())
    return false;
  if (before == ~0u)
    return paramKeptInWholeCall(fn, index, model) != Kept::HandedOn;
  return depth <= kMaxDepth && paramKeptUntil(fn, index, before, model, depth);
}

} // namespace

namespace {

// Does this call hand the helper's parameter `index` a new object its
// caller has not handed on before the call?
bool passesFreshObject(const CallSite &site, unsigned index,
                       const TuModel &model, int depth) {
  const clang::FunctionDecl *caller =
      site.caller ? site.caller->getDefinition() : nullptr;
  if (!caller || index >= site.argExprs.size())
    return false;
  const clang::Expr *arg = site.argExprs[index];
  if (isFreshValue(arg, model, depth + 1))
    return true;
  // args->pattern, a field of a struct private to the call that only
  // ever holds new objects (regex's build_* helpers).
  if (const auto *member =
          llvm::dyn_cast<clang::MemberExpr>(arg->IgnoreParenCasts()))
    return isPrivateStructField(member, model, depth + 1);
  const clang::VarDecl *vd = referencedVar(arg);
  if (const auto *forwarded = llvm::dyn_cast_or_null<clang::ParmVarDecl>(vd))
    return parameterHoldsFreshObject(forwarded, caller, site.offset, model,
                                     depth + 1);
  return isPrivateLocal(vd, caller, site.offset, model, depth + 1);
}

} // namespace

// Does the helper `fn` get, at every call, a new object its caller has not
// handed on, and keep it in the call until `before`?
bool parameterHoldsFreshObject(const clang::ParmVarDecl *param,
                               const clang::FunctionDecl *fn, unsigned before,
                               const TuModel &model, int depth) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  if (!param || depth > kMaxDepth || !isInternalHelper(def, model))
    return false;
  unsigned index = param->getFunctionScopeIndex();
  if (!paramStaysPrivate(def, index, before, model, depth))
    return false;
  const std::vector<const CallSite *> &sites = model.callsOf(def);
  if (sites.empty())
    return false;
  for (const CallSite *site : sites)
    if (!passesFreshObject(*site, index, model, depth))
      return false;
  return true;
}

bool parameterKeptPrivate(const clang::ParmVarDecl *param,
                          const clang::FunctionDecl *fn, unsigned before,
                          const TuModel &model) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  return param && def &&
         paramStaysPrivate(def, param->getFunctionScopeIndex(), before, model,
                           0);
}

namespace {

// The parameter of `fn` an argument text names, if it is one.
const clang::ParmVarDecl *parameterNamed(const clang::FunctionDecl *fn,
                                         const std::string &name) {
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  for (unsigned i = 0; def && i < def->getNumParams(); ++i)
    if (def->getParamDecl(i)->getNameAsString() == name)
      return def->getParamDecl(i);
  return nullptr;
}

// Is the call `def` making of itself one that passes its parameter `index`
// on unchanged (no other way in)?
bool passesItselfOn(const CallSite &site, const clang::FunctionDecl *def,
                    unsigned index, const TuModel &model) {
  const clang::ParmVarDecl *p = def->getParamDecl(index);
  return site.caller == def && site.args[index] == p->getNameAsString() &&
         model.usesOf(p, def).assigned.empty();
}

constexpr size_t kMaxChains = 16; // evidence names five; the rest counted

// How the calls that hand `def`'s parameter `index` a shared object with no
// lock reach it, outermost caller first: "Pile_clearmethod (line 117) ->
// pile_clear (line 99), which passes 'pl'". `below` is the part of the
// chain under `def`; `path` the functions on it (a cycle is not followed).
void unlockedChains(const clang::FunctionDecl *def, unsigned index,
                    const TuModel &model, const std::string &below,
                    std::set<const clang::FunctionDecl *> &path,
                    std::vector<std::string> &out) {
  const auto &sm = model.context().getSourceManager();
  path.insert(def->getCanonicalDecl());
  for (const CallSite *site : model.callsOf(def)) {
    if (out.size() >= kMaxChains)
      break;
    if (index >= site->argExprs.size() || index >= site->args.size() ||
        passesItselfOn(*site, def, index, model) ||
        passesFreshObject(*site, index, model, 0) ||
        model.guardsArgumentAt(*site, index))
      continue;
    const clang::Expr *arg = site->argExprs[index];
    unsigned line = sm.getPresumedLineNumber(sm.getFileLoc(arg->getBeginLoc()));
    std::string link =
        site->caller->getNameAsString() + " (line " + std::to_string(line) +
        ")" +
        (below.empty() ? ", which passes '" + site->written[index] + "'"
                       : " -> " + below);
    size_t before = out.size();
    const clang::ParmVarDecl *p =
        parameterNamed(site->caller, site->args[index]);
    if (p && path.size() <= static_cast<size_t>(kMaxDepth) &&
        !path.count(site->caller->getCanonicalDecl()))
      unlockedChains(site->caller->getDefinition(), p->getFunctionScopeIndex(),
                     model, link, path, out);
    if (out.size() == before)
      out.push_back(link);
  }
  path.erase(def->getCanonicalDecl());
}

} // namespace

std::vector<std::string> sharingCallersEvidence(const clang::ParmVarDecl *param,
                                                const clang::FunctionDecl *fn,
                                                const TuModel &model) {
  std::vector<std::string> chains;
  const clang::FunctionDecl *def = fn ? fn->getDefinition() : nullptr;
  std::set<const clang::FunctionDecl *> path;
  if (param && isInternalHelper(def, model))
    unlockedChains(def, param->getFunctionScopeIndex(), model, "", path,
                   chains);
  std::vector<std::string> out;
  for (const auto &chain : chains) {
    if (out.size() == 5) {
      out.push_back(
          "and " + std::string(chains.size() >= kMaxChains ? "at least " : "") +
          std::to_string(chains.size() - 5) + " more such chains");
      break;
    }
    out.push_back("reached with no lock from " + chain);
  }
  return out;
}

bool isFreshConstructor(const std::string &callee) {
  return kFreshConstructors.count(callee) != 0;
}

bool isPrivateContainer(const clang::Expr *e, const clang::FunctionDecl *fn,
                        unsigned useOffset, const TuModel &model) {
  if (!e || !fn)
    return false;
  if (const auto *member =
          llvm::dyn_cast<clang::MemberExpr>(e->IgnoreParenCasts()))
    return isPrivateStructField(member, model, 0);
  const clang::VarDecl *vd = referencedVar(e);
  if (!vd || !fn->getBody())
    return false;
  if (const auto *p = llvm::dyn_cast<clang::ParmVarDecl>(vd))
    return model.isPrivateParameter(p) ||
           parameterHoldsFreshObject(p, fn, useOffset, model, 0);
  return isPrivateLocal(vd, fn, useOffset, model, 0);
}

bool holdsFreshObject(const clang::ParmVarDecl *param,
                      const clang::FunctionDecl *fn, const TuModel &model) {
  return parameterHoldsFreshObject(param, fn, ~0u, model, 0);
}

} // namespace ftready::analysis
