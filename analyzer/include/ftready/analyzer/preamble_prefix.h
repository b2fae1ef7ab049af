// The leading preprocessor directives of a source file, as candidates for a
// precompiled preamble that several translation units share. Plain text
// work: no clang here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ftready::analyzer {

// The file's leading run of #include / #define / #undef / #if... directives,
// comments and blank lines dropped, one directive per line (continuations
// joined). A prefix ends after each #include that closes every conditional
// it opened; the result holds every such prefix, shortest first. The run
// stops at the first line of code or any other directive (#error, #line,
// #pragma, #include_next, #import): those stay in the unit.
std::vector<std::string> leadingIncludePrefixes(std::string_view source);

// The names the #include lines of `prefix` ask for between quotes
// ("Python.h" yes, <stdio.h> no).
std::vector<std::string> quotedIncludes(std::string_view prefix);

} // namespace ftready::analyzer
