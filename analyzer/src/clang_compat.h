// The differences between the LLVM/Clang versions the analyzer builds
// against (14 to 19; tested with 14, 15, 16 and 19) that its code meets, and
// nowhere else. They are told apart by what the API offers, not by version
// number, so a version in between needs no guess.
#pragma once

#include <clang/Basic/SourceManager.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/ADT/StringRef.h>

#include <type_traits>
#include <utility>

namespace ftready::compat {

// The name of a file the SourceManager has read, from its file-info table,
// whose keys were `const FileEntry *` and became FileEntryRef (LLVM 18).
// (A template, so that only the branch of the version at hand is compiled.)
template <typename Iterator> llvm::StringRef fileInfoName(const Iterator &it) {
  if constexpr (std::is_pointer_v<std::decay_t<decltype(it->first)>>)
    return it->first->getName();
  else
    return it->first.getName();
}

namespace detail {
template <typename Tool, typename = void>
struct HasRestoreWorkingDir : std::false_type {};
template <typename Tool>
struct HasRestoreWorkingDir<
    Tool,
    std::void_t<decltype(std::declval<Tool &>().setRestoreWorkingDir(false))>>
    : std::true_type {};
} // namespace detail

// A ClangTool used to set its file system's working directory back after
// each run unless told not to; later versions dropped the switch. The
// analyzer gives every tool a file system of its own, so nothing depends on
// it.
template <typename Tool> void keepToolWorkingDirectory(Tool &tool) {
  if constexpr (detail::HasRestoreWorkingDir<Tool>::value)
    tool.setRestoreWorkingDir(false);
}

} // namespace ftready::compat
