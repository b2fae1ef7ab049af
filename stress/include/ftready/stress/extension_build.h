// Builds an extension module from its sources for a given interpreter, with
// ThreadSanitizer when the interpreter is TSan-built.
#pragma once

#include "ftready/interpreters.h"

#include <string>
#include <vector>

namespace ftready::stress {

struct ExtensionSources {
  std::vector<std::string> sources;
  std::string module;              // the name PyInit_<module> exports
  std::vector<std::string> cflags; // added after ftready's own
  // shims/ftready_shims.c built as a static library: linked in with
  // -Wl,--wrap for every API it wraps. Empty: no shims.
  std::string shims_library;
};

// The C APIs shims/ftready_shims.c wraps (a mismatch fails at load time with
// an undefined __wrap_ symbol, which the stress tests would show).
const std::vector<std::string> &shimmedApis();

struct BuiltExtension {
  bool ok = false;
  std::string directory; // put on sys.path
  std::string path;      // the .so
  std::string log;       // the compiler's output
};

// Compiles into `outDir` with the interpreter's own C compiler (see
// compilersFor): -fsanitize=thread -g -O1 when
// `interp.tsan`, else -g -O1.
BuiltExtension buildExtension(const ExtensionSources &src,
                              const Interpreter &interp,
                              const std::string &outDir);

// Link flags that put the shims library into an extension built by someone
// else's build (LDFLAGS): the whole archive, and --wrap for every API.
std::vector<std::string> shimLinkFlags(const std::string &shimsLibrary);

} // namespace ftready::stress
