#include "ftready/interrupt.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace ftready {
namespace {

// Written by the handler, read everywhere: lock-free atomics only.
std::atomic<int> gSignal{0};
std::atomic<int> gReadFd{-1};
std::atomic<int> gWriteFd{-1};

void onSignal(int sig) {
  int expected = 0;
  if (!gSignal.compare_exchange_strong(expected, sig))
    _exit(128 + sig); // a second Ctrl-C: stop now (children die with us)
  int saved = errno;
  int fd = gWriteFd.load();
  if (fd >= 0) {
    char c = 1;
    ssize_t ignored = write(fd, &c, 1); // non-blocking: one byte is enough
    (void)ignored;
  }
  errno = saved;
}

} // namespace

InterruptSignals::InterruptSignals() {
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
    gReadFd = p[0];
    gWriteFd = p[1];
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

InterruptSignals::~InterruptSignals() {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  int r = gReadFd.exchange(-1), w = gWriteFd.exchange(-1);
  if (r >= 0)
    close(r);
  if (w >= 0)
    close(w);
}

int interruptSignal() { return gSignal.load(); }
int interruptFd() { return gReadFd.load(); }

} // namespace ftready
