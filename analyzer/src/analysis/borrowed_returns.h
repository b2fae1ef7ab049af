// Functions of the translation unit that hand their caller a borrowed
// reference: `return PyList_GET_ITEM(self->items, i);`, or a local that
// holds one. The caller then holds a reference it does not own, as if it
// had called the API itself.
#pragma once

#include "borrowed_apis.h"
#include "tu_model.h"

#include <optional>
#include <string>

namespace ftready::analysis {

struct BorrowedReturn {
  const clang::FunctionDecl *helper = nullptr; // the definition
  const BorrowedApi *api = nullptr;
  std::string container; // canonical, in the helper's own terms
  clang::SourceLocation fetch;
};

// What `fn` returns borrowed, when some `return` gives a reference fetched
// in it from a container that is not private to the call and not under a
// lock there; nothing for a function without a body in view.
std::optional<BorrowedReturn> borrowedReturnOf(const clang::FunctionDecl *fn,
                                               const TuModel &model);

} // namespace ftready::analysis
