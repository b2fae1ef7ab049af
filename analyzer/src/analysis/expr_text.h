// Canonical text for expressions, so "the object a lock is held on" written in
// a macro argument and the container an API is called on can be compared.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/ASTTypeTraits.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ParentMapContext.h>

#include <string>

namespace ftready::analysis {

// "(PyObject *)self->list" and "_PyObject_CAST(self->list)" both give
// "self->list"; whitespace is dropped.
std::string canonicalText(const clang::Expr *e, const clang::ASTContext &ctx);

// Same canonical form from raw source text (a macro argument's tokens).
std::string canonicalText(std::string text);

// "self->list" -> "self"; "a.b->c" -> "a"; a plain name gives itself.
std::string baseObjectOf(const std::string &canonical);

// The variable an expression names once casts and parentheses are gone, or
// null.
const clang::VarDecl *referencedVar(const clang::Expr *e);

// The first node above `s` that is not a cast or parentheses (an empty node
// at the top). Rules ask "how is this value used?" through it.
clang::DynTypedNode parentIgnoringCasts(const clang::Stmt *s,
                                        clang::ASTContext &ctx);

// The same, when it is a statement (null for a declaration or the top).
const clang::Stmt *parentStmtIgnoringCasts(const clang::Stmt *s,
                                           clang::ASTContext &ctx);

// Is `loc` inside an expansion of the macro `name` (followed through at
// most 16 macros)?
bool insideMacro(clang::SourceLocation loc, const char *name,
                 const clang::ASTContext &ctx);

} // namespace ftready::analysis
