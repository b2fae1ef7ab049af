#include "ftready/process.h"

#include "ftready/interrupt.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace ftready {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string>
mergedEnvironment(const std::vector<std::pair<std::string, std::string>> &add) {
  std::map<std::string, std::string> vars;
  for (char **e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto &[k, v] : add)
    vars[k] = v;
  std::vector<std::string> out;
  for (const auto &[k, v] : vars)
    out.push_back(k + "=" + v);
  return out;
}

std::vector<char *> cStrings(std::vector<std::string> &strings) {
  std::vector<char *> out;
  for (auto &s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// argv[0] as execve wants it: looked up in this process's PATH, before
// fork, where allocation is still allowed.
std::string executablePath(const std::string &name) {
  if (name.find('/') != std::string::npos)
    return name;
  const char *path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

// Moves a descriptor above `floor`, close-on-exec, so that the child's dup2
// onto 0-2 and the event descriptor never overwrites another source.
int above(int fd, int floor) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor + 1);
  close(fd);
  return moved;
}

// What is kept of a stream: its first half-budget and its last, with the
// number of bytes dropped between them; and the line being assembled.
class Capture {
public:
  Capture(size_t maxBytes, size_t maxLine)
      : half_(std::max<size_t>(maxBytes / 2, 1)), maxLine_(maxLine) {}

  template <class OnLine> void append(const char *data, size_t n, OnLine &on) {
    size_t toHead = std::min(n, half_ - std::min(half_, head_.size()));
    head_.append(data, toHead);
    tail_.append(data + toHead, n - toHead);
    if (tail_.size() > 2 * half_) {
      size_t cut = tail_.size() - half_;
      tail_.erase(0, cut);
      dropped_ += cut;
    }
    splitLines(data, n, on);
  }

  template <class OnLine> void finish(OnLine &on) {
    if (!line_.empty() && on)
      on(line_);
    line_.clear();
  }

  std::string text() const {
    if (!dropped_)
      return head_ + tail_;
    return head_ + "\n[ftready: " + std::to_string(dropped_) +
           " bytes of output cut]\n" + tail_;
  }
  unsigned long dropped() const { return dropped_; }

private:
  template <class OnLine>
  void splitLines(const char *data, size_t n, OnLine &on) {
    if (!on)
      return;
    for (size_t i = 0; i < n;) {
      const char *nl =
          static_cast<const char *>(std::memchr(data + i, '\n', n - i));
      size_t end = nl ? static_cast<size_t>(nl - data) : n;
      size_t room = maxLine_ - std::min(maxLine_, line_.size());
      line_.append(data + i, std::min(room, end - i));
      if (!nl)
        break;
      on(line_);
      line_.clear();
      i = end + 1;
    }
  }

  size_t half_, maxLine_;
  std::string head_, tail_, line_;
  unsigned long dropped_ = 0;
};

// SIGKILL to the whole group (and to the leader, should it have left the
// group), then reap what of it is this process's child: the leader, whose
// status lands in `status` unless it was reaped before, and orphans
// reparented here when ftready is a subreaper.
void killGroup(pid_t pid, bool leaderReaped, int *status) {
  auto t0 = Clock::now();
  if (!leaderReaped)
    kill(pid, SIGKILL);
  while (since(t0) < 5) {
    bool alive = kill(-pid, SIGKILL) == 0;
    int st;
    for (pid_t w; (w = waitpid(-pid, &st, WNOHANG)) > 0;)
      if (w == pid && !leaderReaped) {
        *status = st;
        leaderReaped = true;
      }
    if (!leaderReaped && waitpid(pid, &st, WNOHANG) == pid) {
      *status = st;
      leaderReaped = true;
    }
    if (!alive && leaderReaped)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

struct Spawned {
  pid_t pid = -1;
  std::string error;
};

// fork + exec, with only async-signal-safe calls in the child: it may be
// forked from a process with threads.
Spawned spawn(const std::string &exe, std::vector<std::string> args,
              std::vector<std::string> env, const int fds[4], int eventFd,
              bool allowPtrace) {
  Spawned s;
  auto cArgs = cStrings(args);
  auto cEnv = cStrings(env);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    s.error = std::string("pipe: ") + std::strerror(errno);
    return s;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // ftready's handlers first, then the mask: a signal in between must
    // not reach the parent's self-pipe from here.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (allowPtrace)
      prctl(PR_SET_PTRACER, parent, 0, 0, 0);
    if (getppid() != parent)
      _exit(127); // the parent died before PDEATHSIG was set
    int ok = dup2(fds[0], 0) >= 0 && dup2(fds[1], 1) >= 0 &&
             dup2(fds[2], 2) >= 0 && (!eventFd || dup2(fds[3], eventFd) >= 0);
    if (ok)
      execve(exe.c_str(), cArgs.data(), cEnv.data());
    int e = errno;
    ssize_t ignored = write(report[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  if (pid < 0) {
    s.error = std::string("fork: ") + std::strerror(errno);
    close(report[0]);
    return s;
  }
  setpgid(pid, pid); // both sides, so that no kill can miss it
  int e = 0;
  ssize_t got;
  while ((got = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof e)) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    s.error = args[0] + ": " + std::strerror(e);
    return s;
  }
  s.pid = pid;
  return s;
}

} // namespace

ProcessResult runProcess(const std::vector<std::string> &argv,
                         const ProcessOptions &options) {
  ProcessResult result;
  if (argv.empty()) {
    result.err = "no command";
    return result;
  }
  if (interruptSignal()) {
    result.interrupted = true; // Ctrl-C came: start nothing new
    result.err = "interrupted";
    return result;
  }
  std::string exe = executablePath(argv[0]);
  if (exe.empty()) {
    result.err = argv[0] + ": " + std::strerror(ENOENT);
    return result;
  }
  // [0]: stdin, [1]: stdout, [2]: stderr, [3]: events. Child ends, parent's.
  int child[4] = {-1, -1, -1, -1}, ours[4] = {-1, -1, -1, -1};
  int floor = std::max(options.event_fd, 2);
  for (int i = 0; i < 4; ++i) {
    if (i == 3 && !options.event_fd)
      break;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
      result.err = std::string("pipe: ") + std::strerror(errno);
      for (int fd : child)
        if (fd >= 0)
          close(fd);
      for (int fd : ours)
        if (fd >= 0)
          close(fd);
      return result;
    }
    bool in = i == 0;
    child[i] = above(in ? p[0] : p[1], floor);
    ours[i] = above(in ? p[1] : p[0], floor);
  }
  Spawned s = spawn(exe, argv, mergedEnvironment(options.env), child,
                    options.event_fd, options.allow_ptrace_by_parent);
  for (int fd : child)
    if (fd >= 0)
      close(fd);
  if (s.pid < 0) {
    for (int fd : ours)
      if (fd >= 0)
        close(fd);
    result.err = s.error;
    return result;
  }
  pid_t pid = s.pid;
  if (options.on_start)
    options.on_start(static_cast<int>(pid));
  close(ours[0]); // the child's stdin: empty, at its end

  Capture out(options.max_captured_bytes, options.max_line_bytes),
      err(options.max_captured_bytes, options.max_line_bytes),
      events(options.max_line_bytes, options.max_line_bytes);
  Capture *captures[3] = {&out, &err, &events};
  const std::function<void(const std::string &)> *handlers[3] = {
      &options.on_stdout_line, &options.on_stderr_line, &options.on_event_line};
  auto start = Clock::now(), lastOutput = start, lastTick = start;
  int status = 0;
  bool exited = false;
  char buf[65536];
  // Reads what is ready, waiting up to waitMs: Shut once every pipe is
  // closed, Idle when nothing came.
  enum Pumped { Shut, Idle, Read };
  auto pump = [&](int waitMs) {
    pollfd fds[4];
    int map[4], n = 0;
    for (int i = 0; i < 3; ++i)
      if (ours[i + 1] >= 0) {
        fds[n] = {ours[i + 1], POLLIN, 0};
        map[n++] = i;
      }
    if (n == 0)
      return Shut;
    int irq = interruptFd(); // wakes the wait; the loop checks the signal
    if (irq >= 0)
      fds[n] = {irq, POLLIN, 0};
    if (poll(fds, n + (irq >= 0), waitMs) <= 0)
      return Idle;
    Pumped r = Idle;
    for (int k = 0; k < n; ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      int i = map[k];
      ssize_t got = read(fds[k].fd, buf, sizeof buf);
      if (got > 0) {
        lastOutput = Clock::now();
        captures[i]->append(buf, static_cast<size_t>(got), *handlers[i]);
        r = Read;
      } else if (got == 0 || errno != EINTR) {
        close(ours[i + 1]);
        ours[i + 1] = -1;
      }
    }
    return r;
  };
  for (;;) {
    if (interruptSignal()) {
      result.interrupted = true;
      break;
    }
    double wait = options.tick_seconds;
    if (options.timeout_seconds > 0) {
      double left = options.timeout_seconds - since(start);
      if (left <= 0) {
        result.timed_out = true;
        break;
      }
      wait = std::min(wait, left);
    }
    if (options.idle_timeout_seconds > 0) {
      double left = options.idle_timeout_seconds - since(lastOutput);
      if (left <= 0) {
        result.timed_out = true;
        break;
      }
      wait = std::min(wait, left);
    }
    int waitMs = static_cast<int>(wait * 1000) + 1;
    if (pump(waitMs) == Shut) {
      // Every pipe is shut (the child closed its output): wait on time.
      pollfd irq = {interruptFd(), POLLIN, 0};
      poll(&irq, irq.fd >= 0 ? 1 : 0, std::min(waitMs, 50));
    }
    if (since(lastTick) >= options.tick_seconds) {
      lastTick = Clock::now();
      if (options.on_tick && options.on_tick()) {
        result.stopped = true;
        break;
      }
    }
    // The leader's end is the run's end, even when what it forked still
    // holds the pipes open.
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
  }
  if (exited) {
    // What it wrote just before exiting is still in the pipes.
    auto drainStart = Clock::now();
    while (since(drainStart) < 0.5 && pump(20) != Shut) {
    }
  }
  killGroup(pid, exited, &status);
  // The group is dead: take what is left in the pipes, without waiting for
  // a writer that escaped it (a process that left the group).
  for (int i = 0; i < 1000 && pump(0) == Read; ++i) {
  }
  for (int i = 1; i < 4; ++i)
    if (ours[i] >= 0)
      close(ours[i]);
  for (int i = 0; i < 3; ++i)
    captures[i]->finish(*handlers[i]);
  result.out = out.text();
  result.err = err.text();
  result.out_dropped = out.dropped();
  result.err_dropped = err.dropped();
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

void becomeSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

namespace {

// (pid, field) for every process in /proc, field: 0-based index into the
// fields after the command name of /proc/PID/stat (0: state, 1: ppid,
// 2: pgrp, 21: rss in pages).
template <class Visit> void forEachProcess(Visit visit) {
  DIR *d = opendir("/proc");
  if (!d)
    return;
  while (dirent *e = readdir(d)) {
    char *end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end || pid <= 0)
      continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    auto paren = stat.rfind(')');
    if (paren == std::string::npos)
      continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::vector<std::string> f;
    for (std::string x; fields >> x && f.size() < 24;)
      f.push_back(x);
    if (f.size() >= 22)
      visit(static_cast<int>(pid), f);
  }
  closedir(d);
}

} // namespace

unsigned killStrayChildren() {
  unsigned killed = 0;
  for (int pass = 0; pass < 20; ++pass) {
    std::vector<int> strays;
    int self = getpid();
    forEachProcess([&](int pid, const std::vector<std::string> &f) {
      if (std::stoi(f[1]) == self)
        strays.push_back(pid);
    });
    if (strays.empty())
      break;
    for (int pid : strays) {
      kill(pid, SIGKILL);
      int status;
      waitpid(pid, &status, 0);
      ++killed;
    }
  }
  return killed;
}

unsigned long long groupProportionalBytes(int pgid) {
  unsigned long long bytes = 0;
  bool read = false;
  forEachProcess([&](int pid, const std::vector<std::string> &f) {
    if (std::stoi(f[2]) != pgid)
      return;
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("Pss:", 0) == 0) {
        bytes += std::strtoull(line.c_str() + 4, nullptr, 10) * 1024;
        read = true;
        break;
      }
  });
  return read ? bytes : groupResidentBytes(pgid);
}

unsigned long long groupResidentBytes(int pgid) {
  unsigned long long pages = 0;
  forEachProcess([&](int, const std::vector<std::string> &f) {
    if (std::stoi(f[2]) == pgid)
      pages += std::stoull(f[21]);
  });
  return pages * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
}

std::string findOnPath(const std::string &name) {
  const char *path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

} // namespace ftready
