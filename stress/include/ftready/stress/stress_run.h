// ftready stress: hammers an extension module from many threads over shared
// objects, in a child process of the interpreter under test, and turns what
// happens (TSan reports, crashes, hangs, errors only seen under concurrency,
// the GIL coming back on import) into findings.
#pragma once

#include "ftready/finding.h"
#include "ftready/interpreters.h"
#include "ftready/state_map.h"

#include <functional>
#include <string>
#include <vector>

namespace ftready::stress {

struct StressOptions {
  Interpreter interpreter;
  std::string module;     // import name
  std::string module_dir; // put on sys.path
  // The .so itself: loaded from its file when its package's Python part
  // does not import. Empty: import only.
  std::string module_file;
  std::string
      object_name;  // the .so's file name: frames in it are the extension's
  std::string root; // finding paths are relative to it
  // The extension was built from a copy: (copy's folder, the original's) so
  // that findings point at the user's files.
  std::pair<std::string, std::string> built_from;
  // Folders of the sources given by hand (--sources): their frames in a
  // native stack are the project's own.
  std::vector<std::string> source_roots;
  unsigned threads = 4;
  double budget_seconds = 60;
  double hang_seconds = 30; // one round longer than this is a hang
  unsigned iterations = 50; // calls per thread per round
  unsigned max_rounds = 1000000;
  unsigned seed = 0;
  // Static findings that steer the run: the driver gives the Python targets
  // they map to ("Cache_get" -> "Cache.get") the most rounds, and the
  // mutator the rule calls for (FT001/FT003: mutate the shared containers;
  // FT002/FT007: more concurrent callers).
  std::vector<std::pair<std::string, std::string>> hints; // (function, rule)
  // The analyzer's state-access map: callables that share state run
  // together in one round, and callables that lazily initialise state get
  // their first calls from several threads at once in fresh processes.
  StateMap state_map;
  // Fresh processes per lazily initialising callable (fewer when the
  // budget's share for them runs out).
  unsigned first_call_processes = 5;
  // In those processes, the shims hold each making site's first calls this
  // long after they return: the window of an unguarded initialisation
  // stays open until the other threads reach its check, even on a loaded
  // machine.
  unsigned first_call_hold_microseconds = 5000;
  std::string tsan_suppressions; // CPython's own file, if any
  // Is this source file (absolute, as built) vendored code? A race inside it
  // is placed at the project's own caller. Empty: nothing is.
  std::function<bool(const std::string &)> is_vendored;
  // A Python file defining scenario(mod) -> [(name, callable, args)]: extra
  // targets with the setup a test would do.
  std::string scenario;
  // Only these targets ("Cache.get", "remember_key"); empty: all.
  std::vector<std::string> only;
  // Shims linked into the extension (see ExtensionSources::shims_library):
  // how often they hold a borrowed reference's window open, in 1/1000.
  bool shims = false;
  int shim_yield_permille = 20;
  // shims/ftready_forkwatch.c built as a shared library: the driver loads it
  // so that every fork() of the process under test is seen. Empty: forks
  // are not watched.
  std::string forkwatch_library;
  // A child process (with whatever it forked) whose resident memory passes
  // this is stopped, and the target running gets a finding. 0: a third of
  // the machine's memory, at most 8 GiB.
  unsigned long long max_rss_bytes = 0;
};

// A hazardous call site the shims saw, symbolized.
struct ShimSite {
  std::string api;
  std::string function; // in the extension
  std::string location; // file:line
  unsigned long calls = 0;
  unsigned long concurrent = 0; // overlapped another hazardous call
};

struct ImportProbe {
  bool ok = false;
  bool gil_before = false;
  bool gil_after = false;
  std::string warning; // the RuntimeWarning, if any
  std::string error;
};

struct StressSummary {
  ImportProbe import;
  unsigned long calls = 0;
  unsigned rounds = 0;
  double round_seconds = 0; // time the driver spent in its stress loop
  unsigned restarts = 0;    // child processes after a crash or hang
  double elapsed_seconds = 0;
  std::vector<std::string> exercised; // targets that ran at least one round
  std::vector<std::string> together;  // "a + b": two targets in one round
  // Targets whose first calls ran at once in fresh processes, and how many
  // such processes ran.
  std::vector<std::string> first_called;
  unsigned first_call_processes = 0;
  std::vector<std::string> skipped;  // discovered, never called (and why)
  unsigned tsan_reports = 0;         // all of them
  unsigned tsan_reports_outside = 0; // with no frame in the extension
  bool completed = false;
  std::vector<ShimSite> shim_sites; // empty without shims
  unsigned long shim_spins = 0;
  std::vector<std::string> notes; // what the driver wants said
  bool interrupted = false;       // SIGINT/SIGTERM: the run was cut short
  unsigned long output_cut = 0;   // bytes of a child's output not kept
};

struct StressEvents {
  std::function<void(const Finding &)> on_finding;
  // calls, threads, elapsed seconds
  std::function<void(unsigned long, unsigned, double)> on_progress;
};

StressSummary runStress(const StressOptions &options,
                        const StressEvents &events);

} // namespace ftready::stress

namespace ftready::stress {

// One extension module of a project, as the stress run imports it.
struct ModuleTarget {
  std::string name;        // dotted import name
  std::string import_dir;  // on sys.path
  std::string object_name; // the .so's file name
  std::string file;        // the .so
};

struct ModuleRun {
  ModuleTarget target;
  double budget_seconds = 0; // its share
  StressSummary summary;
};

// Stresses every module in turn, sharing `budgetSeconds` between them: each
// gets what is left divided by the modules still to run, so time one leaves
// unused goes to the next. `base` gives everything but the module.
std::vector<ModuleRun> stressModules(const std::vector<ModuleTarget> &modules,
                                     const StressOptions &base,
                                     double budgetSeconds,
                                     const StressEvents &events);

} // namespace ftready::stress
