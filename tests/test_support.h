// Helpers shared by the tests: where the managed interpreters are.
#pragma once

#include "ftready/interpreters.h"

#include <gtest/gtest.h>

#include <string>

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

} // namespace ftready::test
