// Which structs stay in the call that owns them: a local struct whose
// address goes only to helpers that use it in place, and the struct pointer
// parameters of helpers. Regex's compile keeps the pattern it is building in
// `RE_CompileArgs args`, copies it (`subargs = *args`) and hands `&subargs`
// down a recursive descent of build_* helpers; nothing keeps the struct.
//
// The answers are greatest fixed points over the translation unit, computed
// once on the first question: every candidate is assumed to stay, and is
// dropped when one of its uses lets the struct out (stored, returned, handed
// to a function that keeps it or that we cannot see), until nothing changes.
// A cycle of helpers handing the struct round therefore lets nothing out by
// itself, and depth does not bound the answer.
#pragma once

#include "tu_model.h"

namespace ftready::analysis {

// Does `fn` (a definition) use what its struct pointer parameter `index`
// points to only in place: reach its fields (never taking a field's
// address), compare the pointer, copy the struct into a local that stays,
// or pass it on to such a parameter?
bool pointerStaysInCall(const clang::FunctionDecl *fn, unsigned index,
                        const TuModel &model);

// Is the local struct `var` reached only through its own fields, copied
// only into locals that stay, its address handed only to parameters that
// stay in their call (or to memset)?
bool localStructStaysInCall(const clang::VarDecl *var, const TuModel &model);

// Is the struct pointer parameter `param` of an internal helper (every
// caller in view) always the address of a caller's local that stays, or the
// caller's own such parameter?
bool parameterIsPrivateStruct(const clang::ParmVarDecl *param,
                              const TuModel &model);

// The locals that stay in their call, of the struct type `record`.
std::vector<const clang::VarDecl *>
stayingLocalsOf(const clang::RecordDecl *record, const TuModel &model);

// The address of a field taken (&b.list, &p->inner): something may store
// through it. Py_CLEAR's own &field only stores NULL.
bool fieldAddressTaken(const clang::MemberExpr *member, clang::ASTContext &ctx);

// A helper whose every caller is in view: not callable from other files,
// from Python or through a pointer.
bool isInternalHelper(const clang::FunctionDecl *def, const TuModel &model);

// Is `value` (ignoring casts) a struct value nobody else can reach: a local
// that stays, or *param of a private struct parameter?
bool isPrivateStructValue(const clang::Expr *value, const TuModel &model);

} // namespace ftready::analysis
