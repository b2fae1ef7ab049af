// The managed interpreters are what ftready promises: free-threaded, and the
// -tsan flavour built with ThreadSanitizer.
#include "ftready/process.h"
#include "test_support.h"

#include <gtest/gtest.h>

namespace {

TEST(Toolchain, Managed313tRunsWithoutTheGil) {
  std::string why;
  auto in = ftready::probeInterpreter(ftready::test::managed("3.13t"), &why);
  ASSERT_TRUE(in) << why;
  EXPECT_EQ(in->version.rfind("3.13.", 0), 0u) << in->version;
  EXPECT_TRUE(in->gil_disabled_build);
  EXPECT_FALSE(in->gil_enabled_at_run);
  EXPECT_FALSE(in->tsan);
  auto r = ftready::runProcess({in->path, "-c",
                                "import sys, sysconfig; "
                                "print(sys._is_gil_enabled(), "
                                "sysconfig.get_config_var('Py_GIL_DISABLED'))"},
                               ftready::withTimeout(60));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "False 1\n");
}

TEST(Toolchain, Managed313tTsanIsThreadSanitized) {
  std::string why;
  auto in =
      ftready::probeInterpreter(ftready::test::managed("3.13t-tsan"), &why);
  ASSERT_TRUE(in) << why;
  EXPECT_TRUE(in->gil_disabled_build);
  EXPECT_FALSE(in->gil_enabled_at_run);
  EXPECT_TRUE(in->tsan);
}

TEST(Toolchain, Managed313tHasSetuptoolsOffline) {
  auto r =
      ftready::runProcess({ftready::test::managed("3.13t"), "-c",
                           "import setuptools; print(setuptools.__version__)"},
                          ftready::withTimeout(60));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

} // namespace
