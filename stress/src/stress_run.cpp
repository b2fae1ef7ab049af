#include "ftready/stress/stress_run.h"

#include "driver_py.h"
#include "ftready/process.h"
#include "ftready/stress/tsan_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftready::stress {

namespace {

constexpr const char *kMark = "@@ftready ";

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

std::string shimLogPath() {
  return (fs::temp_directory_path() /
          ("ftready-shims-" + std::to_string(::getpid()) + ".jsonl"))
      .string();
}

std::vector<std::pair<std::string, std::string>>
childEnvironment(const StressOptions &o, bool gilOff) {
  // handle_abort: an abort() (a failed assert, a Fatal Python error) gets
  // TSan's native stack, so the crash is placed on the extension's line.
  std::string tsan = "halt_on_error=0 second_deadlock_stack=1 history_size=4 "
                     "handle_abort=1";
  if (!o.tsan_suppressions.empty() && fs::exists(o.tsan_suppressions))
    tsan += " suppressions=" + o.tsan_suppressions;
  std::vector<std::pair<std::string, std::string>> env = {
      {"TSAN_OPTIONS", tsan}};
  if (gilOff)
    env.push_back({"PYTHON_GIL", "0"});
  if (o.shims) {
    env.push_back({"FTREADY_SHIM_LOG", shimLogPath()});
    env.push_back(
        {"FTREADY_SHIM_YIELD_PERMILLE", std::to_string(o.shim_yield_permille)});
  }
  return env;
}

// A path in the build copy, as the user's own file ("./" folded away).
std::string original(const StressOptions &o, const std::string &path) {
  std::string p = fs::path(path).lexically_normal().string();
  const auto &[copy, orig] = o.built_from;
  if (!copy.empty() && p.rfind(copy, 0) == 0)
    return orig + p.substr(copy.size());
  return p;
}

std::string relativeTo(const std::string &root, const std::string &path) {
  if (root.empty())
    return path;
  fs::path rel = fs::path(path).lexically_relative(root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0)
    return path;
  return rel.string();
}

// Every thread's native stack of a live process, via gdb (when present).
std::vector<std::string> nativeStacks(int pid) {
  auto r = runProcess({"gdb", "-p", std::to_string(pid), "-batch", "-nx", "-ex",
                       "thread apply all bt 10"},
                      withTimeout(60));
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Thread ", 0) == 0 || line.rfind("#", 0) == 0)
      out.push_back("native: " + line);
  if (out.empty())
    out.push_back("native: stacks unavailable (gdb missing or not allowed)");
  return out;
}

// One child process's worth of driver output, turned into findings.
class RunObserver {
public:
  RunObserver(const StressOptions &o, const StressEvents &ev,
              StressSummary &summary, std::set<std::string> &seenRaces,
              std::chrono::steady_clock::time_point t0)
      : o_(o), ev_(ev), summary_(summary), seenRaces_(seenRaces), t0_(t0),
        callsBefore_(summary.calls), roundsBefore_(summary.rounds) {}

  void line(const std::string &l) {
    if (l.rfind(kMark, 0) == 0) {
      event(l.substr(std::string(kMark).size()));
      return;
    }
    if (tsan_.feed(l)) {
      race(tsan_.report());
      return;
    }
    if (tsan_.inReport())
      return;
    if (l.rfind("Timeout (", 0) == 0)
      hang_ = true;
    if (hang_ && !stopping_ && pid_ > 0 && l.empty()) {
      // The Python dump is out (it ends with an empty line): add the native
      // stacks, then stop the hung process.
      stopping_ = true;
      for (auto &n : nativeStacks(pid_))
        if (dump_.size() < 120)
          dump_.push_back(n);
      ::kill(pid_, SIGKILL);
    }
    if (l.find("Fatal Python error") != std::string::npos ||
        l.find("ThreadSanitizer:DEADLYSIGNAL") != std::string::npos ||
        l.find("ERROR: ThreadSanitizer: SEGV") != std::string::npos)
      crash_ = true;
    if ((hang_ || crash_) && dump_.size() < 60)
      dump_.push_back(l);
  }

  bool done() const { return done_; }
  // What was running: one thread probing a target, or a concurrent round.
  std::string during() const {
    if (target_.empty())
      return " while the module was imported and its callables discovered";
    if (alone_)
      return " while " + target_ +
             " was called from one thread alone (to "
             "find its arguments): a crash with no concurrency";
    return " while " + std::to_string(o_.threads) + " threads called " +
           target_;
  }
  bool hang() const { return hang_; }
  bool crash() const { return crash_; }
  bool crashReported() const { return crashReported_; }
  void setPid(int pid) { pid_ = pid; }
  const std::string &currentTarget() const { return target_; }
  const std::vector<std::string> &dump() const { return dump_; }

private:
  void event(const std::string &json) {
    nlohmann::json e;
    try {
      e = nlohmann::json::parse(json);
    } catch (...) {
      return;
    }
    std::string kind = e.value("event", "");
    if (kind == "probe") {
      target_ = e.value("target", ""); // a crash now is this target's
      alone_ = true; // called from one thread, to find its arguments
    } else if (kind == "round") {
      target_ = e.value("target", "");
      alone_ = false;
      if (std::find(summary_.exercised.begin(), summary_.exercised.end(),
                    target_) == summary_.exercised.end())
        summary_.exercised.push_back(target_);
    } else if (kind == "progress") {
      summary_.calls = callsBefore_ + e.value("calls", 0ul);
      summary_.rounds = roundsBefore_ + e.value("rounds", 0u);
      if (ev_.on_progress)
        ev_.on_progress(summary_.calls, o_.threads, secondsSince(t0_));
    } else if (kind == "skipped") {
      // Each restarted child says it again: once is enough.
      std::string s = e.value("target", "") + ": " + e.value("reason", "");
      if (std::find(summary_.skipped.begin(), summary_.skipped.end(), s) ==
          summary_.skipped.end())
        summary_.skipped.push_back(s);
    } else if (kind == "concurrency_errors") {
      concurrencyErrors(e.value("target", ""), e["errors"]);
    } else if (kind == "note") {
      std::string n = e.value("text", ""); // each restarted child says it
      if (std::find(summary_.notes.begin(), summary_.notes.end(), n) ==
          summary_.notes.end())
        summary_.notes.push_back(n);
    } else if (kind == "done") {
      done_ = true;
    }
  }

  void emit(Finding f) {
    if (ev_.on_finding)
      ev_.on_finding(f);
  }

  void race(const TsanReport &r) {
    ++summary_.tsan_reports;
    // The place to fix: each access stack's first frame in the project's
    // own sources (interpreter and libc frames stay as evidence).
    std::vector<std::string> roots = {o_.built_from.first, o_.root};
    std::vector<const StackFrame *> tops;
    for (const auto &s : r.stacks)
      if (isAccessStack(s))
        if (const StackFrame *f =
                ownFrame(s, o_.object_name, roots, o_.is_vendored))
          tops.push_back(f);
    if (tops.empty()) {
      ++summary_.tsan_reports_outside;
      return;
    }
    // One finding per pair of racing source lines (file:line), however
    // many reports TSan prints for it.
    std::vector<std::string> pair;
    for (const auto *f : tops)
      pair.push_back(original(o_, f->file) + ":" + std::to_string(f->line));
    std::sort(pair.begin(), pair.end());
    pair.resize(std::min<size_t>(pair.size(), 2));
    std::string key = r.kind;
    for (const auto &p : pair)
      key += "|" + p;
    if (!seenRaces_.insert(key).second)
      return;
    const StackFrame &top = *tops.front();
    Finding f;
    bool race = r.kind.rfind("data race", 0) == 0;
    f.rule = race ? "FTR001" : "FTR002";
    crashReported_ |= !race;
    f.severity = Severity::Error;
    f.location = {relativeTo(o_.root, original(o_, top.file)), top.line, 0};
    f.function = top.function;
    std::string other = tops.size() > 1 ? tops[1]->function : "the interpreter";
    std::string during = this->during();
    f.message =
        race ? "ThreadSanitizer: " + r.kind + " between " + top.function +
                   " and " + other + during
             : "ThreadSanitizer: " + r.kind + " in " + top.function + during;
    f.fix = "guard the state both stacks touch: Py_BEGIN_CRITICAL_SECTION on "
            "the object, a PyMutex, or atomics (see the static finding on " +
            top.function + ")";
    for (size_t i = 0; i < r.stacks.size(); ++i) {
      f.evidence.push_back("stack " + std::to_string(i + 1) + ": " +
                           r.stacks[i].title);
      unsigned shown = 0;
      for (const auto &fr : r.stacks[i].frames) {
        if (shown++ == 6)
          break;
        f.evidence.push_back("  " + fr.function + " " + original(o_, fr.file) +
                             ":" + std::to_string(fr.line) + " (" + fr.object +
                             ")");
      }
    }
    f.fingerprint = makeFingerprint(f.rule, f.location.file, f.function, key);
    f.status = Status::DynamicOnly;
    emit(std::move(f));
  }

  void concurrencyErrors(const std::string &target,
                         const nlohmann::json &errs) {
    std::string names;
    for (auto it = errs.begin(); it != errs.end(); ++it)
      names += (names.empty() ? "" : ", ") + it.key() + " x" +
               std::to_string(it.value().get<int>());
    std::string key = "FTR005|" + target + "|" + names;
    if (!seenRaces_.insert(key).second)
      return;
    Finding f;
    f.rule = "FTR005";
    f.severity = Severity::Error;
    f.location = {o_.object_name, 0, 0};
    f.function = target;
    f.message = target + " raised " + names +
                " only when called from several threads at once (never "
                "alone with the same arguments)";
    f.fix = "the call's state is shared between threads: find it with the "
            "static findings on " +
            target;
    f.fingerprint = makeFingerprint(f.rule, f.location.file, target, names);
    f.status = Status::DynamicOnly;
    emit(std::move(f));
  }

  const StressOptions &o_;
  const StressEvents &ev_;
  StressSummary &summary_;
  std::set<std::string> &seenRaces_;
  std::chrono::steady_clock::time_point t0_;
  TsanStreamParser tsan_;
  std::string target_;
  std::vector<std::string> dump_;
  bool done_ = false, hang_ = false, crash_ = false, crashReported_ = false;
  bool stopping_ = false;
  bool alone_ = false;
  int pid_ = 0;

  // What the earlier child processes counted; this one's counts add to it.
  unsigned long callsBefore_;
  unsigned roundsBefore_;
};

// The end of what a process printed, without the driver's own events:
// where a traceback says what went wrong.
std::string lastWords(const std::string &err) {
  std::istringstream in(err);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (l.rfind(kMark, 0) != 0 && !l.empty())
      lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > 12 ? lines.size() - 12 : 0; i < lines.size();
       ++i)
    out += lines[i] + "\n";
  if (out.empty())
    return "no output";
  return out.size() > 2000 ? out.substr(out.size() - 2000) : out;
}

// The first "... at FILE:LINE" of gdb's stacks (or "  fn FILE:LINE (obj)"
// frames) in the project's own sources: where a hang or a crash with no
// TSan report is placed. {"", 0} when no frame is there.
std::pair<std::string, unsigned>
firstProjectFrame(const StressOptions &o,
                  const std::vector<std::string> &dump) {
  static const std::regex at(R"( at (/[^\s:]+):(\d+)\s*$)");
  std::vector<std::string> roots = {o.built_from.first, o.root};
  for (const auto &l : dump) {
    std::smatch m;
    if (!std::regex_search(l, m, at))
      continue;
    std::string file = fs::path(m[1].str()).lexically_normal().string();
    for (const auto &r : roots)
      if (!r.empty() && file.rfind(r + "/", 0) == 0)
        return {file, static_cast<unsigned>(std::stoul(m[2].str()))};
  }
  return {"", 0};
}

Finding abortFinding(const StressOptions &o, const std::string &rule,
                     const std::string &target, const std::string &what,
                     const std::string &during,
                     const std::vector<std::string> &dump) {
  Finding f;
  f.rule = rule;
  f.severity = Severity::Error;
  f.location = {o.object_name, 0, 0};
  f.function = target;
  f.message = what + during;
  if (auto [file, line] = firstProjectFrame(o, dump); line) {
    f.location = {relativeTo(o.root, original(o, file)), line, 0};
    f.evidence.push_back("placed at the first frame in the project's sources "
                         "of the native stacks below");
  }
  f.fix = rule == "FTR003"
              ? "look for a lock taken in two orders, or a lock held while "
                "calling back into Python; the thread dump is in the evidence"
              : "run the target under the debug interpreter; the stack is in "
                "the evidence";
  f.evidence.insert(f.evidence.end(), dump.begin(), dump.end());
  f.fingerprint = makeFingerprint(rule, o.object_name, target, what);
  f.status = Status::DynamicOnly;
  return f;
}

// "function\nfile:line:col\n" for an offset in the extension.
std::pair<std::string, std::string> symbolize(const std::string &object,
                                              unsigned long offset) {
  auto r = runProcess({"llvm-symbolizer-16", "--obj=" + object,
                       "0x" +
                           [&] {
                             char b[32];
                             std::snprintf(b, sizeof b, "%lx", offset);
                             return std::string(b);
                           }()},
                      withTimeout(30));
  std::istringstream in(r.out);
  std::string fn, loc;
  std::getline(in, fn);
  std::getline(in, loc);
  return {fn, loc};
}

// Aggregates the shims' log (one line per call site per child process).
void readShimLog(const StressOptions &o, StressSummary &summary) {
  std::ifstream in(shimLogPath());
  std::map<std::pair<std::string, unsigned long>, ShimSite> sites;
  std::map<std::pair<std::string, unsigned long>, std::string> objects;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded())
      continue;
    if (j.contains("spins")) {
      summary.shim_spins += j["spins"].get<unsigned long>();
      continue;
    }
    std::string object = j.value("object", "");
    if (fs::path(object).filename() != o.object_name)
      continue;
    auto key = std::make_pair(j.value("api", ""), j.value("offset", 0ul));
    ShimSite &s = sites[key];
    s.api = key.first;
    s.calls += j.value("calls", 0ul);
    s.concurrent += j.value("concurrent", 0ul);
    objects[key] = object;
  }
  for (auto &[key, s] : sites) {
    // The return address is just past the call: step back into it.
    auto [fn, loc] = symbolize(objects[key], key.second - 1);
    s.function = fn;
    s.location = loc;
    summary.shim_sites.push_back(s);
  }
  fs::remove(shimLogPath());
}

} // namespace

ImportProbe probeImport(const StressOptions &o) {
  static const char *script = R"PY(
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
before = sys._is_gil_enabled()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        __import__(sys.argv[2])
    except ImportError:
        # The package's Python part failed: load the extension from its file.
        if "." not in sys.argv[2] or not sys.argv[3]:
            raise
        import importlib.util
        spec = importlib.util.spec_from_file_location(sys.argv[2], sys.argv[3])
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"before": before, "after": sys._is_gil_enabled(),
                  "warning": "; ".join(str(w.message) for w in caught
                                       if issubclass(w.category, RuntimeWarning))}))
)PY";
  ImportProbe p;
  ProcessOptions opts;
  opts.env = childEnvironment(o, false);
  opts.timeout_seconds = 300;
  auto r = runProcess(
      {o.interpreter.path, "-c", script, o.module_dir, o.module, o.module_file},
      opts);
  auto nl = r.out.rfind('{');
  if (r.exit_code != 0 || nl == std::string::npos) {
    p.error = r.err.substr(0, 2000);
    return p;
  }
  try {
    auto j = nlohmann::json::parse(r.out.substr(nl));
    p.ok = true;
    p.gil_before = j.at("before").get<bool>();
    p.gil_after = j.at("after").get<bool>();
    p.warning = j.at("warning").get<std::string>();
  } catch (const std::exception &e) {
    p.error = e.what();
  }
  return p;
}

StressSummary runStress(const StressOptions &o, const StressEvents &ev) {
  auto t0 = std::chrono::steady_clock::now();
  StressSummary summary;
  summary.import = probeImport(o);
  if (summary.import.ok && summary.import.gil_after &&
      !summary.import.gil_before && ev.on_finding) {
    Finding f;
    f.rule = "FTR004";
    f.severity = Severity::Warning;
    f.location = {o.object_name, 0, 0};
    f.function = "PyInit_" + o.module.substr(o.module.rfind('.') + 1);
    f.message =
        "importing " + o.module +
        " re-enabled the GIL for the whole process: " + summary.import.warning;
    f.fix = "declare {Py_mod_gil, Py_MOD_GIL_NOT_USED} once the module is "
            "ready (the stress run went on with PYTHON_GIL=0)";
    f.fingerprint = makeFingerprint(f.rule, o.object_name, f.function, "gil");
    f.status = Status::DynamicOnly;
    ev.on_finding(f);
  }
  if (!summary.import.ok)
    return summary;

  std::set<std::string> seen;
  std::vector<std::string> excluded;
  for (;;) {
    double left = o.budget_seconds - secondsSince(t0);
    if (left <= 1)
      break;
    nlohmann::json cfg = {{"module", o.module},
                          {"path", o.module_dir},
                          {"file", o.module_file},
                          {"threads", o.threads},
                          {"budget", left},
                          {"seed", o.seed + summary.restarts},
                          {"iterations", o.iterations},
                          {"max_rounds", o.max_rounds},
                          {"hang_seconds", o.hang_seconds},
                          {"tsan", o.interpreter.tsan},
                          {"scenario", o.scenario},
                          {"exclude", excluded},
                          {"hints", nlohmann::json::array()}};
    for (const auto &[fn, rule] : o.hints)
      cfg["hints"].push_back({fn, rule});
    RunObserver observer(o, ev, summary, seen, t0);
    ProcessOptions opts;
    opts.env = childEnvironment(o, true);
    // The driver's own watchdog dumps the stacks first; this one catches a
    // process too stuck to run it.
    opts.timeout_seconds = left + o.hang_seconds + 30;
    opts.idle_timeout_seconds = o.hang_seconds * 6 + 30;
    opts.on_stderr_line = [&observer](const std::string &l) {
      observer.line(l);
    };
    opts.on_start = [&observer](int pid) { observer.setPid(pid); };
    auto r = runProcess(
        {o.interpreter.path, "-c", kDriverSource,
         cfg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
        opts);
    if (observer.done()) {
      summary.completed = true;
      break;
    }
    std::string target = observer.currentTarget();
    std::string rule, what;
    std::vector<std::string> exitDump;
    if (r.timed_out || observer.hang()) {
      rule = "FTR003";
      what = r.timed_out
                 ? "the process went silent and was killed"
                 : "a round ran past " + std::to_string(int(o.hang_seconds)) +
                       " s (hang or deadlock)";
    } else if (observer.crash() || r.exit_code >= 128) {
      rule = "FTR002";
      what = "the process crashed (exit " + std::to_string(r.exit_code) + ")";
    } else if (!target.empty()) {
      // A call ended the process (exit(), an uncaught error in a thread the
      // module started): the target's doing, not the harness's.
      rule = "FTR002";
      std::string words = lastWords(r.err);
      std::string last = words;
      while (!last.empty() && last.back() == '\n')
        last.pop_back();
      last = last.substr(last.rfind('\n') + 1);
      what = "the process exited (code " + std::to_string(r.exit_code) +
             ") during a call, last saying \"" + last.substr(0, 200) + "\"";
      std::istringstream lines(words);
      for (std::string l; std::getline(lines, l);)
        exitDump.push_back("output: " + l);
    } else {
      // The driver failed before any call (import error, bad module): not
      // a finding, but what the report says did not run.
      summary.import.error = lastWords(r.err);
      break;
    }
    if (ev.on_finding && !(rule == "FTR002" && observer.crashReported()))
      ev.on_finding(
          abortFinding(o, rule, target, what, observer.during(),
                       exitDump.empty() ? observer.dump() : exitDump));
    if (target.empty() ||
        std::find(excluded.begin(), excluded.end(), target) != excluded.end())
      break;
    excluded.push_back(target);
    ++summary.restarts;
  }
  summary.elapsed_seconds = secondsSince(t0);
  if (o.shims)
    readShimLog(o, summary);
  return summary;
}

} // namespace ftready::stress
