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

// Is the helper parameter `param` of `fn` given, by every caller in view, a
// new object the caller has not handed on (a constructor's result, or that
// of a function of the TU returning only new objects: copyPVector()), and
// kept in the call? Then nobody else can reach it while `fn` runs.
bool holdsFreshObject(const clang::ParmVarDecl *param,
                      const clang::FunctionDecl *fn, const TuModel &model);

// The unlocked calls that hand the helper `fn`'s parameter `param` an
// object other threads can reach, followed up through helpers to the
// method: a finding's evidence, "reached with no lock from Bag_count
// (line 83) -> bag_scan (line 40), which passes 'self->items'", at most
// five. Empty for a function Python or a table calls.
std::vector<std::string> sharingCallersEvidence(const clang::ParmVarDecl *param,
                                                const clang::FunctionDecl *fn,
                                                const TuModel &model);

// Does `fn` keep its parameter `param` to itself until `before` (a file
// offset): no use before it, or in a loop around it, hands it on?
bool parameterKeptPrivate(const clang::ParmVarDecl *param,
                          const clang::FunctionDecl *fn, unsigned before,
                          const TuModel &model);

// The pieces, for the file's own recursion (depth bounds it).
bool isPrivateLocal(const clang::VarDecl *vd, const clang::FunctionDecl *fn,
                    unsigned useOffset, const TuModel &model, int depth);
bool parameterHoldsFreshObject(const clang::ParmVarDecl *param,
                               const clang::FunctionDecl *fn, unsigned before,
                               const TuModel &model, int depth);

} // namespace ftready::analysis
