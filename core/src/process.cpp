#include "ftready/process.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace ftready {
namespace {

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

} // namespace

ProcessResult runProcess(const std::vector<std::string> &argv,
                         const ProcessOptions &options) {
  ProcessResult result;
  if (argv.empty()) {
    result.err = "no command";
    return result;
  }
  int outPipe[2], errPipe[2], inPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) || pipe2(errPipe, O_CLOEXEC) ||
      pipe2(inPipe, O_CLOEXEC)) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2);
  std::vector<std::string> args = argv;
  std::vector<std::string> env = mergedEnvironment(options.env);
  auto cArgs = cStrings(args);
  auto cEnv = cStrings(env);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, cArgs[0], &actions, nullptr, cArgs.data(),
                        cEnv.data());
  posix_spawn_file_actions_destroy(&actions);
  close(outPipe[1]);
  close(errPipe[1]);
  close(inPipe[0]);
  if (rc != 0) {
    close(outPipe[0]);
    close(errPipe[0]);
    close(inPipe[1]);
    result.err = argv[0] + ": " + std::strerror(rc);
    return result;
  }
  if (options.on_start)
    options.on_start(static_cast<int>(pid));
  if (!options.stdin_text.empty()) {
    // Small inputs only: a script or a scenario file's text.
    ssize_t ignored =
        write(inPipe[1], options.stdin_text.data(), options.stdin_text.size());
    (void)ignored;
  }
  close(inPipe[1]);

  auto start = std::chrono::steady_clock::now();
  auto lastOutput = start;
  pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  const std::function<void(const std::string &)> *lineHandlers[2] = {
      &options.on_stdout_line, &options.on_stderr_line};
  size_t lineStart[2] = {0, 0};
  auto deliverLines = [&](int i, bool atEnd) {
    if (!*lineHandlers[i])
      return;
    std::string &buf = *sinks[i];
    for (size_t nl; (nl = buf.find('\n', lineStart[i])) != std::string::npos;) {
      (*lineHandlers[i])(buf.substr(lineStart[i], nl - lineStart[i]));
      lineStart[i] = nl + 1;
    }
    if (atEnd && lineStart[i] < buf.size()) {
      (*lineHandlers[i])(buf.substr(lineStart[i]));
      lineStart[i] = buf.size();
    }
  };
  int open = 2;
  char buf[65536];
  while (open > 0) {
    int waitMs = -1;
    if (options.idle_timeout_seconds > 0) {
      double idle = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - lastOutput)
                        .count();
      if (idle >= options.idle_timeout_seconds) {
        result.timed_out = true;
        kill(pid, SIGKILL);
        break;
      }
      waitMs =
          static_cast<int>((options.idle_timeout_seconds - idle) * 1000) + 1;
    }
    if (options.timeout_seconds > 0) {
      double left = options.timeout_seconds -
                    std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
      if (left <= 0) {
        result.timed_out = true;
        kill(pid, SIGKILL);
        break;
      }
      int totalMs = static_cast<int>(left * 1000) + 1;
      waitMs = waitMs < 0 ? totalMs : std::min(waitMs, totalMs);
    }
    int n = poll(fds, 2, waitMs);
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        lastOutput = std::chrono::steady_clock::now();
        sinks[i]->append(buf, static_cast<size_t>(got));
        deliverLines(i, false);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto &fd : fds)
    if (fd.fd >= 0)
      close(fd.fd);
  deliverLines(0, true);
  deliverLines(1, true);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

} // namespace ftready
