// The state-access map: which C state each function of an extension reads
// and writes, with lock state, and which Python callables each function
// implements. The analyzer writes it; the stress side reads it to choose
// which calls to run together (two callables that share state, one of them
// writing it) and which to call first in a fresh process (a lazy
// initialisation). Plain data: no clang, no Python.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ftready {

// One access to a piece of state. `state` names it by kind and place:
// "global ring_count (mod.c)", "static cache in get (mod.c)",
// "field Label.text".
struct StateAccess {
  std::string state;
  bool write = false;
  bool locked = false; // a lock or critical section is held there
  std::string via;     // the C API the state was handed to, if any
  // The API makes the access under the object's own lock (PyList_Append,
  // PyDict_SetItem); not borrowed items or iteration (PyDict_Next).
  bool api_locked = false;
  unsigned line = 0;
};

// `if (state == NULL) { ...; state = ...; }` with no lock held: the block
// that initialises it, in the function's file.
struct LazyInit {
  std::string state;
  std::string file;
  unsigned first_line = 0;
  unsigned last_line = 0;
};

struct FunctionState {
  std::string function;
  std::string file; // empty: declared here, defined in another unit
  // The Python callables it implements: "track", "Label.set",
  // "Label.text (get)".
  std::vector<std::string> callables;
  std::vector<std::string> calls; // functions of the same file it calls
  std::vector<StateAccess> accesses;
  std::vector<LazyInit> lazy_inits;
};

struct StateMap {
  std::vector<FunctionState> functions;
};

void to_json(nlohmann::json &j, const StateAccess &a);
void from_json(const nlohmann::json &j, StateAccess &a);
void to_json(nlohmann::json &j, const LazyInit &l);
void from_json(const nlohmann::json &j, LazyInit &l);
void to_json(nlohmann::json &j, const FunctionState &f);
void from_json(const nlohmann::json &j, FunctionState &f);
void to_json(nlohmann::json &j, const StateMap &m);
void from_json(const nlohmann::json &j, StateMap &m);

// Throws std::runtime_error saying what is wrong with the file.
StateMap readStateMap(const std::string &path);
void writeStateMap(const std::string &path, const StateMap &m);

// Renames every file the map names (a build copy's paths as the user's).
void mapFiles(StateMap &m,
              const std::function<std::string(const std::string &)> &rename);

// Appends `more`'s functions (another translation unit's) to `m`.
void mergeStateMaps(StateMap &m, const StateMap &more);

// Joins the callables a unit's tables name for a function it only declares
// (an entry with no file) to the function's definition in another unit,
// when exactly one defines it; such entries are then dropped.
void linkCallables(StateMap &m);

// Two Python callables worth running at once: `writer` writes `state`,
// `other` reads or writes it, and at least one of the two accesses is made
// without a lock (and not both through a C API that locks for itself).
struct CallablePair {
  std::string writer, other, state;
  unsigned writer_line = 0, other_line = 0;
};

// Every such pair, each once, unlocked-on-both-sides first. A callable's
// accesses include those of the functions it calls, followed through
// `calls` within its file.
std::vector<CallablePair> callablePairs(const StateMap &m);

// A Python callable whose C code (or a function it calls) lazily
// initialises state without a lock: call it first from several threads at
// once in a fresh process.
struct CallableLazyInit {
  std::string callable;
  LazyInit init;
};
std::vector<CallableLazyInit> lazyInitCallables(const StateMap &m);

} // namespace ftready
