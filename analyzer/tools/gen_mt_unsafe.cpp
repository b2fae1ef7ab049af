// Build-time generator: mt_unsafe.toml -> mt_unsafe.inc, FT005's table of C
// library functions that are not thread-safe (see the TOML for the meaning
// of each field and the sources of the facts).
//
//   gen_mt_unsafe MT_UNSAFE_TOML OUTPUT_INC
#include "cpp_literal.h"

#include <toml++/toml.h>

#include <fstream>
#include <iostream>
#include <set>
#include <string>

namespace {

using ftready::tools::quoted;

// One entry as a C++ initializer, or an error message.
bool entryLine(const toml::table &f, std::string &line, std::string &error) {
  auto name = f["name"].value<std::string>();
  auto glibc = f["glibc"].value<std::string>();
  auto replacement = f["replacement"].value<std::string>();
  auto source = f["source"].value<std::string>();
  auto posix = f["posix_unsafe"].value<bool>();
  if (!name || !glibc || !replacement || !source || !posix) {
    error = "an entry lacks name, glibc, posix_unsafe, replacement or source";
    return false;
  }
  bool glibcUnsafe = glibc->rfind("MT-Unsafe", 0) == 0;
  if (!glibcUnsafe && glibc->rfind("MT-Safe", 0) != 0) {
    error = *name + ": glibc must start with MT-Safe or MT-Unsafe";
    return false;
  }
  if (!glibcUnsafe && !*posix) {
    error = *name + ": safe in glibc and not on the POSIX list: not a hazard";
    return false;
  }
  line = "{" + quoted(*name) + ", " + quoted(*replacement) + ", " +
         quoted(*glibc) + ", " + quoted(*source) + ", " +
         (glibcUnsafe ? "true" : "false") + ", " +
         (f["flag"].value_or(true) ? "true" : "false") + ", " +
         std::to_string(f["null_arg"].value_or(-1)) + "},";
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: gen_mt_unsafe MT_UNSAFE_TOML OUTPUT_INC\n";
    return 2;
  }
  toml::table doc;
  try {
    doc = toml::parse_file(argv[1]);
  } catch (const toml::parse_error &e) {
    std::cerr << argv[1] << ": " << e.description() << "\n";
    return 1;
  }
  auto *functions = doc["function"].as_array();
  if (!functions || functions->empty()) {
    std::cerr << argv[1] << ": no [[function]] entries\n";
    return 1;
  }
  std::string out =
      "// Generated from mt_unsafe.toml by gen_mt_unsafe: do not edit.\n";
  std::set<std::string> seen;
  for (const auto &node : *functions) {
    const auto *f = node.as_table();
    std::string line, error;
    if (!f || !entryLine(*f, line, error)) {
      std::cerr << argv[1] << ": " << (f ? error : "not a table") << "\n";
      return 1;
    }
    if (!seen.insert((*f)["name"].value_or(std::string())).second) {
      std::cerr << argv[1] << ": " << (*f)["name"].value_or(std::string())
                << " twice\n";
      return 1;
    }
    out += line + "\n";
  }
  std::ofstream file(argv[2]);
  file << out;
  file.close();
  if (!file) {
    std::cerr << "gen_mt_unsafe: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
