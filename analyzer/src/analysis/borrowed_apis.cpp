#include "borrowed_apis.h"

namespace ftready::analysis {

const std::vector<BorrowedApi> &borrowedApis() {
  static const std::vector<BorrowedApi> table = {
#include "borrowed_apis.inc"
  };
  return table;
}

const BorrowedApi *findBorrowedApi(const std::string &name) {
  for (const auto &api : borrowedApis())
    if (name == api.name)
      return &api;
  return nullptr;
}

std::vector<std::string> borrowedApiNames(const std::string &kind) {
  std::vector<std::string> out;
  for (const auto &api : borrowedApis())
    if (kind == api.kind)
      out.push_back(api.name);
  return out;
}

} // namespace ftready::analysis
