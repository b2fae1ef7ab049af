// Where a ThreadSanitizer report is placed: the first frame in the
// project's own sources, from the access stacks only.
#include "ftready/finding.h"
#include "ftready/stress/tsan_report.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace ftready::stress;

namespace {

// A SEGV inside CPython's atomics, inlined into the extension: the place to
// fix is the extension's own line that called them.
const char *kCrash =
    R"(==4242==ERROR: ThreadSanitizer: SEGV on unknown address 0x000000000010 (pc 0x7f0 bp 0x7f1 sp 0x7f2 T4243)
==4242==The signal is caused by a READ memory access.
    #0 _Py_atomic_load_ssize_relaxed /opt/py/include/python3.13td/cpython/pyatomic_gcc.h:367:10 (_multidict.cpython-313td-x86_64-linux-gnu.so+0x1234)
    #1 Py_INCREF /opt/py/include/python3.13td/object.h:790:5 (_multidict.cpython-313td-x86_64-linux-gnu.so+0x1234)
    #2 pair_list_get /build/tree/multidict/_multilib/pair_list.h:360:9 (_multidict.cpython-313td-x86_64-linux-gnu.so+0x1234)
    #3 multidict_setdefault /build/tree/multidict/_multidict.c:812:12 (_multidict.cpython-313td-x86_64-linux-gnu.so+0x1234)
    #4 cfunction_vectorcall_FASTCALL_KEYWORDS /src/Objects/methodobject.c:441:24 (python3.13+0x2)

ThreadSanitizer can not provide additional info.
SUMMARY: ThreadSanitizer: SEGV /opt/py/include/python3.13td/cpython/pyatomic_gcc.h:367:10 in _Py_atomic_load_ssize_relaxed
==4242==ABORTING
)";

const char *kRace = R"(==================
WARNING: ThreadSanitizer: data race (pid=77)
  Write of size 8 at 0x7b04 by thread T2:
    #0 memcpy <null> (python3.13+0x1)
    #1 grow /build/tree/src/buf.c:40:5 (mod.so+0x10)
    #2 add /build/tree/src/mod.c:12:3 (mod.so+0x20)

  Previous read of size 8 at 0x7b04 by thread T1:
    #0 PyDict_Next /src/Objects/dictobject.c:2900:5 (python3.13+0x2)
    #1 __wrap_PyDict_Next /work/ftready/shims/ftready_shims.c:147:3 (mod.so+0x50)
    #2 get /build/tree/src/mod.c:20:10 (mod.so+0x30)

  Location is heap block of size 64 at 0x7b04 allocated by thread T1:
    #0 malloc <null> (python3.13+0x1)
    #1 make /build/tree/src/alloc.c:5:3 (mod.so+0x40)

  Thread T2 (tid=79, running) created by main thread at:
    #0 pthread_create <null> (python3.13+0x1)

SUMMARY: ThreadSanitizer: data race /build/tree/src/buf.c:40:5 in grow
==================
)";

TEST(TsanReport, CrashInInlinedInterpreterHeaderIsPlacedOnTheProjectLine) {
  auto reports = parseTsanReports(kCrash);
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_EQ(reports[0].stacks.size(), 1u);
  const auto &stack = reports[0].stacks[0];
  EXPECT_TRUE(isAccessStack(stack));
  const StackFrame *f = ownFrame(
      stack, "_multidict.cpython-313td-x86_64-linux-gnu.so", {"/build/tree"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->file, "/build/tree/multidict/_multilib/pair_list.h");
  EXPECT_EQ(f->line, 360u);
  EXPECT_EQ(f->function, "pair_list_get");
  // Without knowing the project's folder, interpreter headers still lose.
  const StackFrame *g =
      ownFrame(stack, "_multidict.cpython-313td-x86_64-linux-gnu.so", {});
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->line, 360u);
}

// A race inside a bundled library is placed where the project calls it:
// that is where the lock goes.
TEST(TsanReport, VendoredFramesYieldToTheProjectsCaller) {
  auto reports = parseTsanReports(kRace);
  ASSERT_EQ(reports.size(), 1u);
  auto vendored = [](const std::string &f) {
    return f.find("/src/buf.c") != std::string::npos;
  };
  const StackFrame *f =
      ownFrame(reports[0].stacks[0], "mod.so", {"/build/tree"}, vendored);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->function, "add");
  EXPECT_EQ(f->line, 12u);
  // Without a project frame below it, the vendored frame still places it.
  auto all = [](const std::string &) { return true; };
  const StackFrame *g =
      ownFrame(reports[0].stacks[0], "mod.so", {"/build/tree"}, all);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->function, "grow");
}

TEST(TsanReport, OnlyAccessStacksPlaceARace) {
  auto reports = parseTsanReports(kRace);
  ASSERT_EQ(reports.size(), 1u);
  std::vector<unsigned> lines;
  for (const auto &s : reports[0].stacks)
    if (isAccessStack(s))
      if (const StackFrame *f = ownFrame(s, "mod.so", {"/build/tree"}))
        lines.push_back(f->line);
  // grow:40 (the write, memcpy is libc's) and get:20; never alloc.c:5.
  EXPECT_EQ(lines, (std::vector<unsigned>{40, 20}));
  // ftready's own shims sit between the extension and the interpreter: never
  // the place to fix, even when the project's folder is not known.
  const StackFrame *read = ownFrame(reports[0].stacks[1], "mod.so", {});
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->function, "get");
  EXPECT_EQ(ownFrame(reports[0].stacks[0], "other.so", {"/build/tree"}),
            nullptr);
}

// A lock-order inversion is placed where the locks are taken, and an
// extension built without -g still owns its frames.
TEST(TsanReport, LockOrderInversionAndFramesWithoutLines) {
  const char *report = R"(==================
WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=9)
  Cycle in lock order graph: M1 (0x1) => M2 (0x2) => M1

  Mutex M2 acquired here while holding mutex M1 in thread T1:
    #0 pthread_mutex_lock <null> (python3.13+0x1)
    #1 transfer <null> (mod.so+0x10)

  Mutex M1 acquired here while holding mutex M2 in thread T2:
    #0 pthread_mutex_lock <null> (python3.13+0x1)
    #1 refund <null> (mod.so+0x20)

  Mutex M1 (0x1) created at:
    #0 pthread_mutex_init <null> (python3.13+0x1)
    #1 setup <null> (mod.so+0x30)

SUMMARY: ThreadSanitizer: lock-order-inversion (potential deadlock) in transfer
==================
)";
  auto reports = parseTsanReports(report);
  ASSERT_EQ(reports.size(), 1u);
  std::vector<std::string> placed;
  for (const auto &s : reports[0].stacks)
    if (isAccessStack(s))
      if (const StackFrame *f = ownFrame(s, "mod.so", {"/build/tree"}))
        placed.push_back(f->function);
  EXPECT_EQ(placed, (std::vector<std::string>{"transfer", "refund"}));
}

// C++ function names keep their spaces (argument lists, const, operator()).
TEST(TsanReport, CxxFunctionNamesParseWhole) {
  const char *report = R"(==================
WARNING: ThreadSanitizer: data race (pid=5)
  Write of size 4 at 0x1 by thread T1:
    #0 ns::Table<int, long>::put(int, long const&) const /src/t.cpp:12:7 (mod.so+0x10)
    #1 (anonymous namespace)::Worker::operator()() /src/w.cpp:30:5 (mod.so+0x20)

  Previous read of size 4 at 0x1 by thread T2:
    #0 ns::Table<int, long>::get(int) const /src/t.cpp:20:9 (mod.so+0x30)

SUMMARY: ThreadSanitizer: data race /src/t.cpp:12:7 in ns::Table<int, long>::put(int, long const&) const
==================
)";
  auto reports = parseTsanReports(report);
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_EQ(reports[0].stacks.size(), 2u);
  const auto &first = reports[0].stacks[0].frames;
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].function,
            "ns::Table<int, long>::put(int, long const&) const");
  EXPECT_EQ(first[0].file, "/src/t.cpp");
  EXPECT_EQ(first[0].line, 12u);
  EXPECT_EQ(first[1].function, "(anonymous namespace)::Worker::operator()()");
  EXPECT_EQ(reports[0].stacks[1].frames[0].function,
            "ns::Table<int, long>::get(int) const");
}

// Evidence comes from hostile processes: bytes that are not UTF-8 must not
// cost the finding (nlohmann::json throws on them by default).
TEST(FindingIo, InvalidUtf8EvidenceIsKept) {
  ftready::Finding f;
  f.rule = "FTR002";
  f.message = "crashed saying \xff\xfe";
  f.evidence = {"output: \xc3"};
  std::ostringstream out;
  ftready::writeJsonLine(out, f);
  std::istringstream in(out.str());
  auto back = ftready::readJsonLines(in);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].rule, "FTR002");
  EXPECT_EQ(back[0].evidence.size(), 1u);
}

} // namespace
