#include "ftready/project/config.h"

#include <toml++/toml.h>

namespace ftready::project {

namespace {

class Reader {
public:
  explicit Reader(const std::string &file) : file_(file) {}

  ConfigError bad(const std::string &key, const std::string &want) const {
    return ConfigError(file_ + ": [tool.ftready] " + key + " must be " + want);
  }

  std::vector<std::string> strings(const toml::node &node,
                                   const std::string &key,
                                   const std::string &want) const {
    auto *arr = node.as_array();
    if (!arr)
      throw bad(key, want);
    std::vector<std::string> out;
    for (auto &v : *arr) {
      auto s = v.value<std::string>();
      if (!s)
        throw bad(key, want);
      out.push_back(*s);
    }
    return out;
  }

  std::string string(const toml::node &node, const std::string &key) const {
    auto s = node.value<std::string>();
    if (!s)
      throw bad(key, "a string");
    return *s;
  }

  void key(const std::string &k, const toml::node &node, ToolConfig &c) const {
    if (k == "rules") {
      std::string joined;
      for (const auto &s : strings(node, k, "an array of rule ids"))
        joined += (joined.empty() ? "" : ",") + s;
      c.rules = joined;
    } else if (k == "paths") {
      c.paths = strings(node, k, "an array of folders or files");
    } else if (k == "threads") {
      auto n = node.value<int64_t>();
      if (!n || *n < 2 || *n > 512)
        throw bad(k, "an integer from 2 to 512");
      c.threads = static_cast<unsigned>(*n);
    } else if (k == "budget") {
      c.budget = string(node, k);
    } else if (k == "fail-on") {
      c.fail_on = string(node, k);
      if (!parseSeverity(*c.fail_on))
        throw bad(k, "one of note, warning, error");
    } else if (k == "module") {
      c.module = string(node, k);
    } else if (k == "modules" || k == "exclude-modules") {
      for (const auto &s : strings(node, k, "an array of dotted module names"))
        (k == "modules" ? c.modules : c.exclude_modules).insert(s);
    } else if (k == "build-cmd") {
      c.build_cmd = string(node, k);
    } else if (k == "python") {
      c.python = string(node, k);
      if (c.python->empty())
        throw bad(k, "an interpreter: a path, a program on PATH or a "
                     "managed flavour");
    } else if (k == "include-vendored") {
      auto b = node.value<bool>();
      if (!b)
        throw bad(k, "true or false");
      c.include_vendored = *b;
    } else if (k == "severity") {
      auto *t = node.as_table();
      if (!t)
        throw bad(k, "a table of rule = \"note|warning|error\"");
      for (auto &[rule, sev] : *t) {
        auto s = sev.value<std::string>();
        std::optional<Severity> level = s ? parseSeverity(*s) : std::nullopt;
        if (!level)
          throw bad("severity." + std::string(rule.str()),
                    "one of note, warning, error");
        c.severity[std::string(rule.str())] = *level;
      }
    } else {
      throw ConfigError(file_ + ": unknown key [tool.ftready] " + k);
    }
  }

private:
  std::string file_;
};

} // namespace

std::optional<ToolConfig> parseToolConfig(const std::string &text,
                                          const std::string &file) {
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error &e) {
    throw ConfigError(file + ": " + std::string(e.description()));
  }
  auto *cfg = doc["tool"]["ftready"].as_table();
  if (!cfg)
    return std::nullopt;
  ToolConfig c;
  Reader r(file);
  for (auto &[key, node] : *cfg)
    r.key(std::string(key.str()), node, c);
  return c;
}

} // namespace ftready::project
