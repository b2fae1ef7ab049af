#include "ftready/stress/stress_run.h"

#include "driver_py.h"
#include "ftready/process.h"
#include "ftready/stress/tsan_report.h"
#include "ftready/work_dir.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftready::stress {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A run's private folder: ThreadSanitizer's log files, the watchdog's thread
// dump and the shims' log. Removed at the end of the run.
// The descriptor the driver's events come on: not one of the numbers a
// module uses by habit (0-2, the first free ones), and far below the usual
// limit of 1024. Not a secret: the driver's argument names it, and a module
// that sets out to forge events can; this keeps out accidents and output.
int eventDescriptor(unsigned seed) {
  return 100 + static_cast<int>((seed * 7919u + ::getpid()) % 150u);
}

unsigned long long defaultMaxRss() {
  long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  unsigned long long third =
      pages > 0 && size > 0 ? static_cast<unsigned long long>(pages) * size / 3
                            : 8ull << 30;
  return std::min(third, 8ull << 30);
}

std::vector<std::pair<std::string, std::string>>
childEnvironment(const StressOptions &o, const WorkDir &folder,
                 const std::string &tsanStem, bool gilOff,
                 const std::string &shimLog) {
  // handle_abort: an abort() (a failed assert, a Fatal Python error) gets
  // TSan's native stack, so the crash is placed on the extension's line.
  // log_path: reports go to files of their own (tsan.PID), which nothing
  // the module prints can forge or interleave. exitcode=0: a run with
  // reports still exits 0 (not 66), so that an exit status says the end.
  std::string tsan =
      "halt_on_error=0 exitcode=0 second_deadlock_stack=1 history_size=4 "
      "handle_abort=1 log_path=" +
      folder.path(tsanStem);
  if (!o.tsan_suppressions.empty() && fs::exists(o.tsan_suppressions))
    tsan += " suppressions=" + o.tsan_suppressions;
  std::vector<std::pair<std::string, std::string>> env = {
      {"TSAN_OPTIONS", tsan}};
  if (gilOff)
    env.push_back({"PYTHON_GIL", "0"});
  if (o.shims) {
    env.push_back({"FTREADY_SHIM_LOG", shimLog});
    env.push_back(
        {"FTREADY_SHIM_YIELD_PERMILLE", std::to_string(o.shim_yield_permille)});
  }
  return env;
}

// Where the project's own sources are: a frame there is the place to fix.
std::vector<std::string> sourceRoots(const StressOptions &o) {
  std::vector<std::string> roots = {o.built_from.first, o.root};
  roots.insert(roots.end(), o.source_roots.begin(), o.source_roots.end());
  return roots;
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
// The child allowed this process's descendants to trace it
// (PR_SET_PTRACER), so Yama's ptrace_scope=1 lets gdb attach.
std::vector<std::string> nativeStacks(int pid) {
  auto r = runProcess({"gdb", "-p", std::to_string(pid), "-batch", "-nx", "-ex",
                       "thread apply all bt 12"},
                      withTimeout(20));
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line) && out.size() < 400;)
    if (line.rfind("Thread ", 0) == 0 || line.rfind("#", 0) == 0)
      out.push_back("native: " + line);
  if (out.empty())
    out.push_back("native: stacks unavailable (gdb missing or not allowed)");
  return out;
}

std::string fileText(const std::string &path, size_t max = 1u << 20) {
  std::ifstream in(path, std::ios::binary);
  std::string s;
  s.resize(max);
  in.read(s.data(), static_cast<std::streamsize>(max));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

// ThreadSanitizer's log files (log_path=PREFIX writes PREFIX.PID, one per
// process), read as they grow, a whole line at a time.
class TsanLogs {
public:
  TsanLogs(std::string dir, std::string stem)
      : dir_(std::move(dir)), stem_(std::move(stem) + ".") {}

  template <class OnLine> void drain(OnLine &&on) {
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir_, ec)) {
      std::string name = e.path().filename().string();
      if (name.rfind(stem_, 0) != 0)
        continue;
      File &f = files_[name];
      std::ifstream in(e.path(), std::ios::binary);
      in.seekg(f.offset);
      char buf[65536];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        f.offset += in.gcount();
        f.partial.append(buf, static_cast<size_t>(in.gcount()));
        for (size_t nl; (nl = f.partial.find('\n')) != std::string::npos;) {
          on(name, f.partial.substr(0, nl));
          f.partial.erase(0, nl + 1);
        }
      }
    }
  }

private:
  struct File {
    std::streamoff offset = 0;
    std::string partial;
  };
  std::string dir_, stem_;
  std::map<std::string, File> files_;
};

// What a TSan report is: a race, a potential deadlock, a memory error or
// crash, or something that is not the module's doing (a thread leak).
std::string ruleForTsanKind(const std::string &kind) {
  if (kind.rfind("data race", 0) == 0)
    return "FTR001";
  if (kind.find("lock-order-inversion") != std::string::npos)
    return "FTR003";
  if (kind.find("thread leak") != std::string::npos ||
      kind.find("signal") != std::string::npos)
    return "";
  return "FTR002";
}

// Round names the driver gives: "a + b" (two targets at once), "a (first
// calls)" (a fresh process's first calls).
constexpr const char *kFirstCalls = " (first calls)";

bool isTogether(const std::string &target) {
  return target.find(" + ") != std::string::npos;
}

bool isFirstCalls(const std::string &target) {
  std::string_view t(target), suffix(kFirstCalls);
  return t.size() > suffix.size() &&
         t.substr(t.size() - suffix.size()) == suffix;
}

std::string firstCalled(const std::string &target) {
  return target.substr(0, target.size() - std::string_view(kFirstCalls).size());
}

enum class Phase { Starting, Import, Discover, Probe, Round, Shutdown };

// Why the harness stopped a child before it ended.
enum class Stop { None, Hang, Stuck, Memory, Fork };

// One child process's events, output and TSan logs, turned into findings.
class RunObserver {
public:
  RunObserver(const StressOptions &o, const StressEvents &ev,
              StressSummary &summary, std::set<std::string> &seenRaces,
              Clock::time_point t0, const WorkDir &folder,
              const std::string &tsanStem)
      : o_(o), ev_(ev), summary_(summary), seenRaces_(seenRaces), t0_(t0),
        folder_(folder), logs_(folder.path(), tsanStem),
        maxRss_(o.max_rss_bytes ? o.max_rss_bytes : defaultMaxRss()),
        callsBefore_(summary.calls), roundsBefore_(summary.rounds),
        roundSecondsBefore_(summary.round_seconds) {}

  // One line of the private event channel. TSan's logs are read first: a
  // report written before this event belongs to the phase that ran.
  void eventLine(const std::string &l) {
    drainLogs();
    nlohmann::json e = nlohmann::json::parse(l, nullptr, false);
    if (!e.is_object())
      return;
    try {
      event(e);
    } catch (const nlohmann::json::exception &) {
      // A line with the right shape and wrong types: not the driver's.
    }
  }

  // One line the child printed on stderr: kept for the last words, and
  // read for a fatal error the interpreter printed.
  // Nothing printed decides anything: a module can print what it likes.
  void outputLine(const std::string &l) {
    if (!l.empty()) {
      lastLines_.push_back(l);
      if (lastLines_.size() > 12)
        lastLines_.erase(lastLines_.begin());
    }
  }

  // Every quarter second while the child runs: true stops it.
  bool tick() {
    drainLogs();
    if (stop_ != Stop::None)
      return true;
    if (watchdogFired() || phaseOverdue())
      return true;
    if (++ticks_ % 4 == 0 && pid_ > 0) {
      // The cheap sum first; past the limit, the one that counts pages
      // shared after a fork once (a forking module is not charged twice).
      unsigned long long rss = groupResidentBytes(pid_);
      if (rss > maxRss_)
        rss = groupProportionalBytes(pid_);
      peakRss_ = std::max(peakRss_, rss);
      if (rss > maxRss_) {
        stop_ = Stop::Memory;
        return true;
      }
    }
    return false;
  }

  void finish() {
    drainLogs();
    if (crash_ && dump_.empty()) {
      // Without TSan, faulthandler wrote the crash's Python stacks.
      std::istringstream in(fileText(folder_.path("crash.txt"), 64u << 10));
      for (std::string l; std::getline(in, l) && dump_.size() < 120;)
        dump_.push_back(l);
    }
  }

  void setPid(int pid) { pid_ = pid; }
  bool done() const { return done_; }
  bool reachedRound() const { return reachedRound_; }
  bool crash() const { return crash_; }
  bool crashReported() const { return crashReported_; }
  Stop stop() const { return stop_; }
  Phase phase() const { return phase_; }
  bool importFailed() const { return !importError_.empty(); }
  const std::string &importError() const { return importError_; }
  unsigned long long peakRss() const { return peakRss_; }
  unsigned long long maxRss() const { return maxRss_; }
  double phaseSeconds() const { return phaseSeconds_; }
  const std::string &currentTarget() const { return target_; }
  const std::vector<std::string> &dump() const { return dump_; }
  const std::vector<std::string> &lastLines() const { return lastLines_; }
  const std::optional<ImportProbe> &imported() const { return imported_; }

  // The function a finding of this phase is placed on.
  std::string culprit() const {
    if (phase_ == Phase::Shutdown)
      return o_.module + " (at exit)";
    if (phase_ == Phase::Import || target_.empty())
      return "PyInit_" + o_.module.substr(o_.module.rfind('.') + 1);
    // A round of two targets is placed on the first (the message names
    // both); first calls on their target.
    if (isFirstCalls(target_))
      return firstCalled(target_);
    if (isTogether(target_))
      return target_.substr(0, target_.find(" + "));
    return target_;
  }

  // What was running: the import, one thread probing a target, or a round.
  std::string during() const {
    switch (phase_) {
    case Phase::Starting:
      return " before the module was imported";
    case Phase::Import:
      return " while " + o_.module + " was imported (module init)";
    case Phase::Discover:
      return " while the module's callables were discovered";
    case Phase::Probe:
      return " while " + target_ +
             " was called from one thread alone (to find its arguments): a "
             "failure with no concurrency";
    case Phase::Shutdown:
      return " while the interpreter shut down, after the last call";
    case Phase::Round:
      break;
    }
    std::string n = std::to_string(o_.threads);
    if (isFirstCalls(target_))
      return " while " + n + " threads made their first calls to " +
             firstCalled(target_) + " at once, in a fresh process";
    if (isTogether(target_)) {
      // In one order, whichever the round had: a finding's text is stable.
      std::string a = target_.substr(0, target_.find(" + "));
      std::string b = target_.substr(target_.find(" + ") + 3);
      if (b < a)
        std::swap(a, b);
      return " while " + n + " threads called " + a + " and " + b + " at once";
    }
    return " while " + n + " threads called " + target_;
  }

  // The arguments the driver found for each target, as indices into its
  // value pool: a fresh process rebuilds them without calling first.
  const std::map<std::string, nlohmann::json> &picks() const { return picks_; }

private:
  void drainLogs() {
    logs_.drain([this](const std::string &file, const std::string &line) {
      TsanStreamParser &p = parsers_[file];
      if (line.find("ThreadSanitizer:DEADLYSIGNAL") != std::string::npos ||
          line.find("ERROR: ThreadSanitizer: SEGV") != std::string::npos)
        crash_ = true;
      if (crash_ && dump_.size() < 60 && stop_ == Stop::None)
        dump_.push_back(line);
      if (p.feed(line))
        race(p.report());
    });
  }

  // The driver's watchdog wrote every thread's Python stack: once the file
  // stops growing, add the native stacks and stop the process.
  bool watchdogFired() {
    std::error_code ec;
    auto size = fs::file_size(folder_.path("dump.txt"), ec);
    if (ec || size == 0 || crash_) {
      dumpSize_ = 0; // none yet, or emptied when its phase ended
      return false;
    }
    // Stable for 1.5 s: TSan may be symbolizing a report in the middle of
    // the dump (the dump reads other threads' frames).
    if (size != dumpSize_) {
      if (dumpSize_ == 0 || size < dumpSize_)
        dumpPhase_ = phaseSerial_; // a dump begins: of the running phase
      dumpSize_ = size;
      dumpStable_ = Clock::now();
      return false;
    }
    if (dumpPhase_ != phaseSerial_) {
      // The phase it was written for ended after all (the driver empties
      // the file when its watchdog stops): not a hang.
      dumpSize_ = 0;
      return false;
    }
    if (secondsSince(dumpStable_) < 1.5)
      return false;
    // A dump with no Python frame in it yet may still be on its way (a
    // loaded machine, TSan symbolizing): give it longer to settle.
    std::string text = fileText(folder_.path("dump.txt"), 256u << 10);
    if (text.find("File \"") == std::string::npos &&
        secondsSince(dumpStable_) < 5.0)
      return false;
    stop_ = Stop::Hang;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l) && dump_.size() < 300;)
      dump_.push_back(l);
    addNativeStacks();
    return true;
  }

  // A phase long past its time with no dump: a process too stuck to run its
  // own watchdog.
  bool phaseOverdue() {
    if (phaseSeconds_ <= 0 || pid_ <= 0)
      return false;
    double grace = std::max(10.0, phaseSeconds_);
    if (secondsSince(phaseStart_) < phaseSeconds_ + grace)
      return false;
    stop_ = Stop::Stuck;
    addNativeStacks();
    return true;
  }

  void addNativeStacks() {
    for (auto &n : nativeStacks(pid_))
      if (dump_.size() < 500)
        dump_.push_back(n);
  }

  void startPhase(Phase p, const nlohmann::json &e) {
    ++phaseSerial_;
    phase_ = p;
    phaseStart_ = Clock::now();
    phaseSeconds_ = e.value("seconds", 0.0);
  }

  void event(const nlohmann::json &e) {
    std::string kind = e.value("event", "");
    if (kind == "phase") {
      std::string name = e.value("name", "");
      target_.clear();
      startPhase(name == "import" ? Phase::Import : Phase::Discover, e);
    } else if (kind == "imported") {
      ImportProbe p;
      p.ok = true;
      p.gil_before = e.value("before", false);
      p.gil_after = e.value("after", false);
      p.warning = e.value("warning", "");
      imported_ = p;
      phaseSeconds_ = 0;
    } else if (kind == "import_error") {
      importError_ = e.value("error", "an error");
    } else if (kind == "probe") {
      target_ = e.value("target", ""); // a crash now is this target's
      startPhase(Phase::Probe, e);
    } else if (kind == "round") {
      reachedRound_ = true;
      target_ = e.value("target", "");
      startPhase(Phase::Round, e);
      if (isFirstCalls(target_))
        addOnce(summary_.first_called, firstCalled(target_));
      else
        addOnce(isTogether(target_) ? summary_.together : summary_.exercised,
                target_);
    } else if (kind == "target") {
      if (e.contains("picks") && e.at("picks").is_array())
        picks_[e.value("target", "")] = e.at("picks");
    } else if (kind == "progress") {
      phaseSeconds_ = 0;
      summary_.calls = callsBefore_ + e.value("calls", 0ul);
      summary_.rounds = roundsBefore_ + e.value("rounds", 0u);
      summary_.round_seconds = roundSecondsBefore_ + e.value("elapsed", 0.0);
      if (ev_.on_progress)
        ev_.on_progress(summary_.calls, o_.threads, secondsSince(t0_));
    } else if (kind == "skipped") {
      addOnce(summary_.skipped,
              e.value("target", "") + ": " + e.value("reason", ""));
    } else if (kind == "concurrency_errors") {
      if (e.contains("errors") && e.at("errors").is_object())
        concurrencyErrors(e.value("target", ""), e.at("errors"));
    } else if (kind == "note") {
      addOnce(summary_.notes, e.value("text", ""));
    } else if (kind == "fork") {
      forked(e.value("threads", 0));
    } else if (kind == "done") {
      done_ = true;
      target_.clear();
      startPhase(Phase::Shutdown, {{"seconds", 10}}); // the exit must follow
    }
  }

  static void addOnce(std::vector<std::string> &v, const std::string &s) {
    // Each restarted child says it again: once is enough.
    if (std::find(v.begin(), v.end(), s) == v.end())
      v.push_back(s);
  }

  void emit(Finding f) {
    if (ev_.on_finding)
      ev_.on_finding(f);
  }

  // fork() while the round's threads ran: the child gets a copy of every
  // lock in whatever state another thread left it. Said once per target;
  // the process (and what it forked) is then stopped.
  void forked(int threads) {
    if (phase_ != Phase::Round) {
      addOnce(summary_.notes, culprit() + " called fork() (from one thread)");
      return;
    }
    stop_ = Stop::Fork;
    if (!seenRaces_.insert("FTR006|" + target_).second)
      return;
    Finding f;
    f.rule = "FTR006";
    f.severity = Severity::Error;
    f.location = {o_.object_name, 0, 0};
    f.function = target_;
    f.message = target_ + " called fork() while " + std::to_string(o_.threads) +
                " threads called it (the process had " +
                std::to_string(threads) +
                " threads): the child inherits locks and state other threads "
                "held mid-update";
    f.fix = "start processes with posix_spawn or subprocess, or fork only "
            "before any thread starts; without the GIL no lock keeps other "
            "threads still during fork()";
    f.fingerprint = makeFingerprint(f.rule, o_.object_name, target_, "fork");
    f.status = Status::DynamicOnly;
    emit(std::move(f));
  }

  void race(const TsanReport &r) {
    ++summary_.tsan_reports;
    std::string rule = ruleForTsanKind(r.kind);
    if (rule.empty())
      return; // a thread leak at exit is not the module's hazard
    // The place to fix: each access stack's first frame in the project's
    // own sources (interpreter and libc frames stay as evidence).
    std::vector<std::string> roots = sourceRoots(o_);
    struct Access {
      const StackFrame *frame;
      bool locked;   // TSan saw a mutex held
      bool indirect; // made inside the interpreter (list_resize), not by
                     // the project's own line
    };
    std::vector<Access> found;
    for (const auto &s : r.stacks)
      if (isAccessStack(s))
        if (const StackFrame *f =
                ownFrame(s, o_.object_name, roots, o_.is_vendored))
          found.push_back({f, s.title.find("(mutexes:") != std::string::npos,
                           madeInInterpreter(s, f)});
    if (found.empty()) {
      ++summary_.tsan_reports_outside;
      return;
    }
    // Placed the same way whichever thread TSan caught second: on the
    // access the project's code made itself without a lock (where the fix
    // goes), else on the first line.
    std::stable_sort(
        found.begin(), found.end(), [&](const Access &a, const Access &b) {
          auto key = [&](const Access &x) {
            return std::make_tuple(x.locked, x.indirect,
                                   original(o_, x.frame->file), x.frame->line);
          };
          return key(a) < key(b);
        });
    std::vector<const StackFrame *> tops;
    for (const auto &a : found)
      tops.push_back(a.frame);
    // One finding per pair of racing source lines (file:line), however
    // many reports TSan prints for it.
    std::vector<std::string> pair;
    for (const auto *f : tops)
      pair.push_back(relativeTo(o_.root, original(o_, f->file)) + ":" +
                     std::to_string(f->line));
    std::sort(pair.begin(), pair.end());
    pair.resize(std::min<size_t>(pair.size(), 2));
    std::string key = r.kind;
    for (const auto &p : pair)
      key += "|" + p;
    // A crash TSan reported is this child's, even when an earlier child's
    // report said the same place: no second, placeless finding for it.
    crashReported_ |= rule == "FTR002";
    if (!seenRaces_.insert(key).second)
      return;
    const StackFrame &top = *tops.front();
    Finding f;
    bool race = rule == "FTR001";
    f.rule = rule;
    f.severity = Severity::Error;
    f.location = {relativeTo(o_.root, original(o_, top.file)), top.line, 0};
    f.function = top.function;
    std::string other = tops.size() > 1 ? tops[1]->function : "the interpreter";
    std::string during = this->during();
    f.message =
        race ? "ThreadSanitizer: " + r.kind + " between " + top.function +
                   " and " + other + during
             : "ThreadSanitizer: " + r.kind + " in " + top.function + during;
    f.fix = rule == "FTR003"
                ? "take the locks in one order everywhere (the two stacks "
                  "show both orders)"
                : "guard the state both stacks touch: "
                  "Py_BEGIN_CRITICAL_SECTION on the object, a PyMutex, or "
                  "atomics (the stacks in the evidence show both "
                  "accesses; a static finding on " +
                      top.function + ", if any, names the state)";
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

  // Did a frame outside the extension (list_resize in the interpreter)
  // make the access, before the project's frame `own`? Inline API helpers
  // compiled into the extension (Py_SIZE) count as the project's line.
  bool madeInInterpreter(const TsanStack &s, const StackFrame *own) const {
    for (const auto &f : s.frames) {
      if (&f == own)
        return false;
      if (fs::path(f.object).filename() != o_.object_name)
        return true;
    }
    return false;
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
  Clock::time_point t0_;
  const WorkDir &folder_;
  TsanLogs logs_;
  std::map<std::string, TsanStreamParser> parsers_; // one per log file
  std::map<std::string, nlohmann::json> picks_;
  std::string target_;
  std::vector<std::string> dump_, lastLines_;
  std::optional<ImportProbe> imported_;
  std::string importError_;
  Phase phase_ = Phase::Starting;
  Clock::time_point phaseStart_ = Clock::now();
  double phaseSeconds_ = 0; // 0: no deadline
  Stop stop_ = Stop::None;
  bool done_ = false, crash_ = false, crashReported_ = false;
  bool reachedRound_ = false;
  int pid_ = 0;
  unsigned ticks_ = 0;
  std::uintmax_t dumpSize_ = 0;
  unsigned phaseSerial_ = 0, dumpPhase_ = 0;
  Clock::time_point dumpStable_ = Clock::now();
  unsigned long long maxRss_, peakRss_ = 0;

  // What the earlier child processes counted; this one's counts add to it.
  unsigned long callsBefore_;
  unsigned roundsBefore_;
  double roundSecondsBefore_;
};

// The first "... at FILE:LINE" of gdb's stacks (or "  fn FILE:LINE (obj)"
// frames) in the project's own sources: where a hang or a crash with no
// TSan report is placed. {"", 0} when no frame is there.
std::pair<std::string, unsigned>
firstProjectFrame(const StressOptions &o,
                  const std::vector<std::string> &dump) {
  static const std::regex at(R"( at (/[^\s:]+):(\d+)\s*$)");
  std::vector<std::string> roots = sourceRoots(o);
  for (const auto &l : dump) {
    std::smatch m;
    if (!std::regex_search(l, m, at))
      continue;
    std::string file = fs::path(m[1].str()).lexically_normal().string();
    for (const auto &r : roots)
      if (!r.empty() && file.rfind(r + "/", 0) == 0)
        if (m[2].length() <= 9) // gdb's output is the process's too
          return {file, static_cast<unsigned>(
                            std::strtoul(m[2].str().c_str(), nullptr, 10))};
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
  if (rule == "FTR003")
    f.fix = "look for a lock taken in two orders, a lock held while calling "
            "back into Python, or a wait on a condition no other thread "
            "makes true; the thread dump is in the evidence";
  else if (rule == "FTR007")
    f.fix = "bound what the call keeps (a cache, a list that only grows), "
            "or release what it allocates on every path";
  else
    f.fix = "run the target under the debug interpreter; the stack is in "
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
void readShimLog(const StressOptions &o, const std::string &log,
                 StressSummary &summary) {
  std::ifstream in(log);
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
    if (j.value("kind", "") == "init")
      continue; // counted for the first-call rounds only
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
}

// How a child that did not finish ended, as a finding: its rule and what
// happened.
struct Ending {
  std::string rule, what;
  std::vector<std::string> dump;
};

std::string mib(unsigned long long bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

Ending classify(const RunObserver &ob, const ProcessResult &r) {
  Ending e{"", "", ob.dump()};
  int seconds = static_cast<int>(ob.phaseSeconds());
  switch (ob.stop()) {
  case Stop::Hang:
    e.rule = "FTR003";
    e.what = ob.phase() == Phase::Round
                 ? "a round ran past " + std::to_string(seconds) +
                       " s (hang or deadlock)"
                 : "a call did not return within " + std::to_string(seconds) +
                       " s (hang)";
    return e;
  case Stop::Stuck:
    e.rule = "FTR003";
    e.what = "the process stopped responding (its own watchdog never ran "
             "after " +
             std::to_string(seconds) + " s) and was killed";
    return e;
  case Stop::Memory:
    e.rule = "FTR007";
    e.what = "resident memory passed " + mib(ob.maxRss()) + " (" +
             mib(ob.peakRss()) + " seen) and the process was stopped";
    return e;
  case Stop::Fork:
    return e; // said when the fork was seen
  case Stop::None:
    break;
  }
  e.rule = "FTR002";
  if (ob.crash() || r.exit_code >= 128) {
    e.what = "the process crashed (" +
             (r.exit_code >= 128 ? "signal " + std::to_string(r.exit_code - 128)
                                 : "exit " + std::to_string(r.exit_code)) +
             ")";
    return e;
  }
  // exit() or _exit() from the module, an uncaught error in a thread it
  // started, or a closed event channel (the driver then exits with 70).
  std::string last =
      ob.lastLines().empty() ? "nothing" : "\"" + ob.lastLines().back() + "\"";
  e.what = r.exit_code == 70
               ? "the module closed the harness's event channel (a descriptor "
                 "it does not own)"
               : "the process exited (code " + std::to_string(r.exit_code) +
                     "), last saying " + last.substr(0, 200);
  e.dump.clear();
  for (const auto &l : ob.lastLines())
    e.dump.push_back("output: " + l);
  return e;
}

void reportGil(const StressOptions &o, const ImportProbe &p,
               const StressEvents &ev) {
  if (!p.ok || !p.gil_after || p.gil_before || !ev.on_finding)
    return;
  Finding f;
  f.rule = "FTR004";
  f.severity = Severity::Warning;
  f.location = {o.object_name, 0, 0};
  f.function = "PyInit_" + o.module.substr(o.module.rfind('.') + 1);
  f.message = "importing " + o.module +
              " re-enabled the GIL for the whole process: " + p.warning;
  f.fix = "declare {Py_mod_gil, Py_MOD_GIL_NOT_USED} once the module is "
          "ready (the stress run went on with PYTHON_GIL=0)";
  f.fingerprint = makeFingerprint(f.rule, o.object_name, f.function, "gil");
  f.status = Status::DynamicOnly;
  ev.on_finding(f);
}

// Seconds of CLOCK_MONOTONIC, the clock of Python's time.monotonic().
double monotonicNow() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

} // namespace

namespace {

// One child process of the run: what it was given and how it went.
struct Child {
  std::unique_ptr<RunObserver> observer;
  ProcessResult result;
};

// What every child shares: the run's options, its findings so far, its
// folder and clock.
struct RunContext {
  const StressOptions &o;
  const StressEvents &ev;
  StressSummary &summary;
  std::set<std::string> &seen;
  Clock::time_point t0;
  const WorkDir &folder;
  double importSeconds;
  unsigned children = 0;
};

nlohmann::json childConfig(const RunContext &run, double left,
                           const std::vector<std::string> &excluded,
                           bool probeOnly, int eventFd) {
  const StressOptions &o = run.o;
  nlohmann::json cfg = {{"module", o.module},
                        {"path", o.module_dir},
                        {"file", o.module_file},
                        {"threads", o.threads},
                        {"budget", left - 1},
                        {"deadline", monotonicNow() + left - 1},
                        {"seed", o.seed + run.summary.restarts},
                        {"iterations", o.iterations},
                        {"max_rounds", o.max_rounds},
                        {"hang_seconds", o.hang_seconds},
                        {"import_seconds", run.importSeconds},
                        {"tsan", o.interpreter.tsan},
                        {"scenario", o.scenario},
                        {"only", o.only},
                        {"exclude", excluded},
                        {"probe_only", probeOnly},
                        {"event_fd", eventFd},
                        {"dump_path", run.folder.path("dump.txt")},
                        {"crash_path", run.folder.path("crash.txt")},
                        {"forkwatch", o.forkwatch_library},
                        {"hints", nlohmann::json::array()},
                        {"pairs", nlohmann::json::array()}};
  for (const auto &[fn, rule] : o.hints)
    cfg["hints"].push_back({fn, rule});
  for (const auto &p : callablePairs(o.state_map))
    cfg["pairs"].push_back({p.writer, p.other});
  return cfg;
}

// Runs the driver once with `cfg`, its events and logs read as they come.
Child runChild(RunContext &run, nlohmann::json cfg, int eventFd, bool gilOff,
               double left, const std::string &shimLog,
               bool countMaking = false, bool hold = false) {
  std::error_code ec;
  fs::remove(run.folder.path("dump.txt"), ec);
  fs::remove(run.folder.path("crash.txt"), ec);
  // Each child's TSan logs of its own: a report is read once, by the
  // observer of the child that wrote it.
  std::string tsanStem = "tsan-" + std::to_string(++run.children);
  Child child;
  child.observer = std::make_unique<RunObserver>(
      run.o, run.ev, run.summary, run.seen, run.t0, run.folder, tsanStem);
  RunObserver &observer = *child.observer;
  ProcessOptions opts;
  opts.env = childEnvironment(run.o, run.folder, tsanStem, gilOff, shimLog);
  // Counting in first-call processes; holding only where several threads
  // make their first calls (not in the control), and nowhere else even if
  // the user's environment says so.
  opts.env.push_back(
      {"FTREADY_SHIM_COUNT_MAKING", countMaking && run.o.shims ? "1" : "0"});
  opts.env.push_back(
      {"FTREADY_SHIM_HOLD_US",
       std::to_string(hold ? run.o.first_call_hold_microseconds : 0)});
  opts.timeout_seconds = left + 2; // the hard budget, whatever runs
  opts.event_fd = eventFd;
  opts.on_event_line = [&observer](const std::string &l) {
    observer.eventLine(l);
  };
  opts.on_stderr_line = [&observer](const std::string &l) {
    observer.outputLine(l);
  };
  opts.on_tick = [&observer] { return observer.tick(); };
  opts.on_start = [&observer](int pid) { observer.setPid(pid); };
  opts.allow_ptrace_by_parent = true;
  child.result = runProcess(
      {run.o.interpreter.path, "-c", kDriverSource,
       cfg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
      opts);
  observer.finish();
  // What left the child's process group (setsid) and was reparented here
  // dies now, before it can write into the next child's run.
  killStrayChildren();
  run.summary.output_cut += child.result.out_dropped + child.result.err_dropped;
  return child;
}

// A child that did not end well: its finding, unless a TSan report already
// said the crash.
void reportEnding(const RunContext &run, const Child &child) {
  const RunObserver &observer = *child.observer;
  Ending end = classify(observer, child.result);
  if (run.ev.on_finding && !end.rule.empty() &&
      !(end.rule == "FTR002" && observer.crashReported()))
    run.ev.on_finding(abortFinding(run.o, end.rule, observer.culprit(),
                                   end.what, observer.during(), end.dump));
}

// The shims' call-site counts of one first-call process: the most calls
// of one making API at a site inside the lazy initialisation's block.
struct InitCount {
  unsigned long calls = 0;
  std::string api, location;
};

// Symbolized once per offset across the first-call processes.
using SymbolCache = std::map<unsigned long, std::pair<std::string, unsigned>>;

std::pair<std::string, unsigned> fileLine(const RunContext &run,
                                          const std::string &object,
                                          unsigned long offset,
                                          SymbolCache &cache) {
  auto it = cache.find(offset);
  if (it != cache.end())
    return it->second;
  auto [fn, loc] = symbolize(object, offset - 1); // "file:line:column"
  auto colon = loc.rfind(':');
  auto colon2 = colon == std::string::npos || colon == 0
                    ? std::string::npos
                    : loc.rfind(':', colon - 1);
  std::pair<std::string, unsigned> out;
  if (colon2 != std::string::npos)
    out = {
        original(run.o, loc.substr(0, colon2)),
        static_cast<unsigned>(std::strtoul(
            loc.substr(colon2 + 1, colon - colon2 - 1).c_str(), nullptr, 10))};
  return cache[offset] = out;
}

std::optional<InitCount> initCountIn(const RunContext &run,
                                     const std::string &log,
                                     const LazyInit &init, SymbolCache &cache) {
  std::ifstream in(log);
  std::optional<InitCount> most;
  std::string initFile = fs::path(init.file).lexically_normal().string();
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    unsigned long calls = j.is_discarded() ? 0 : j.value("calls", 0ul);
    // A site that ran once says nothing: the count that matters is two.
    if (calls < 2 || j.value("kind", "") != "init" ||
        fs::path(j.value("object", "")).filename() != run.o.object_name)
      continue;
    auto [file, lineNo] =
        fileLine(run, j.value("object", ""), j.value("offset", 0ul), cache);
    bool sameFile = file == initFile ||
                    (!file.empty() && fs::path(file).filename() ==
                                          fs::path(initFile).filename());
    if (!sameFile || lineNo < init.first_line || lineNo > init.last_line)
      continue;
    if (!most || calls > most->calls)
      most = InitCount{calls, j.value("api", ""),
                       relativeTo(run.o.root, file) + ":" +
                           std::to_string(lineNo)};
  }
  return most;
}

std::string shortState(const std::string &state) {
  // "global encoder (mod.c)" -> "encoder"
  auto sp = state.find(' ');
  std::string s = sp == std::string::npos ? state : state.substr(sp + 1);
  return s.substr(0, s.find(' '));
}

void reportDoubleInit(const RunContext &run, const CallableLazyInit &lazy,
                      const InitCount &count, unsigned long alone,
                      unsigned process, unsigned processes) {
  std::string var = shortState(lazy.init.state);
  if (!run.seen.insert("FTR008|" + lazy.init.state).second ||
      !run.ev.on_finding)
    return;
  Finding f;
  f.rule = "FTR008";
  f.severity = Severity::Error;
  f.location = {relativeTo(run.o.root, original(run.o, lazy.init.file)),
                lazy.init.first_line, 0};
  f.function = lazy.callable;
  f.message = "'" + var + "' was initialised by several threads at once: " +
              std::to_string(run.o.threads) +
              " threads made their first calls to " + lazy.callable +
              " at once in a fresh process (" + std::to_string(process) +
              " of " + std::to_string(processes) +
              "), and the initialisation ran again after another thread's: "
              "what the first one made can be leaked, or replaced while a "
              "thread uses it";
  f.fix = "create '" + var +
          "' once in Py_mod_exec (module state), or guard its creation "
          "with a static PyMutex and check it again under the lock, or "
          "publish it with a compare-exchange (_Py_atomic / C11 atomics)";
  f.evidence = {"the shims counted " + std::to_string(count.calls) +
                    " calls of " + count.api + " at " + count.location +
                    ", inside the lazy initialisation of " + lazy.init.state +
                    " (lines " + std::to_string(lazy.init.first_line) + "-" +
                    std::to_string(lazy.init.last_line) + "); " +
                    std::to_string(alone) +
                    " when one thread made as many calls alone in a fresh "
                    "process",
                "ThreadSanitizer need not see this: the interpreter's own "
                "locks taken inside the initialisation order the threads"};
  f.fingerprint =
      makeFingerprint(f.rule, f.location.file, lazy.callable, lazy.init.state);
  f.status = Status::DynamicOnly;
  run.ev.on_finding(f);
}

// One fresh process's first calls of `lazy`'s callable (one thread alone
// for the control).
struct FirstCallRun {
  bool ran = false;      // its first calls were made
  bool abnormal = false; // crashed, hung or exited: said as a finding
  std::optional<InitCount> count;
};

FirstCallRun firstCallProcess(RunContext &run, const CallableLazyInit &lazy,
                              const nlohmann::json &picks, bool control,
                              double left, SymbolCache &symbols) {
  FirstCallRun out;
  int eventFd = eventDescriptor(run.o.seed + run.children);
  nlohmann::json cfg = childConfig(run, left, {}, false, eventFd);
  cfg["first_call"] = {
      {"target", lazy.callable}, {"picks", picks}, {"control", control}};
  std::string log = run.folder.path(
      "shims-first-" + std::to_string(run.children + 1) + ".jsonl");
  Child child = runChild(run, cfg, eventFd, true, left, log, true, !control);
  if (child.result.interrupted) {
    run.summary.interrupted = true;
    return out;
  }
  const RunObserver &ob = *child.observer;
  bool timedOut = child.result.timed_out && ob.stop() == Stop::None;
  out.ran = ob.reachedRound();
  bool clean = ob.done() && child.result.exit_code == 0 && !ob.crash() &&
               ob.stop() == Stop::None;
  if (!timedOut && !clean) {
    reportEnding(run, child);
    out.abnormal = true;
  }
  if (run.o.shims && out.ran)
    out.count = initCountIn(run, log, lazy.init, symbols);
  return out;
}

void noteOnce(StressSummary &summary, const std::string &text) {
  if (std::find(summary.notes.begin(), summary.notes.end(), text) ==
      summary.notes.end())
    summary.notes.push_back(text);
}

// Fresh processes in which every thread's first call to a lazily
// initialising callable comes at one barrier, within `share` seconds: a
// control process where one thread makes as many calls alone, then up to
// first_call_processes. The initialisation ran in two threads when its
// calls ran more often than in the control (a loop inside it, or a failing
// one retried on every call, runs as often alone). What could not be
// tried is said in the notes.
void runFirstCalls(RunContext &run,
                   const std::map<std::string, nlohmann::json> &picks,
                   double share) {
  auto lazies = lazyInitCallables(run.o.state_map);
  if (!run.o.shims && !lazies.empty())
    noteOnce(run.summary, "first calls without the shims: a double "
                          "initialisation is seen only if ThreadSanitizer "
                          "reports it");
  std::set<std::string> done; // states found, callables given up on
  SymbolCache symbols;
  auto left = [&] {
    return std::min(share, run.o.budget_seconds) - secondsSince(run.t0);
  };
  for (const auto &lazy : lazies) {
    if (done.count(lazy.init.state) || done.count(lazy.callable))
      continue;
    auto p = picks.find(lazy.callable);
    if (p == picks.end()) {
      noteOnce(run.summary, lazy.callable + ": the lazy initialisation of " +
                                lazy.init.state +
                                " was not tried (no arguments found for its "
                                "first calls)");
      continue;
    }
    std::optional<unsigned long> alone;
    double took = 2; // seconds the last fresh process took
    for (unsigned i = run.o.shims ? 0 : 1; i <= run.o.first_call_processes;
         ++i) {
      if (left() <= 1.5 * took + 1) {
        noteOnce(run.summary,
                 lazy.callable + ": first calls cut short by the budget (" +
                     std::to_string(i ? i - 1 : 0) + " fresh processes)");
        break;
      }
      bool control = i == 0;
      auto began = Clock::now();
      FirstCallRun r =
          firstCallProcess(run, lazy, p->second, control, left(), symbols);
      took = secondsSince(began);
      if (run.summary.interrupted)
        return;
      run.summary.first_call_processes += control ? 0 : 1;
      if (r.abnormal || !r.ran) {
        done.insert(lazy.callable); // said once, not once per process
        break;
      }
      unsigned long count = r.count ? r.count->calls : 1;
      if (control) {
        alone = count;
      } else if (count > alone.value_or(1)) {
        reportDoubleInit(run, lazy, *r.count, alone.value_or(1), i,
                         run.o.first_call_processes);
        done.insert(lazy.init.state);
        break;
      }
    }
  }
}

} // namespace

StressSummary runStress(const StressOptions &o, const StressEvents &ev) {
  auto t0 = Clock::now();
  StressSummary summary;
  std::unique_ptr<WorkDir> made;
  try {
    made = std::make_unique<WorkDir>("ftready-run");
  } catch (const std::system_error &e) {
    summary.import.error = e.what();
    return summary;
  }
  const WorkDir &folder = *made;
  std::set<std::string> seen;
  // A slow import is not a hang: it gets a third of the budget, or
  // hang_seconds if less, and at least 5 s.
  RunContext run{o,
                 ev,
                 summary,
                 seen,
                 t0,
                 folder,
                 std::max(5.0, std::min(o.hang_seconds, o.budget_seconds / 3))};
  std::vector<std::string> excluded;
  std::vector<std::string> firstCallTargets;
  for (const auto &l : lazyInitCallables(o.state_map))
    if (std::find(firstCallTargets.begin(), firstCallTargets.end(),
                  l.callable) == firstCallTargets.end())
      firstCallTargets.push_back(l.callable);
  bool probed = false; // the first child only imports, with the GIL default
  for (;;) {
    double left = o.budget_seconds - secondsSince(t0);
    if (left <= 1) {
      if (!probed)
        summary.import.error = "the budget ran out before the module was "
                               "imported";
      break;
    }
    bool probeOnly = !probed;
    int eventFd = eventDescriptor(o.seed + summary.restarts);
    nlohmann::json cfg = childConfig(run, left, excluded, probeOnly, eventFd);
    if (probeOnly)
      cfg["arguments_for"] = firstCallTargets;
    Child child = runChild(run, cfg, eventFd, !probeOnly, left,
                           folder.path("shims.jsonl"));
    const RunObserver &observer = *child.observer;
    const ProcessResult &r = child.result;
    if (probeOnly && observer.imported()) {
      summary.import = *observer.imported();
      reportGil(o, summary.import, ev);
    }
    probed = true;
    if (r.interrupted) {
      summary.interrupted = true;
      break;
    }
    if (observer.importFailed()) {
      summary.import.ok = false;
      summary.import.error = observer.importError();
      break;
    }
    // Done, and then a clean exit: a crash or a hang at exit (a module's
    // m_free, an atexit handler, a thread it started) is still a finding.
    bool cleanExit = r.exit_code == 0 && !observer.crash() &&
                     observer.stop() == Stop::None && !r.stopped;
    if (observer.done() && (cleanExit || r.timed_out)) {
      if (probeOnly) {
        // A quarter of the budget at most for the first calls.
        runFirstCalls(run, observer.picks(),
                      secondsSince(t0) + o.budget_seconds / 4);
        if (summary.interrupted)
          break;
        continue;
      }
      summary.completed = true;
      break;
    }
    if (observer.phase() == Phase::Starting) {
      // The interpreter or the driver failed before the import began: not
      // the module's doing, and nothing was tested.
      std::string words;
      for (const auto &l : observer.lastLines())
        words += l + "\n";
      summary.import.error = "the interpreter did not start (exit " +
                             std::to_string(r.exit_code) +
                             "): " + (words.empty() ? "no output" : words);
      break;
    }
    bool inImport = observer.phase() == Phase::Import;
    if (r.timed_out && observer.stop() == Stop::None) {
      // The budget ended: not the module's fault.
      if (inImport)
        summary.import.error =
            "the import did not finish within the budget: give more time";
      else
        summary.completed = true;
      break;
    }
    reportEnding(run, child);
    if (inImport) {
      summary.import.ok = false;
      summary.import.error = classify(observer, r).what + observer.during();
      break;
    }
    if (observer.phase() == Phase::Shutdown) {
      if (probeOnly)
        continue; // said; the stress run still runs
      summary.completed = true;
      break;
    }
    std::string target = observer.currentTarget();
    if (target.empty() ||
        std::find(excluded.begin(), excluded.end(), target) != excluded.end())
      break;
    excluded.push_back(target);
    ++summary.restarts;
  }
  summary.elapsed_seconds = secondsSince(t0);
  if (o.shims)
    readShimLog(o, folder.path("shims.jsonl"), summary);
  return summary;
}

} // namespace ftready::stress
