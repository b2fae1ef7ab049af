#include "expr_text.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ParentMapContext.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>

#include <cctype>
#include <regex>

namespace ftready::analysis {

namespace {

std::string withoutSpaces(const std::string &s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)))
      out += c;
  return out;
}

// True when s is "(" ... ")" with the outer parentheses matching each other.
bool wrappedInParens(const std::string &s) {
  if (s.size() < 2 || s.front() != '(' || s.back() != ')')
    return false;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(')
      ++depth;
    else if (s[i] == ')' && --depth == 0 && i + 1 != s.size())
      return false;
  }
  return true;
}

} // namespace

std::string canonicalText(std::string text) {
  static const std::regex leadingCast(
      R"(^\((const)?(struct)?[A-Za-z_][A-Za-z0-9_]*\*+\))");
  static const std::regex castMacro(R"(^_?Py[A-Za-z]*_CAST\((.*)\)$)");
  text = withoutSpaces(text);
  for (;;) {
    std::smatch m;
    if (wrappedInParens(text)) {
      text = text.substr(1, text.size() - 2);
    } else if (std::regex_search(text, m, leadingCast) &&
               m.length(0) < static_cast<long>(text.size())) {
      text = text.substr(static_cast<size_t>(m.length(0)));
    } else if (std::regex_match(text, m, castMacro)) {
      text = m[1].str();
    } else {
      return text;
    }
  }
}

std::string canonicalText(const clang::Expr *e, const clang::ASTContext &ctx) {
  if (!e)
    return "";
  e = e->IgnoreParenCasts();
  if (auto *dre = llvm::dyn_cast<clang::DeclRefExpr>(e))
    return dre->getDecl()->getNameAsString();
  if (auto *me = llvm::dyn_cast<clang::MemberExpr>(e))
    return canonicalText(me->getBase(), ctx) + (me->isArrow() ? "->" : ".") +
           me->getMemberDecl()->getNameAsString();
  if (auto *uo = llvm::dyn_cast<clang::UnaryOperator>(e)) {
    if (uo->getOpcode() == clang::UO_AddrOf)
      return "&" + canonicalText(uo->getSubExpr(), ctx);
    if (uo->getOpcode() == clang::UO_Deref)
      return "*" + canonicalText(uo->getSubExpr(), ctx);
  }
  const auto &sm = ctx.getSourceManager();
  auto range = clang::CharSourceRange::getTokenRange(
      sm.getExpansionRange(e->getSourceRange()).getAsRange());
  return canonicalText(
      clang::Lexer::getSourceText(range, sm, ctx.getLangOpts()).str());
}

std::string baseObjectOf(const std::string &canonical) {
  size_t cut = canonical.find_first_of(".-[");
  return cut == std::string::npos ? canonical : canonical.substr(0, cut);
}

const clang::VarDecl *referencedVar(const clang::Expr *e) {
  if (!e)
    return nullptr;
  if (auto *dre = llvm::dyn_cast<clang::DeclRefExpr>(e->IgnoreParenCasts()))
    return llvm::dyn_cast<clang::VarDecl>(dre->getDecl());
  return nullptr;
}

clang::DynTypedNode parentIgnoringCasts(const clang::Stmt *s,
                                        clang::ASTContext &ctx) {
  clang::DynTypedNode node = clang::DynTypedNode::create(*s);
  for (;;) {
    auto parents = ctx.getParents(node);
    if (parents.empty())
      return {};
    node = parents[0];
    const clang::Stmt *p = node.get<clang::Stmt>();
    if (!p || !(llvm::isa<clang::ImplicitCastExpr>(p) ||
                llvm::isa<clang::ParenExpr>(p) ||
                llvm::isa<clang::CStyleCastExpr>(p)))
      return node;
  }
}

const clang::Stmt *parentStmtIgnoringCasts(const clang::Stmt *s,
                                           clang::ASTContext &ctx) {
  return parentIgnoringCasts(s, ctx).get<clang::Stmt>();
}

bool insideMacro(clang::SourceLocation loc, const char *name,
                 const clang::ASTContext &ctx) {
  const auto &sm = ctx.getSourceManager();
  for (int i = 0; loc.isMacroID() && i < 16; ++i) {
    if (clang::Lexer::getImmediateMacroName(loc, sm, ctx.getLangOpts()) == name)
      return true;
    loc = sm.getImmediateMacroCallerLoc(loc);
  }
  return false;
}

} // namespace ftready::analysis
