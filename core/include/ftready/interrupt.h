// Ctrl-C and `kill`: SIGINT and SIGTERM turned into something a run polls.
//
// A signal handler cannot be handed an object, so this is the one piece of
// process-wide state in ftready: a self-pipe and the signal's number, set
// by the handler, read by runProcess (which then stops its child's process
// group) and by the commands (which then write what they found, marked
// incomplete, and exit with 128 + the signal).
#pragma once

namespace ftready {

// Installs the handlers for its lifetime (main() holds one).
class InterruptSignals {
public:
  InterruptSignals();
  ~InterruptSignals();
  InterruptSignals(const InterruptSignals &) = delete;
  InterruptSignals &operator=(const InterruptSignals &) = delete;
};

// The signal that arrived (SIGINT, SIGTERM), or 0.
int interruptSignal();
// Readable once a signal arrived; -1 when no handler is installed.
int interruptFd();

} // namespace ftready
