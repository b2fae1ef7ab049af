// Base of every analyzer rule, in the shape of a clang-tidy check: the rule
// registers AST matchers and turns each match into findings in check().
#pragma once

#include "../analysis/tu_model.h"
#include "ftready/finding.h"

#include <clang/ASTMatchers/ASTMatchFinder.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ftready::rules {

struct Report {
  std::string rule;
  Severity severity = Severity::Warning;
  clang::SourceLocation location;
  const clang::FunctionDecl *function = nullptr;
  std::string message;
  std::string fix;
  std::string
      key; // the subject (API + container, variable...) for the fingerprint
  std::vector<std::string> evidence;
};

// An error the compiler gave while parsing: some say more about the code
// than about the flags (no member 'ob_refcnt' in the free-threaded build).
struct ParseDiagnostic {
  clang::SourceLocation location;
  std::string message;
};

// What a rule sees of the translation unit and where its reports go.
class RuleContext {
public:
  RuleContext(const analysis::TuModel &model,
              const std::vector<ParseDiagnostic> &diagnostics,
              std::function<void(Report)> sink)
      : model_(model), diagnostics_(diagnostics), sink_(std::move(sink)) {}
  const analysis::TuModel &model() const { return model_; }
  clang::ASTContext &ast() const { return model_.context(); }
  const std::vector<ParseDiagnostic> &diagnostics() const {
    return diagnostics_;
  }
  void report(Report r) const { sink_(std::move(r)); }

private:
  const analysis::TuModel &model_;
  const std::vector<ParseDiagnostic> &diagnostics_;
  std::function<void(Report)> sink_;
};

class Rule : public clang::ast_matchers::MatchFinder::MatchCallback {
public:
  explicit Rule(const RuleContext &ctx) : ctx_(ctx) {}
  virtual const char *id() const = 0;
  virtual void registerMatchers(clang::ast_matchers::MatchFinder &finder) = 0;
  virtual void
  check(const clang::ast_matchers::MatchFinder::MatchResult &result) = 0;
  // For rules that judge the translation unit as a whole.
  virtual void onEndOfTranslationUnit() {}

  void run(const clang::ast_matchers::MatchFinder::MatchResult &r) final {
    check(r);
  }

protected:
  const RuleContext &ctx_;
};

using RuleFactory = std::function<std::unique_ptr<Rule>(const RuleContext &)>;

struct RegisteredRule {
  const char *id;
  RuleFactory make;
};

// Every rule, in id order (rule_registry.cpp).
const std::vector<RegisteredRule> &allRules();

} // namespace ftready::rules
