// Runs a child process and captures what it prints. The child is treated as
// hostile: it runs in a process group of its own and dies with its parent;
// everything in its group (whatever it forked) is killed when it ends, times
// out or is stopped, and what of it is this process's child is reaped.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ftready {

struct ProcessResult {
  int exit_code = -1; // 128 + signal when killed by one; -1 when not started
  std::string out;
  std::string err;
  bool timed_out = false;
  bool stopped = false;     // on_tick asked for it
  bool interrupted = false; // SIGINT or SIGTERM reached ftready (interrupt.h)
  // Bytes of output not kept (a flood): the first and last bytes are kept.
  unsigned long out_dropped = 0;
  unsigned long err_dropped = 0;
};

struct ProcessOptions {
  std::vector<std::pair<std::string, std::string>> env; // added or replaced
  double timeout_seconds = 0;                           // 0: no limit
  double idle_timeout_seconds = 0; // killed after this long without output
  // Called with each complete line as it arrives (without the newline), so
  // a caller can act on output before the process ends. A line longer than
  // max_line_bytes is cut there.
  std::function<void(const std::string &)> on_stdout_line;
  std::function<void(const std::string &)> on_stderr_line;
  // A private channel: a pipe whose write end the child gets as file
  // descriptor `event_fd` (0: none), read line by line into on_event_line.
  // What the child prints on stdout/stderr cannot reach it.
  int event_fd = 0;
  std::function<void(const std::string &)> on_event_line;
  // Called about every tick_seconds while the child runs; returning true
  // kills the child's whole process group (result.stopped).
  std::function<bool()> on_tick;
  double tick_seconds = 0.25;
  // Called once the child runs, with its pid (also its process group).
  std::function<void(int)> on_start;
  // Let this process (and so its children, such as gdb) ptrace the child
  // under Yama's ptrace_scope=1.
  bool allow_ptrace_by_parent = false;
  // Output kept per stream: the first half and the last half of this.
  size_t max_captured_bytes = 4u << 20;
  size_t max_line_bytes = 64u << 10;
};

inline ProcessOptions
withTimeout(double seconds,
            std::vector<std::pair<std::string, std::string>> env = {}) {
  ProcessOptions o;
  o.timeout_seconds = seconds;
  o.env = std::move(env);
  return o;
}

// The first executable `name` in $PATH, or "" when there is none.
std::string findOnPath(const std::string &name);

// argv[0] is looked up in PATH. Never throws; a start failure is exit_code -1
// with the reason in `err`.
ProcessResult runProcess(const std::vector<std::string> &argv,
                         const ProcessOptions &options = {});

// Makes this process the reaper of every orphan among its descendants
// (PR_SET_CHILD_SUBREAPER), so that nothing a child forks can escape to
// init: killStrayChildren() finds them at the end of a run.
void becomeSubreaper();

// Kills and reaps every child this process still has. Call it where no
// runProcess is under way (the end of a command).
unsigned killStrayChildren();

// Resident memory of the process group `pgid`, in bytes, from /proc.
unsigned long long groupResidentBytes(int pgid);

// The same, with each page shared between the group's processes (after a
// fork, copy-on-write) counted once in all (Pss, /proc/PID/smaps_rollup);
// slower to read. groupResidentBytes when the kernel has no smaps_rollup.
unsigned long long groupProportionalBytes(int pgid);

} // namespace ftready
