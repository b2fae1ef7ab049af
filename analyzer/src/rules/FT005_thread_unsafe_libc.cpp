// FT005: a C library function that is not thread-safe.
#include "rule.h"

#include <clang/ASTMatchers/ASTMatchers.h>

#include <map>

using namespace clang::ast_matchers;

namespace ftready::rules {
namespace {

// POSIX/glibc functions marked MT-Unsafe, with what to call instead.
const std::map<std::string, std::string> &unsafeFunctions() {
  static const std::map<std::string, std::string> table = {
      {"strtok", "strtok_r"},
      {"localtime", "localtime_r"},
      {"gmtime", "gmtime_r"},
      {"ctime", "ctime_r"},
      {"asctime", "asctime_r"},
      {"rand", "rand_r with per-thread state, or a lock"},
      {"srand", "per-thread state (rand_r), or a lock"},
      {"random", "random_r with per-thread state"},
      {"drand48", "erand48 with per-thread state"},
      {"lrand48", "nrand48 with per-thread state"},
      {"mrand48", "jrand48 with per-thread state"},
      {"getpwent", "getpwent_r"},
      {"getpwnam", "getpwnam_r"},
      {"getpwuid", "getpwuid_r"},
      {"getgrent", "getgrent_r"},
      {"getgrnam", "getgrnam_r"},
      {"getgrgid", "getgrgid_r"},
      {"setpwent", "a lock around the whole enumeration"},
      {"setgrent", "a lock around the whole enumeration"},
      {"readdir", "one DIR* per thread, or a lock"},
      {"strerror", "strerror_r"},
      {"setlocale", "uselocale with a newlocale object per thread"},
      {"tmpnam", "mkstemp"},
      {"ttyname", "ttyname_r"},
      {"crypt", "crypt_r"},
      {"gethostbyname", "getaddrinfo"},
      {"gethostbyaddr", "getnameinfo"},
      {"ecvt", "snprintf"},
      {"fcvt", "snprintf"},
      {"getlogin", "getlogin_r"},
      {"ptsname", "ptsname_r"},
      {"strsignal", "sigabbrev_np / sigdescr_np, or a lock"},
      {"getenv", "read it once at import, or guard getenv and setenv with "
                 "the same lock"},
  };
  return table;
}

class ThreadUnsafeLibcRule : public Rule {
public:
  using Rule::Rule;
  const char *id() const override { return "FT005"; }

  void registerMatchers(MatchFinder &finder) override {
    std::vector<llvm::StringRef> names;
    for (const auto &[name, fix] : unsafeFunctions())
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
    const auto &model = ctx_.model();
    // getenv alone is safe: it races only with setenv/putenv/unsetenv.
    if (name == "getenv" && !model.callsFunctionNamed("setenv") &&
        !model.callsFunctionNamed("putenv") &&
        !model.callsFunctionNamed("unsetenv"))
      return;
    if (model.isLockedAt(fn, call->getBeginLoc(), ""))
      return;
    Report rep;
    rep.rule = id();
    rep.severity = Severity::Warning;
    rep.location = call->getBeginLoc();
    rep.function = fn;
    rep.key = name;
    rep.message =
        name + "() is not thread-safe: it uses process-wide state" +
        (name == "getenv" ? " that setenv/putenv in this file change" : "") +
        ", and without the GIL two threads can call it at once";
    rep.fix = "use " + unsafeFunctions().at(name);
    ctx_.report(std::move(rep));
  }
};

} // namespace

std::unique_ptr<Rule> makeFT005(const RuleContext &ctx) {
  return std::make_unique<ThreadUnsafeLibcRule>(ctx);
}

} // namespace ftready::rules
