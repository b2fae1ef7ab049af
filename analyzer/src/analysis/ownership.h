// Who can reach an object: containers a function created itself and has not
// published, and the *args/**kwargs handed to it, are private to the call.
#pragma once

#include "tu_model.h"

#include <clang/AST/Expr.h>

namespace ftready::analysis {

// Is the container `e`, used at `useOffset` inside `fn`, private to this call?
// A local holding only fresh containers it has not published yet; the
// *args/**kwargs; or a field of a struct that stays in the call (a local
// struct, or a helper's struct pointer that every caller gives the address
// of such a local) when the field, anywhere in the TU, only ever holds fresh
// containers that nothing hands on (CPython's blocks output buffer).
bool isPrivateContainer(const clang::Expr *e, const clang::FunctionDecl *fn,
                        unsigned useOffset, const TuModel &model);

// Calls that create a new object nobody else holds yet.
bool isFreshConstructor(const std::string &callee);

} // namespace ftready::analysis
