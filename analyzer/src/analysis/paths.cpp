#include "paths.h"

#include <clang/AST/ParentMap.h>
#include <clang/Analysis/Analyses/CFGReachabilityAnalysis.h>
#include <clang/Analysis/CFG.h>
#include <clang/Analysis/CFGStmtMap.h>

namespace ftready::analysis {

FunctionPaths::FunctionPaths(const clang::FunctionDecl *fn,
                             clang::ASTContext &ctx) {
  clang::Stmt *body = fn ? fn->getBody() : nullptr;
  if (!body)
    return;
  clang::CFG::BuildOptions options;
  options.setAllAlwaysAdd(); // every statement an element: order is known
  cfg_ = clang::CFG::buildCFG(fn, body, &ctx, options);
  if (!cfg_)
    return;
  parents_ = std::make_unique<clang::ParentMap>(body);
  blocks_.reset(clang::CFGStmtMap::Build(cfg_.get(), parents_.get()));
  reach_ = std::make_unique<clang::CFGReverseBlockReachabilityAnalysis>(*cfg_);
}

FunctionPaths::~FunctionPaths() = default;

int FunctionPaths::indexIn(const clang::CFGBlock *block,
                           const clang::Stmt *s) const {
  int i = 0;
  for (const auto &element : *block) {
    if (auto stmt = element.getAs<clang::CFGStmt>())
      if (stmt->getStmt() == s)
        return i;
    ++i;
  }
  return -1;
}

bool FunctionPaths::canReach(const clang::Stmt *from,
                             const clang::Stmt *to) const {
  if (!blocks_ || !from || !to)
    return true;
  const clang::CFGBlock *a = blocks_->getBlock(from);
  const clang::CFGBlock *b = blocks_->getBlock(to);
  if (!a || !b)
    return true;
  if (a == b) {
    int i = indexIn(a, from), j = indexIn(b, to);
    if (i < 0 || j < 0 || i < j)
      return true;
    // Later in the same block: only round a loop, back to this block.
    for (const auto &succ : a->succs())
      if (succ && (succ == a || reach_->isReachable(succ, a)))
        return true;
    return false;
  }
  return reach_->isReachable(a, b);
}

} // namespace ftready::analysis
