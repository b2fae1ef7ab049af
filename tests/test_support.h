// Helpers shared by the tests: where the managed interpreters are.
#pragma once

#include "ftready/interpreters.h"

#include <gtest/gtest.h>

#include <spawn.h>
#include <string>
#include <vector>

extern char **environ;

namespace ftready::test {

// The managed 3.13t's include folder; fails the test when it is missing.
inline std::string pythonInclude() {
  static const std::string include = [] {
    std::string why;
    auto in = probeInterpreter(
        managedInterpreterPath(cacheDirectory(), "3.13t"), &why);
    return in ? in->include_dir : std::string();
  }();
  EXPECT_FALSE(include.empty())
      << "managed 3.13t missing: run scripts/toolchain.sh";
  return include;
}

inline std::string managed(const std::string &flavour) {
  return managedInterpreterPath(cacheDirectory(), flavour);
}

// Starts a process and returns at once (to kill it mid-run); 0 on failure.
inline pid_t startProcess(std::vector<std::string> args) {
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    return 0;
  return pid;
}

} // namespace ftready::test
