// The borrowed-reference API table, generated at build time from CPython's
// Doc/data/refcounts.dat and curated by analyzer/data/borrowed_apis.toml.
#pragma once

#include <string>
#include <vector>

namespace ftready::analysis {

struct BorrowedApi {
  const char *name;
  const char *kind;  // "item", "global", "iteration"
  int container_arg; // -1: global state
  const char *replacement;
  const char *since;
  bool from_refcounts_dat;
};

const std::vector<BorrowedApi> &borrowedApis();
const BorrowedApi *findBorrowedApi(const std::string &name);
std::vector<std::string> borrowedApiNames(const std::string &kind);

} // namespace ftready::analysis
