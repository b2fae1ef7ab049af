// Runs a child process and captures what it prints.
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
};

struct ProcessOptions {
  std::vector<std::pair<std::string, std::string>> env; // added or replaced
  double timeout_seconds = 0;                           // 0: no limit
  double idle_timeout_seconds = 0; // killed after this long without output
  std::string stdin_text;
  // Called with each complete line as it arrives (without the newline), so
  // a caller can act on output before the process ends.
  std::function<void(const std::string &)> on_stdout_line;
  std::function<void(const std::string &)> on_stderr_line;
  // Called once the child runs, with its pid (to inspect or stop it).
  std::function<void(int)> on_start;
};

inline ProcessOptions
withTimeout(double seconds,
            std::vector<std::pair<std::string, std::string>> env = {}) {
  ProcessOptions o;
  o.timeout_seconds = seconds;
  o.env = std::move(env);
  return o;
}

// argv[0] is looked up in PATH. Never throws; a start failure is exit_code -1
// with the reason in `err`.
ProcessResult runProcess(const std::vector<std::string> &argv,
                         const ProcessOptions &options = {});

} // namespace ftready
