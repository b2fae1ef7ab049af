// For the build-time generators: a string as a C++ string literal.
#pragma once

#include <string>

namespace ftready::tools {

inline std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace ftready::tools
