// Shared precompiled preambles: Python.h and whatever else several
// translation units include first, with the same flags, parsed once into a
// PCH that each of them loads instead of parsing those headers again.
//
// The units' own text is parsed as written: the prefix directives run again
// after the PCH (include guards make that a no-op). A preamble is kept on
// disk beside the result cache, keyed by the flags and the prefix; its
// headers' sizes and mtimes are checked before each use. A preamble that
// would hold code (a function body, a variable's definition) from a file of
// the report scope is not used: the analysis walks that code in the unit's
// own parse. Nor is one that did not build cleanly.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ftready::analyzer {

// One translation unit as its parse will run.
struct UnitCommand {
  std::string file;                     // absolute
  std::string sourceArg;                // the file as its command line names it
  std::string directory;                // where the command runs (absolute)
  std::vector<std::string> commandLine; // compiler first
};

struct Preamble {
  std::string pch;
  std::vector<std::string> dependencies; // every file it was made of
  std::set<std::string> code; // those with a function body or a definition
  // Its prefix is #include lines only: the unit's own copy of them, read
  // again over the preamble, changes no macro (each header is guarded, or
  // its errors lie in its own file).
  bool includesOnly = false;
};

class SharedPreambles {
public:
  // `dir`: where preambles are kept (created when needed); `inScope`: true
  // for a file whose findings are reported.
  SharedPreambles(std::string dir,
                  std::function<bool(const std::string &)> inScope);

  // Which prefix each unit would share with others (same flags, same
  // directives) or take from disk: the one that saves the most work.
  void plan(const std::vector<UnitCommand> &units);

  // The preamble to parse `file` with, built now if this is the first unit
  // to ask; none when it has no shared prefix, another thread is building
  // it, or it did not build.
  std::optional<Preamble> acquire(const std::string &file);

  // The unit failed to parse with its preamble but parses without it: the
  // preamble is not used again and is removed from disk.
  void reject(const std::string &file);

  unsigned built() const;

private:
  enum class State { Unbuilt, Building, Ready, Failed };
  struct Entry {
    State state = State::Unbuilt;
    std::string prefix;
    std::string language; // "c-header" or "c++-header"
    std::string directory;
    std::vector<std::string> args; // the unit's, without input and output
    Preamble preamble;
  };

  std::vector<std::string>
  preferred(const std::vector<std::string> &keys,
            const std::map<std::string, unsigned> &count) const;
  bool build(const std::string &key, Entry &entry);
  bool loadFromDisk(const std::string &key, Entry &entry) const;
  std::string pathOf(const std::string &key, const char *suffix) const;

  std::string dir_;
  std::function<bool(const std::string &)> inScope_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;                   // by key
  std::map<std::string, std::vector<std::string>> chains_; // file -> keys
  std::map<std::string, std::string> used_; // file -> key it was given
  unsigned built_ = 0;
};

} // namespace ftready::analyzer
