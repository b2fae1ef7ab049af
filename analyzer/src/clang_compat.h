// The differences between the LLVM/Clang versions the analyzer builds
// against (14 to 19) that its code meets, and nowhere else: code elsewhere
// calls these and never tests LLVM_VERSION_MAJOR itself.
#pragma once

#include <clang/Basic/SourceManager.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Config/llvm-config.h>

namespace ftready::compat {

// The name of a file the SourceManager has read, from its file-info table:
// keyed by `const FileEntry *` up to LLVM 18, by FileEntryRef from 19.
inline llvm::StringRef
fileInfoName(const clang::SourceManager::fileinfo_iterator &it) {
#if LLVM_VERSION_MAJOR >= 19
  return it->first.getName();
#else
  return it->first->getName();
#endif
}

// Up to LLVM 18 a ClangTool sets its file system's working directory back
// after each run unless told not to; 19 dropped the switch. The analyzer
// gives every tool a file system of its own, so nothing depends on it.
inline void keepToolWorkingDirectory(clang::tooling::ClangTool &tool) {
#if LLVM_VERSION_MAJOR < 19
  tool.setRestoreWorkingDir(false);
#else
  (void)tool;
#endif
}

} // namespace ftready::compat
