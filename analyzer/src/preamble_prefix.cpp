#include "ftready/analyzer/preamble_prefix.h"

#include <cctype>
#include <set>

namespace ftready::analyzer {

namespace {

// Reads a source file's leading directives one at a time.
class DirectiveReader {
public:
  explicit DirectiveReader(std::string_view s) : s_(s) {}

  // The next directive, normalised ("#define X 1"); empty at the first
  // thing that is not a directive, a comment or blank.
  std::string next() {
    skipBlankAndComments();
    if (at_ >= s_.size() || s_[at_] != '#')
      return {};
    ++at_;
    return "#" + logicalLine();
  }

private:
  bool startsWith(std::string_view what) const {
    return s_.substr(at_, what.size()) == what;
  }

  // A backslash-newline joins two lines anywhere, comments included.
  bool skipContinuation() {
    if (startsWith("\\\n")) {
      at_ += 2;
      return true;
    }
    if (startsWith("\\\r\n")) {
      at_ += 3;
      return true;
    }
    return false;
  }

  void skipLineComment() {
    while (at_ < s_.size() && s_[at_] != '\n')
      if (!skipContinuation())
        ++at_;
  }

  void skipBlockComment() {
    size_t end = s_.find("*/", at_ + 2);
    at_ = end == std::string_view::npos ? s_.size() : end + 2;
  }

  void skipBlankAndComments() {
    while (at_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[at_])))
        ++at_;
      else if (startsWith("//"))
        skipLineComment();
      else if (startsWith("/*"))
        skipBlockComment();
      else if (!skipContinuation())
        return;
    }
  }

  // The rest of a directive line without comments, whitespace collapsed;
  // quoted text is kept as written.
  std::string logicalLine() {
    std::string out;
    bool space = false;
    auto put = [&](char c) {
      if (space && !out.empty())
        out += ' ';
      space = false;
      out += c;
    };
    while (at_ < s_.size() && s_[at_] != '\n') {
      char c = s_[at_];
      if (skipContinuation()) {
        space = true;
      } else if (startsWith("//")) {
        skipLineComment();
      } else if (startsWith("/*")) {
        skipBlockComment(); // may span lines: the directive goes on after it
        space = true;
      } else if (c == '"' || c == '\'') {
        put(c);
        for (++at_; at_ < s_.size() && s_[at_] != '\n';) {
          if (s_[at_] == '\\' && at_ + 1 < s_.size()) {
            out += s_.substr(at_, 2);
            at_ += 2;
            continue;
          }
          out += s_[at_];
          if (s_[at_++] == c)
            break;
        }
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        space = true;
        ++at_;
      } else {
        put(c);
        ++at_;
      }
    }
    return out;
  }

  std::string_view s_;
  size_t at_ = 0;
};

std::string keywordOf(const std::string &directive) {
  size_t i = 1;
  while (i < directive.size() && directive[i] == ' ')
    ++i;
  size_t j = i;
  while (j < directive.size() &&
         (std::isalnum(static_cast<unsigned char>(directive[j])) ||
          directive[j] == '_'))
    ++j;
  return directive.substr(i, j - i);
}

} // namespace

std::vector<std::string> leadingIncludePrefixes(std::string_view source) {
  static const std::set<std::string> opening = {"if", "ifdef", "ifndef"};
  static const std::set<std::string> plain = {"define", "undef", "elif",
                                              "else"};
  std::vector<std::string> prefixes;
  std::string text;
  int depth = 0;
  DirectiveReader reader(source);
  for (std::string d = reader.next(); !d.empty(); d = reader.next()) {
    std::string keyword = keywordOf(d);
    if (opening.count(keyword))
      ++depth;
    else if (keyword == "endif" && --depth < 0)
      break;
    else if (keyword != "include" && keyword != "endif" &&
             !plain.count(keyword))
      break;
    text += d + "\n";
    if (keyword == "include" && depth == 0)
      prefixes.push_back(text);
  }
  return prefixes;
}

std::vector<std::string> quotedIncludes(std::string_view prefix) {
  std::vector<std::string> names;
  size_t at = 0;
  while (at < prefix.size()) {
    size_t eol = prefix.find('\n', at);
    std::string line(prefix.substr(
        at, eol == std::string_view::npos ? std::string_view::npos : eol - at));
    at = eol == std::string_view::npos ? prefix.size() : eol + 1;
    if (keywordOf(line) != "include")
      continue;
    size_t open = line.find('"');
    size_t close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close != std::string::npos)
      names.push_back(line.substr(open + 1, close - open - 1));
  }
  return names;
}

} // namespace ftready::analyzer
