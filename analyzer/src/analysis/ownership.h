// Who can reach an object: containers a function created itself and has not
// published, and the *args/**kwargs handed to it, are private to the call.
#pragma once

#include "tu_model.h"

#include <clang/AST/Expr.h>

namespace ftready::analysis {

// Is the container `e`, used at `useOffset` inside `fn`, private to this call?
bool isPrivateContainer(const clang::Expr *e, const clang::FunctionDecl *fn,
                        unsigned useOffset, const TuModel &model);

// Calls that create a new object nobody else holds yet.
bool isFreshConstructor(const std::string &callee);

} // namespace ftready::analysis
