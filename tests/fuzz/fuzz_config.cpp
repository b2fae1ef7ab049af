// libFuzzer target: the [tool.ftready] reader of pyproject.toml. Bad input
// must be a ConfigError naming the file, never a crash.
#include "ftready/project/config.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    ftready::project::parseToolConfig(text, "pyproject.toml");
  } catch (const ftready::project::ConfigError &) {
  }
  return 0;
}
