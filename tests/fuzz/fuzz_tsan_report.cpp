// libFuzzer target: ThreadSanitizer's report parser, on whatever a hostile
// process could make TSan's log or its output contain.
#include "ftready/stress/tsan_report.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  using namespace ftready::stress;
  TsanStreamParser stream;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos;
       start = nl + 1)
    stream.feed(text.substr(start, nl - start));
  for (const auto &r : parseTsanReports(text))
    for (const auto &s : r.stacks) {
      isAccessStack(s);
      ownFrame(s, "mod.so", {"/src"},
               [](const std::string &f) { return f.find("vendor") == 0; });
    }
  return 0;
}
