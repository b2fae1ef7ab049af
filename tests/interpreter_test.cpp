// Bring your own interpreter: what ftready accepts, what it refuses and
// why, read from the probe's answer (no interpreter needed), and the
// compilers an interpreter's extensions are built with.
#include "ftready/interpreters.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace {

using ftready::checkFreeThreaded;
using ftready::interpreterFromProbe;

// A probe answer as python3.13t gives it, with `change` applied.
std::string answer(const nlohmann::json &change) {
  nlohmann::json j = {{"version", "3.13.5"},
                      {"major", 3},
                      {"minor", 13},
                      {"implementation", "cpython"},
                      {"ft", true},
                      {"gil", false},
                      {"tsan", false},
                      {"include", "/opt/py/include/python3.13t"},
                      {"ext_suffix", ".cpython-313t-x86_64-linux-gnu.so"},
                      {"cc", "gcc"},
                      {"cxx", "g++"}};
  j.update(change);
  return j.dump();
}

ftready::InterpreterVerdict verdictOf(const nlohmann::json &change) {
  std::string why;
  auto in = interpreterFromProbe("/opt/py/bin/python3", answer(change), &why);
  EXPECT_TRUE(in) << why;
  return in ? checkFreeThreaded(*in) : ftready::InterpreterVerdict{"?", ""};
}

TEST(Interpreter, FreeThreaded313And314AreAccepted) {
  for (int minor : {13, 14}) {
    auto v = verdictOf({{"minor", minor}});
    EXPECT_EQ(v.error, "") << minor;
    EXPECT_EQ(v.warning, "") << minor;
  }
}

TEST(Interpreter, GilBuildIsRefusedWithItsFreeThreadedTwinNamed) {
  auto v = verdictOf({{"ft", false}, {"gil", true}});
  EXPECT_EQ(v.error,
            "/opt/py/bin/python3 (cpython 3.13.5) is built with the GIL "
            "(Py_GIL_DISABLED is 0): give its free-threaded build, "
            "python3.13t (e.g. actions/setup-python with '3.13t', or `uv "
            "python install 3.13t`)");
}

TEST(Interpreter, OlderThan313IsRefused) {
  auto v = verdictOf({{"version", "3.12.3"}, {"minor", 12}, {"ft", false}});
  EXPECT_NE(v.error.find("older than 3.13"), std::string::npos) << v.error;
  v = verdictOf({{"version", "2.7.18"}, {"major", 2}, {"minor", 7}});
  EXPECT_NE(v.error.find("older than 3.13"), std::string::npos) << v.error;
}

TEST(Interpreter, OtherImplementationsAreRefused) {
  auto v = verdictOf({{"implementation", "pypy"}});
  EXPECT_NE(v.error.find("is not CPython"), std::string::npos) << v.error;
}

TEST(Interpreter, NewerThanKnownIsUsedWithAWarning) {
  auto v = verdictOf({{"version", "3.15.0a1"}, {"minor", 15}});
  EXPECT_EQ(v.error, "");
  EXPECT_NE(v.warning.find("newer than the versions ftready knows"),
            std::string::npos)
      << v.warning;
}

TEST(Interpreter, AnswerThatIsNotAProbeIsAnError) {
  std::string why;
  EXPECT_FALSE(interpreterFromProbe("/x/python", "Hello\n", &why));
  EXPECT_EQ(why, "/x/python answered something other than a CPython probe");
  EXPECT_FALSE(
      interpreterFromProbe("/x/python", R"({"version": "3.13.0"})", &why));
}

TEST(Interpreter, ExtensionsUseTheInterpretersOwnCompilers) {
  ftready::Interpreter in;
  in.cc = "/usr/bin/gcc"; // a full path: the name on PATH is used
  in.cxx = "g++";
  auto c = ftready::compilersFor(in, "clang-16");
  EXPECT_EQ(c.c, "gcc");
  EXPECT_EQ(c.cxx, "g++");
  in.cxx = ""; // no CXX: the C compiler's twin
  EXPECT_EQ(ftready::compilersFor(in, "clang-16").cxx, "g++");
}

TEST(Interpreter, CompilerNotOnPathFallsBack) {
  ftready::Interpreter in;
  in.cc = "x86_64-vendor-linux-gnu-gcc-99";
  auto c = ftready::compilersFor(in, "clang-16");
  EXPECT_EQ(c.c, "clang-16");
  EXPECT_EQ(c.cxx, "clang++-16");
  in.cc = "";
  EXPECT_EQ(ftready::compilersFor(in, "gcc-12").cxx, "g++-12");
}

} // namespace
