// FT005: a C library function that is not thread-safe.
#include "rule.h"

#include <clang/AST/Expr.h>
#include <clang/ASTMatchers/ASTMatchers.h>

#include <map>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

// One function of data/mt_unsafe.toml (the facts, and where they come from).
struct UnsafeFunction {
  const char *name;
  const char *replacement;
  const char *glibc;  // the glibc manual's annotation: "MT-Unsafe race:strtok"
  const char *source; // where the annotation was read
  bool glibc_unsafe;  // false: MT-Safe in glibc, on POSIX's list only
  bool flag;          // false: known, deliberately not reported
  int null_arg;       // the race needs this argument NULL; -1: always
};

const std::map<std::string, UnsafeFunction> &unsafeFunctions() {
  static const std::map<std::string, UnsafeFunction> table = [] {
    static const UnsafeFunction entries[] = {
#include "mt_unsafe.inc"
    };
    std::map<std::string, UnsafeFunction> out;
    for (const auto &e : entries)
      out.emplace(e.name, e);
    return out;
  }();
  return table;
}

// The environment's writers: getenv races only with them (glibc marks
// getenv "MT-Safe env", and setenv and friends "const:env").
bool writesEnvironment(const analysis::TuModel &model) {
  for (const char *w : {"setenv", "putenv", "unsetenv", "clearenv"})
    if (model.callsFunctionNamed(w))
      return true;
  return false;
}

bool isNullArgument(const clang::CallExpr *call, int index,
                    clang::ASTContext &ctx) {
  if (index < 0 || static_cast<unsigned>(index) >= call->getNumArgs())
    return false;
  return call->getArg(index)->IgnoreParenImpCasts()->isNullPointerConstant(
             ctx, clang::Expr::NPC_ValueDependentIsNotNull) !=
         clang::Expr::NPCK_NotNull;
}

// The data's replacement as a fix: "use strtok_r", but "avoid ..." as it is.
std::string fixFor(const std::string &replacement) {
  static const char *instructions[] = {"none",  "no",   "avoid",     "pass",
                                       "debug", "call", "serialize", "keep",
                                       "as",    "do"};
  std::string first = replacement.substr(0, replacement.find(' '));
  for (const char *i : instructions)
    if (first == i)
      return replacement;
  return "use " + replacement;
}

class ThreadUnsafeLibcRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT005"; }

  void registerMatchers(MatchFinder &finder) override {
    std::vector<llvm::StringRef> names;
    for (const auto &[name, entry] : unsafeFunctions())
      if (entry.flag || name == "getenv")
        names.push_back(name); // the table outlives the matcher
    finder.addMatcher(
        callExpr(callee(functionDecl(hasAnyName(names), unless(hasBody(stmt())))
                            .bind("callee")),
                 hasAncestor(functionDecl(isDefinition()).bind("fn")))
            .bind("call"),
        this);
  }

  void check(const MatchFinder::MatchResult &r) override {
    const auto *call = r.Nodes.getNodeAs<clang::CallExpr>("call");
    const auto *fn = r.Nodes.getNodeAs<clang::FunctionDecl>("fn");
    const auto *callee = r.Nodes.getNodeAs<clang::FunctionDecl>("callee");
    std::string name = callee->getNameAsString();
    const UnsafeFunction &entry = unsafeFunctions().at(name);
    const auto &model = ctx_.model();
    bool getenvRace = name == "getenv";
    if (getenvRace && !writesEnvironment(model))
      return;
    if (entry.null_arg >= 0 &&
        !isNullArgument(call, entry.null_arg, *r.Context))
      return;
    if (model.isLockedAt(fn, call->getBeginLoc(), ""))
      return;
    Report rep;
    rep.rule = id();
    rep.location = call->getBeginLoc();
    rep.function = fn;
    rep.key = name;
    if (getenvRace || entry.glibc_unsafe) {
      rep.severity = Severity::Warning;
      rep.message =
          name + "() is not thread-safe: it uses process-wide state" +
          (getenvRace ? " that setenv/putenv in this file change" : "") +
          ", and without the GIL two threads can call it at once";
    } else {
      rep.severity = Severity::Note;
      rep.message = name +
                    "() need not be thread-safe (POSIX): glibc's is, but on "
                    "other C libraries it can use process-wide state, and "
                    "without the GIL two threads can call it at once";
    }
    rep.fix = getenvRace ? "use one lock around getenv and every "
                           "setenv/putenv/unsetenv, or read it once at import"
                         : fixFor(entry.replacement);
    rep.evidence.push_back(std::string("glibc: ") + entry.glibc + " (" +
                           entry.source + ")");
    ctx_.report(std::move(rep));
  }
};

} // namespace

std::unique_ptr<Rule> makeFT005(const RuleContext &ctx) {
  return std::make_unique<ThreadUnsafeLibcRule>(ctx);
}

} // namespace ftready::rules
