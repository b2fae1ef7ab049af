// libFuzzer target: the suppression-comment parser
// ("// ftready: ignore[FT001,FT002] reason"), on any source line. The first
// byte picks the rule asked about and the comment's form.
#include "../../analyzer/src/suppressions.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  static const char *const rules[] = {"FT001", "FT002", "FT007", ""};
  std::string line(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string reason;
  ftready::analyzer::suppresses(line, rules[data[0] & 3], data[0] & 4, &reason);
  return 0;
}
