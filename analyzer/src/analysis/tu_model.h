// The shared analysis layer: what every rule asks about a translation unit.
// Lock extents, roles the module gives its functions, a call graph, and what
// follows from them (init-only functions, helpers always called locked).
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>
#include <clang/Basic/SourceLocation.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ftready::analysis {

// A Py_BEGIN/END_CRITICAL_SECTION macro seen by the preprocessor. Recorded
// from the macro, not its expansion, because without Py_GIL_DISABLED the
// macros expand to bare braces.
struct CriticalSectionMark {
  clang::SourceLocation location; // expansion location
  bool begin = true;
  std::vector<std::string> objects; // canonical text of the locked objects
};

struct LockExtent {
  enum class Kind { CriticalSection, Mutex, ScopedGuard };
  Kind kind = Kind::Mutex;
  unsigned begin = 0; // file offsets, within one function's file
  unsigned end = 0;
  std::vector<std::string> objects; // canonical; for mutexes, the mutex
  // A mutex reached through a variable (&node->mutex): its name, and
  // whether it is a Python object. Empty for a static mutex.
  std::string owner;
  bool ownerIsObject = false;
};

// What every caller of a helper holds when it calls it.
struct HeldByCallers {
  std::set<std::string> objects; // the helper's parameters, locked
  std::set<std::string> mutexes; // canonical text, in the callers' terms
  // The helper's parameters nobody else can touch during the call: locked,
  // or an object the caller made and has not shared. Not a lock: it
  // guards that object, never a global.
  std::set<std::string> guarded;
  // Of those, the ones no other thread can touch for the whole call,
  // whatever the helper does with them: locked, or the object the runtime
  // hands tp_dealloc, tp_traverse or tp_clear. Not a lock either.
  std::set<std::string> exclusive;
};

// The part a function plays for the module, from the tables that register it.
enum class Role {
  None,
  ModuleInit, // PyInit_*
  ModExec,    // Py_mod_exec slot
  Method,     // PyMethodDef entry
  TypeNew,
  TypeInit,
  TypeDealloc,
  TypeTraverse,
  TypeClear,
  TypeFinalize,
  TypeOther, // any other type slot
};

struct CallSite {
  const clang::FunctionDecl *caller = nullptr;
  const clang::FunctionDecl *callee = nullptr;
  unsigned offset = 0;
  std::vector<std::string> args;    // canonical text, aliases resolved
  std::vector<std::string> written; // canonical text as written
  std::vector<const clang::Expr *> argExprs;
};

// A use of a watched C API, whether it is a function call or a macro
// (PyList_GET_ITEM expands to a field access and leaves no call behind).
struct ApiUse {
  std::string api;
  const clang::Expr *expr = nullptr;     // the call, or the macro's expansion
  std::vector<const clang::Expr *> args; // null where not recovered
  std::vector<std::string> argTexts;     // canonical
};

struct MacroRecord;

// An integer constant expression's value (a slot number, METH_* flags).
std::optional<long long> intValue(const clang::Expr *e,
                                  const clang::ASTContext &ctx);
// The function a table entry names, through casts: (PyCFunction)fn.
const clang::FunctionDecl *functionIn(const clang::Expr *e);
// The struct's tag, or its typedef name when the struct is anonymous
// (typedef struct { int slot; void *pfunc; } PyType_Slot).
std::string recordName(clang::QualType t);

struct ModuleDeclaration {
  const clang::FunctionDecl *init = nullptr; // PyInit_*
  bool multi_phase = false;
  bool declares_gil_not_used = false;
  bool declares_gil_used = false;
};

// The uses of a variable in the function it belongs to, and the values
// assigned to it with `=` (its initialiser is not among them).
struct VariableUses {
  std::vector<const clang::DeclRefExpr *> uses;
  std::vector<const clang::Expr *> assigned;
};

// Answers to "does this function keep its parameter to itself in the
// whole call, or return it at the end?" (ownership.cpp), one per
// (definition, parameter index),
// filled while helpers are followed. A question met again while it is being
// answered (a cycle of calls) is assumed kept, or returned (see there).
struct KeptParameters {
  enum class Answer { InProgress, Kept, Returned, HandedOn };
  struct Entry {
    Answer answer;
    unsigned position; // how many questions were open when it was asked
    Answer assumed;    // while open: what a question met again is told
    bool leanedOn;     // while open: somebody was told it
  };
  std::map<std::pair<const clang::FunctionDecl *, unsigned>, Entry> answers;
  unsigned open = 0;
  // The outermost open question an answer in progress has leaned on.
  unsigned lowestAssumed = ~0u;
  // An answer in progress was cut short by the bound on open questions.
  bool truncated = false;
};

// Which structs stay in their call (struct_scope.cpp): computed once per
// unit, on the first question.
struct StructScope {
  bool computed = false;
  std::set<const clang::ParmVarDecl *> pointersKept; // used in place only
  std::set<const clang::VarDecl *> localsKept;       // local structs
  std::set<const clang::ParmVarDecl *> privateParams;
};

class TuModel {
public:
  TuModel(clang::ASTContext &ctx, const MacroRecord &macros,
          const std::set<std::string> &watchedApis);
  TuModel(const TuModel &) = delete; // callers_ points into calls_
  TuModel &operator=(const TuModel &) = delete;

  clang::ASTContext &context() const { return ctx_; }

  // File offset of the expansion location of `loc`.
  unsigned offsetOf(clang::SourceLocation loc) const;

  // Is `object` (canonical text; empty: any object) protected at `loc` inside
  // `fn`? True inside a critical section on the object or on its base object
  // (self for self->list), inside a mutex or scoped guard that is not another
  // Python object's (&other->mutex does not protect self), or when
  // `fn` is a helper that every caller calls with such a lock held.
  bool isLockedAt(const clang::FunctionDecl *fn, clang::SourceLocation loc,
                  const std::string &object) const;

  // The locks held at `loc` in `fn` that can guard a global, each by name: a
  // mutex's canonical text ("&table_lock"), a critical section's "critical
  // section on 'x'", and the mutexes every caller of a helper holds. A
  // Python object's own mutex (&self->mutex) is not one: each object has
  // its own. Two writes of one global
  // exclude each other only if their sets share a lock.
  std::set<std::string> locksHeldAt(const clang::FunctionDecl *fn,
                                    clang::SourceLocation loc) const;

  // Runs only while the module is being initialised (PyInit_*, Py_mod_exec,
  // and helpers only they call).
  bool isInitOnly(const clang::FunctionDecl *fn) const;

  Role roleOf(const clang::FunctionDecl *fn) const;
  // Does the call hand the callee's parameter `index` an object that is
  // locked by the caller, or that every caller made or holds alone and has
  // not shared yet?
  bool guardsArgumentAt(const CallSite &site, unsigned index) const;

  // Runs only while an object is created, initialised, traversed or
  // destroyed (tp_new, tp_init, tp_dealloc... and helpers only they call,
  // such as Argument Clinic's __init__ _impl): nobody else holds it then.
  bool isLifecycleOnly(const clang::FunctionDecl *fn) const;

  // The *args tuple or **kwargs dict handed to a registered function.
  bool isPrivateParameter(const clang::ParmVarDecl *p) const;

  const ModuleDeclaration &module() const { return module_; }

  // Names of every function the TU calls (for getenv vs setenv).
  bool callsFunctionNamed(const std::string &name) const {
    return calledNames_.count(name) != 0;
  }

  // The function whose body contains `loc`, or null.
  const clang::FunctionDecl *functionAt(clang::SourceLocation loc) const;

  const std::vector<LockExtent> &extentsOf(const clang::FunctionDecl *fn) const;

  // Is `loc` inside an assert() (a debug-only check)?
  bool isInDebugCheck(clang::SourceLocation loc) const;

  // Calls of `fn` made in this translation unit.
  const std::vector<const CallSite *> &
  callsOf(const clang::FunctionDecl *fn) const;

  // Is `fn`'s address taken (a table, a callback): callers we cannot see.
  bool isAddressTaken(const clang::FunctionDecl *fn) const {
    return addressTaken_.count(fn->getCanonicalDecl()) != 0;
  }

  // Every access to a struct field in the translation unit.
  const std::vector<const clang::MemberExpr *> &
  accessesOf(const clang::FieldDecl *field) const;

  // The uses of `vd` inside `fn`'s body. Each function's body is walked
  // once, on the first question about it (the ownership analysis asks about
  // the same variables again and again while it follows helpers); like the
  // rest of a translation unit's model, not for use from several threads.
  const VariableUses &usesOf(const clang::VarDecl *vd,
                             const clang::FunctionDecl *fn) const;

  // Ownership's answers about parameters, kept for the unit's analysis like
  // usesOf's index.
  KeptParameters &keptParameters() const { return keptParameters_; }
  StructScope &structScope() const { return structScope_; }

  // The functions with a body outside system headers, in file order.
  const std::vector<const clang::FunctionDecl *> &functions() const {
    return functions_;
  }

  // Uses of the watched APIs inside `fn`, in source order.
  const std::vector<ApiUse> &apiUsesIn(const clang::FunctionDecl *fn) const;

private:
  friend class TuModelBuilder;
  void computeInitOnly();
  // Functions reached only from functions of `roots`' roles.
  std::set<const clang::FunctionDecl *>
  onlyReachedFrom(const std::set<Role> &roots) const;
  void computeAlwaysLocked();
  HeldByCallers heldAtSlotCall(const clang::FunctionDecl *def, Role role) const;
  HeldByCallers heldAtSelfCall(const CallSite &s,
                               const clang::FunctionDecl *def,
                               const HeldByCallers &callers) const;
  HeldByCallers heldAtCall(const CallSite &s,
                           const clang::FunctionDecl *def) const;
  // At the call: is argument `index` an object the caller made and has not
  // shared (Argument), or is the caller's parameter `index` still its own
  // (CallersParameter)?
  enum class Owned { Argument, CallersParameter };
  bool ownedAtCall(const CallSite &s, unsigned index, Owned what) const;
  bool extentCovers(const clang::FunctionDecl *fn, unsigned offset,
                    const std::string &object) const;
  bool mutexCovers(const LockExtent &ext, const std::string &object) const;

  clang::ASTContext &ctx_;
  std::vector<const clang::FunctionDecl *> functions_;
  std::map<const clang::FunctionDecl *, std::vector<LockExtent>> extents_;
  std::map<const clang::FunctionDecl *, std::vector<ApiUse>> apiUses_;
  std::map<const clang::FunctionDecl *, Role> roles_;
  std::set<const clang::FunctionDecl *> addressTaken_;
  std::set<const clang::ParmVarDecl *> privateParams_;
  std::vector<CallSite> calls_;
  // calls_ by callee (canonical), in file order; filled once calls_ is whole.
  std::map<const clang::FunctionDecl *, std::vector<const CallSite *>> callers_;
  // How the runtime calls a slot function on an object nobody else has,
  // when every reference to it that is not a call is such a slot.
  std::map<const clang::FunctionDecl *, Role> unsharedSlots_;
  std::vector<std::pair<clang::SourceLocation, clang::SourceLocation>>
      debugChecks_; // file ranges
  std::map<const clang::FieldDecl *, std::vector<const clang::MemberExpr *>>
      fieldAccesses_;
  std::set<std::string> calledNames_;
  std::set<const clang::FunctionDecl *> initOnly_;
  std::set<const clang::FunctionDecl *> lifecycleOnly_;
  // Helpers every caller calls under a lock.
  std::map<const clang::FunctionDecl *, HeldByCallers> alwaysLocked_;
  ModuleDeclaration module_;
  // usesOf's index, filled lazily: function -> variable -> uses.
  mutable std::map<const clang::FunctionDecl *,
                   std::map<const clang::VarDecl *, VariableUses>>
      variableUses_;
  mutable KeptParameters keptParameters_;
  mutable StructScope structScope_;
  mutable std::map<std::tuple<const CallSite *, unsigned, Owned>, bool>
      ownedAtCall_;
};

} // namespace ftready::analysis
