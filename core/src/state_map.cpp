#include "ftready/state_map.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ftready {

void to_json(nlohmann::json &j, const StateAccess &a) {
  j = {{"state", a.state},
       {"write", a.write},
       {"locked", a.locked},
       {"line", a.line}};
  if (!a.via.empty())
    j["via"] = a.via;
  if (a.api_locked)
    j["api_locked"] = true;
}

void from_json(const nlohmann::json &j, StateAccess &a) {
  a.state = j.at("state").get<std::string>();
  a.write = j.value("write", false);
  a.locked = j.value("locked", false);
  a.via = j.value("via", "");
  a.api_locked = j.value("api_locked", false);
  a.line = j.value("line", 0u);
}

void to_json(nlohmann::json &j, const LazyInit &l) {
  j = {{"state", l.state},
       {"file", l.file},
       {"first_line", l.first_line},
       {"last_line", l.last_line}};
}

void from_json(const nlohmann::json &j, LazyInit &l) {
  l.state = j.at("state").get<std::string>();
  l.file = j.at("file").get<std::string>();
  l.first_line = j.at("first_line").get<unsigned>();
  l.last_line = j.at("last_line").get<unsigned>();
}

void to_json(nlohmann::json &j, const FunctionState &f) {
  j = {{"function", f.function},   {"file", f.file},
       {"callables", f.callables}, {"calls", f.calls},
       {"accesses", f.accesses},   {"lazy_inits", f.lazy_inits}};
}

void from_json(const nlohmann::json &j, FunctionState &f) {
  f.function = j.at("function").get<std::string>();
  f.file = j.at("file").get<std::string>();
  f.callables = j.value("callables", std::vector<std::string>{});
  f.calls = j.value("calls", std::vector<std::string>{});
  f.accesses = j.value("accesses", std::vector<StateAccess>{});
  f.lazy_inits = j.value("lazy_inits", std::vector<LazyInit>{});
}

namespace {

using Key = std::pair<std::string, std::string>; // file, function

std::map<Key, const FunctionState *> byKey(const StateMap &m) {
  std::map<Key, const FunctionState *> out;
  for (const auto &f : m.functions)
    out.emplace(Key{f.file, f.function}, &f);
  return out;
}

// `f` and every function of its file it reaches through `calls`.
std::vector<const FunctionState *>
reachable(const FunctionState &f,
          const std::map<Key, const FunctionState *> &index) {
  std::vector<const FunctionState *> out = {&f};
  std::set<const FunctionState *> seen = {&f};
  for (size_t i = 0; i < out.size(); ++i)
    for (const auto &callee : out[i]->calls) {
      auto it = index.find({out[i]->file, callee});
      if (it != index.end() && seen.insert(it->second).second)
        out.push_back(it->second);
    }
  return out;
}

// How well an access is guarded: a lock held, or the API's own lock.
int guard(const StateAccess &a) { return 2 * a.locked + a.api_locked; }

// Per callable: its accesses and those of what it calls, the least guarded
// one per (state, write).
struct CallableAccesses {
  std::string callable;
  std::map<std::pair<std::string, bool>, StateAccess> accesses;
};

std::vector<CallableAccesses> accessesByCallable(const StateMap &m) {
  auto index = byKey(m);
  std::map<std::string, CallableAccesses> out;
  for (const auto &f : m.functions) {
    if (f.callables.empty())
      continue;
    auto fns = reachable(f, index);
    for (const auto &name : f.callables) {
      CallableAccesses &c = out[name];
      c.callable = name;
      for (const auto *fn : fns)
        for (const auto &a : fn->accesses) {
          auto [it, fresh] = c.accesses.emplace(std::pair{a.state, a.write}, a);
          // The least guarded access of each kind is the one that races.
          if (!fresh && guard(a) < guard(it->second))
            it->second = a;
        }
    }
  }
  std::vector<CallableAccesses> v;
  for (auto &[_, c] : out)
    v.push_back(std::move(c));
  return v;
}

// Can these two accesses, one of them a write, run at once unordered? Not
// when each holds a lock or is made by an API under the object's own lock
// (which is the critical section a locked access holds on a container).
// Which lock is held is not compared: two different mutexes make a pair
// the map misses, left to the random pairs.
bool conflict(const StateAccess &w, const StateAccess &o) {
  return !(guard(w) > 0 && guard(o) > 0);
}

} // namespace

void to_json(nlohmann::json &j, const StateMap &m) {
  j = {{"version", 1}, {"functions", m.functions}};
}

void from_json(const nlohmann::json &j, StateMap &m) {
  m.functions = j.at("functions").get<std::vector<FunctionState>>();
}

StateMap readStateMap(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read the state map " + path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("functions"))
    throw std::runtime_error(path + " is not a state map (ftready scan "
                                    "--state-map writes one)");
  try {
    return j.get<StateMap>();
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(path + ": not a state map: " + e.what());
  }
}

void writeStateMap(const std::string &path, const StateMap &m) {
  std::ofstream out(path);
  if (!out)
    throw std::runtime_error("cannot write the state map " + path);
  out << nlohmann::json(m).dump(1) << "\n";
  if (!out)
    throw std::runtime_error("cannot write the state map " + path);
}

void mapFiles(StateMap &m,
              const std::function<std::string(const std::string &)> &rename) {
  for (auto &f : m.functions) {
    f.file = rename(f.file);
    for (auto &l : f.lazy_inits)
      l.file = rename(l.file);
  }
}

void mergeStateMaps(StateMap &m, const StateMap &more) {
  // A header's functions come once per unit that includes it.
  std::set<Key> have;
  for (const auto &f : m.functions)
    have.insert({f.file, f.function});
  for (const auto &f : more.functions)
    if (have.insert({f.file, f.function}).second)
      m.functions.push_back(f);
}

void linkCallables(StateMap &m) {
  std::map<std::string, std::vector<FunctionState *>> defined;
  for (auto &f : m.functions)
    if (!f.file.empty())
      defined[f.function].push_back(&f);
  for (const auto &f : m.functions) {
    auto it = defined.find(f.function);
    if (!f.file.empty() || it == defined.end() || it->second.size() != 1)
      continue;
    auto &callables = it->second.front()->callables;
    for (const auto &c : f.callables)
      if (std::find(callables.begin(), callables.end(), c) == callables.end())
        callables.push_back(c);
  }
  m.functions.erase(
      std::remove_if(m.functions.begin(), m.functions.end(),
                     [](const FunctionState &f) { return f.file.empty(); }),
      m.functions.end());
}

std::vector<CallablePair> callablePairs(const StateMap &m) {
  auto all = accessesByCallable(m);
  std::vector<std::pair<int, CallablePair>> ranked;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto &w : all)
    for (const auto &[wk, wa] : w.accesses) {
      if (!wk.second)
        continue;
      for (const auto &o : all) {
        if (o.callable == w.callable)
          continue;
        for (bool write : {false, true}) {
          auto it = o.accesses.find({wk.first, write});
          if (it == o.accesses.end() || !conflict(wa, it->second))
            continue;
          auto names = std::minmax(w.callable, o.callable);
          if (!seen.insert({names.first, names.second}).second)
            continue;
          int unlocked = !wa.locked + !it->second.locked;
          ranked.push_back(
              {unlocked,
               {w.callable, o.callable, wk.first, wa.line, it->second.line}});
        }
      }
    }
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<CallablePair> out;
  for (auto &[_, p] : ranked)
    out.push_back(std::move(p));
  return out;
}

std::vector<CallableLazyInit> lazyInitCallables(const StateMap &m) {
  auto index = byKey(m);
  std::vector<CallableLazyInit> out;
  std::set<std::string> seen;
  for (const auto &f : m.functions)
    for (const auto &name : f.callables)
      for (const auto *fn : reachable(f, index))
        for (const auto &l : fn->lazy_inits)
          if (seen.insert(name + "|" + l.state).second)
            out.push_back({name, l});
  return out;
}

} // namespace ftready
