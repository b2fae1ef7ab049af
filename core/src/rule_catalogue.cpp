#include "ftready/rule_catalogue.h"

namespace ftready {

const std::vector<RuleInfo> &ruleCatalogue() {
  static const std::vector<RuleInfo> rules = {
      {"FT001", "BorrowedReferenceFromSharedContainer",
       "Borrowed reference taken from a container other threads can mutate",
       Severity::Warning,
       "Use the strong-reference API (PyList_GetItemRef, PyDict_GetItemRef, "
       "... since 3.13; pythoncapi-compat for older Pythons) or hold "
       "Py_BEGIN_CRITICAL_SECTION(container) and take Py_NewRef inside it.",
       "docs/rules/FT001.md"},
      {"FT002", "UnguardedGlobalState",
       "Mutable static or global C state written outside module "
       "initialisation without a lock, atomic or thread-local",
       Severity::Warning,
       "Initialise it in PyInit_*/Py_mod_exec, or guard it with a PyMutex, "
       "C11 atomics or _Thread_local.",
       "docs/rules/FT002.md"},
      {"FT003", "UnlockedIteration",
       "Iteration over a shared container without a critical section",
       Severity::Warning,
       "Wrap the whole loop in Py_BEGIN_CRITICAL_SECTION(container) and keep "
       "no borrowed key or value past it, or iterate over a copy.",
       "docs/rules/FT003.md"},
      {"FT004", "MissingGilDeclaration",
       "The module does not declare free-threading support", Severity::Note,
       "Once the module is ready, add {Py_mod_gil, Py_MOD_GIL_NOT_USED} to "
       "its slots (or PyUnstable_Module_SetGIL for single-phase init).",
       "docs/rules/FT004.md"},
      {"FT005", "ThreadUnsafeLibcCall", "Thread-unsafe C library call",
       Severity::Warning,
       "Use the reentrant _r variant, a lock, or a thread-safe alternative.",
       "docs/rules/FT005.md"},
      {"FT006", "RefcountTrick",
       "Refcount or object-layout trick that is wrong in the free-threaded "
       "build",
       Severity::Error,
       "Drop the shortcut, or use PyUnstable_Object_IsUniquelyReferenced "
       "(3.14).",
       "docs/rules/FT006.md"},
      {"FT007", "UnguardedObjectState",
       "Per-object C state read then written without a critical section on "
       "self",
       Severity::Warning,
       "Wrap the read and the write in Py_BEGIN_CRITICAL_SECTION(self) "
       "(Argument Clinic: @critical_section), or use a PyMutex or atomics.",
       "docs/rules/FT007.md"},
      {"FTR001", "DataRace", "Data race reported by ThreadSanitizer",
       Severity::Error, "See the static finding on the same function.",
       "docs/rules/FTR.md"},
      {"FTR002", "Crash", "The extension crashed under concurrent calls",
       Severity::Error, "See the stack of the crash.", "docs/rules/FTR.md"},
      {"FTR003", "HangOrDeadlock", "Hang or deadlock under concurrent calls",
       Severity::Error, "See the thread stacks of the watchdog dump.",
       "docs/rules/FTR.md"},
      {"FTR004", "GilReenabledOnImport",
       "Importing the module re-enabled the GIL", Severity::Warning,
       "Declare Py_MOD_GIL_NOT_USED once the module is ready.",
       "docs/rules/FTR.md"},
      {"FTR005", "ConcurrencyOnlyFailure",
       "Wrong results or exceptions only under concurrency", Severity::Error,
       "See the failing call.", "docs/rules/FTR.md"},
      {"FTR006", "ForkWhileThreadsRun",
       "The extension called fork() while other threads ran", Severity::Error,
       "Use posix_spawn or subprocess, or fork before any thread starts.",
       "docs/rules/FTR.md"},
      {"FTR007", "RunawayMemory",
       "Memory grew past the harness's limit under concurrent calls",
       Severity::Error,
       "Bound what the call keeps, or free what it allocates on every path.",
       "docs/rules/FTR.md"},
      {"FTR008", "LazyInitRace",
       "State initialised on first use was initialised by several threads "
       "at once",
       Severity::Error,
       "Create it in Py_mod_exec, or check it again under a static PyMutex "
       "before creating it.",
       "docs/rules/FTR.md"},
  };
  return rules;
}

const RuleInfo *findRule(const std::string &id) {
  for (const auto &r : ruleCatalogue())
    if (r.id == id)
      return &r;
  return nullptr;
}

} // namespace ftready
