// Control flow inside one function, from clang's CFG: can one statement run
// after another on some path? "Used after X" needs such a path: a call on a
// branch that returns first does not count.
#pragma once

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>
#include <clang/AST/Stmt.h>

#include <memory>

namespace clang {
class CFG;
class CFGBlock;
class CFGStmtMap;
class CFGReverseBlockReachabilityAnalysis;
class ParentMap;
} // namespace clang

namespace ftready::analysis {

class FunctionPaths {
public:
  FunctionPaths(const clang::FunctionDecl *fn, clang::ASTContext &ctx);
  ~FunctionPaths();
  FunctionPaths(const FunctionPaths &) = delete;
  FunctionPaths &operator=(const FunctionPaths &) = delete;

  // Can `to` run after `from` on some path through the function? True when
  // either is not placed in the CFG (the answer is not known).
  bool canReach(const clang::Stmt *from, const clang::Stmt *to) const;

private:
  // Position of `s` among its block's elements, or -1.
  int indexIn(const clang::CFGBlock *block, const clang::Stmt *s) const;

  std::unique_ptr<clang::CFG> cfg_;
  std::unique_ptr<clang::ParentMap> parents_;
  std::unique_ptr<clang::CFGStmtMap> blocks_;
  // Its queries fill a cache.
  mutable std::unique_ptr<clang::CFGReverseBlockReachabilityAnalysis> reach_;
};

} // namespace ftready::analysis
