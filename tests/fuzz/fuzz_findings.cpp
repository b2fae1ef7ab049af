// libFuzzer target: the readers of findings.jsonl, report.json and SARIF
// (ftready report and --baseline take them from anywhere). Bad input must
// be a std::exception with a message, never a crash.
#include "ftready/reports/render.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  using namespace ftready::reports;
  try {
    auto findings = readFindingsText(text, "input");
    // What was read renders again.
    render(Format::Json, findings, RunSummary{});
  } catch (const std::exception &) {
  }
  try {
    RunSummary s = readSummaryText(text, "input");
    render(Format::Text, {}, s);
  } catch (const std::exception &) {
  }
  return 0;
}
