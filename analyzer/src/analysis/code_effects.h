// What a call can do while a borrowed reference is held, and which loop a
// container access iterates in.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Expr.h>
#include <clang/AST/Stmt.h>

#include <string>

namespace ftready::analysis {

// Can a call to this function run Python code (a __del__, __eq__, __hash__,
// a callback) that mutates arbitrary objects? Reference increments, type
// checks, size reads and plain C library calls cannot.
bool mayRunPythonCode(const clang::FunctionDecl *callee);

// Does a call to `fn` write through the pointer it gets as parameter `index`
// (`p->x = ...`, `*p = ...`, `p[i]++`, or handing it to a function that
// does)? Followed through helpers with a body in this TU; a function without
// one writes unless the parameter points to const.
bool writesThroughParameter(const clang::FunctionDecl *fn, unsigned index,
                            int depth = 0);

// Does `body` write through the pointer variable `var`, itself or through
// the helpers it hands `var` to?
bool writesThroughVariable(const clang::VarDecl *var, const clang::Stmt *body,
                           int depth = 0);

// Does the code of the function that declares the local pointer `var`
// (`Group *g = &self->groups[i];`) write through it, itself or through the
// helpers it hands `var` to?
bool writesThroughLocal(const clang::VarDecl *var);

// The for/while loop `access` iterates in: its `index` is a variable the
// loop's condition tests. Null when it is not in such a loop.
const clang::Stmt *iterationLoopOf(const clang::Stmt *access,
                                   const clang::Expr *index,
                                   clang::ASTContext &ctx);

// The innermost for/while/do loop around `s`, or null.
const clang::Stmt *enclosingLoop(const clang::Stmt *s, clang::ASTContext &ctx);

} // namespace ftready::analysis
