#include "rule.h"

namespace ftready::rules {

std::unique_ptr<Rule> makeFT001(const RuleContext &);
std::unique_ptr<Rule> makeFT002(const RuleContext &);
std::unique_ptr<Rule> makeFT003(const RuleContext &);
std::unique_ptr<Rule> makeFT004(const RuleContext &);
std::unique_ptr<Rule> makeFT005(const RuleContext &);
std::unique_ptr<Rule> makeFT006(const RuleContext &);
std::unique_ptr<Rule> makeFT007(const RuleContext &);

const std::vector<RegisteredRule> &allRules() {
  static const std::vector<RegisteredRule> rules = {
      {"FT001", makeFT001}, {"FT002", makeFT002}, {"FT003", makeFT003},
      {"FT004", makeFT004}, {"FT005", makeFT005}, {"FT006", makeFT006},
      {"FT007", makeFT007},
  };
  return rules;
}

} // namespace ftready::rules
