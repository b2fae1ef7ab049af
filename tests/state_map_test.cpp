// The state-access map's I/O and what the stress side asks of it: which
// callables to run together, which to call first in fresh processes.
#include "ftready/state_map.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using ftready::FunctionState;
using ftready::StateAccess;
using ftready::StateMap;

StateAccess access(const std::string &state, bool write, bool locked,
                   bool apiLocked = false) {
  StateAccess a;
  a.state = state;
  a.write = write;
  a.locked = locked;
  a.api_locked = apiLocked;
  a.line = 1;
  return a;
}

FunctionState function(const std::string &name,
                       std::vector<std::string> callables,
                       std::vector<StateAccess> accesses,
                       std::vector<std::string> calls = {}) {
  FunctionState f;
  f.function = name;
  f.file = "/src/m.c";
  f.callables = std::move(callables);
  f.accesses = std::move(accesses);
  f.calls = std::move(calls);
  return f;
}

std::set<std::pair<std::string, std::string>> pairsOf(const StateMap &m) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto &p : ftready::callablePairs(m))
    out.insert(std::minmax(p.writer, p.other));
  return out;
}

TEST(StateMap, PairsNeedAWriterAndAnUnguardedSide) {
  StateMap m;
  m.functions = {
      function("w", {"write_locked"}, {access("g", true, true)}),
      function("r", {"read_unlocked"}, {access("g", false, false)}),
      function("r2", {"read_locked"}, {access("g", false, true)}),
      function("x", {"reads_other"}, {access("h", false, false)}),
      function("a", {"append"}, {access("lst", true, false, true)}),
      function("b", {"append_too"}, {access("lst", true, false, true)}),
  };
  EXPECT_EQ(pairsOf(m), (std::set<std::pair<std::string, std::string>>{
                            {"read_unlocked", "write_locked"}}));
}

TEST(StateMap, HelpersAccessesCountForTheirCallers) {
  StateMap m;
  m.functions = {
      function("method", {"T.bump"}, {}, {"helper"}),
      function("helper", {}, {access("field T.n", true, false)}, {"helper"}),
      function("getter", {"T.n (get)"}, {access("field T.n", false, false)}),
  };
  auto pairs = ftready::callablePairs(m);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].writer, "T.bump");
  EXPECT_EQ(pairs[0].other, "T.n (get)");
  EXPECT_EQ(pairs[0].state, "field T.n");
}

TEST(StateMap, LazyInitReachedThroughAHelper) {
  StateMap m;
  m.functions = {function("get", {"get"}, {}, {"ensure"}),
                 function("ensure", {}, {})};
  m.functions[1].lazy_inits = {{"global cache (m.c)", "/src/m.c", 10, 14}};
  auto lazy = ftready::lazyInitCallables(m);
  ASSERT_EQ(lazy.size(), 1u);
  EXPECT_EQ(lazy[0].callable, "get");
  EXPECT_EQ(lazy[0].init.first_line, 10u);
}

TEST(StateMap, TablesInOneUnitNameFunctionsOfAnother) {
  StateMap m;
  FunctionState declared; // module.c's table names Label_set
  declared.function = "Label_set";
  declared.callables = {"Label.set"};
  m.functions = {function("Label_set", {}, {access("field L.t", true, false)}),
                 declared,
                 function("Label_get", {"Label.get"},
                          {access("field L.t", false, false)})};
  ftready::linkCallables(m);
  ASSERT_EQ(m.functions.size(), 2u);
  EXPECT_EQ(m.functions[0].callables, std::vector<std::string>{"Label.set"});
  EXPECT_EQ(pairsOf(m), (std::set<std::pair<std::string, std::string>>{
                            {"Label.get", "Label.set"}}));
}

TEST(StateMap, RoundTripMergeAndRename) {
  StateMap m;
  m.functions = {function("f", {"f"}, {access("g", true, false, true)})};
  m.functions[0].lazy_inits = {{"global g (m.c)", "/src/m.c", 3, 5}};
  StateMap twice = m;
  ftready::mergeStateMaps(twice, m); // a header's functions come once
  EXPECT_EQ(twice.functions.size(), 1u);
  ftready::mapFiles(twice, [](const std::string &f) { return "/orig" + f; });
  EXPECT_EQ(twice.functions[0].lazy_inits[0].file, "/orig/src/m.c");
  std::string path = std::filesystem::temp_directory_path().string() +
                     "/ftready-state-map-" + std::to_string(::getpid());
  ftready::writeStateMap(path, twice);
  StateMap back = ftready::readStateMap(path);
  ASSERT_EQ(back.functions.size(), 1u);
  EXPECT_EQ(back.functions[0].file, "/orig/src/m.c");
  EXPECT_TRUE(back.functions[0].accesses[0].api_locked);
  EXPECT_EQ(nlohmann::json(back), nlohmann::json(twice));
  std::ofstream(path) << "{\"findings\": []}";
  EXPECT_THROW(ftready::readStateMap(path), std::runtime_error);
  std::remove(path.c_str());
  EXPECT_THROW(ftready::readStateMap(path), std::runtime_error);
}

} // namespace
