// Private temporary folders: /tmp/<prefix>-<pid>-XXXXXX, removed with
// everything in them when the owner goes out of scope. A process killed
// with SIGKILL cannot remove its own: every WorkDir created later removes
// the folders of any ftready process that is gone.
#pragma once

#include <string>

namespace ftready {

class WorkDir {
public:
  // `prefix` is "ftready-" and what the folder is for: check, run, build,
  // stress or scan (removeOrphanedWorkDirs knows only these). Throws
  // std::system_error when no folder can be made.
  explicit WorkDir(const std::string &prefix);
  ~WorkDir();
  WorkDir(const WorkDir &) = delete;
  WorkDir &operator=(const WorkDir &) = delete;
  const std::string &path() const { return path_; }
  std::string path(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// Removes the user's /tmp/ftready-<kind>-<pid>-XXXXXX folders, of ftready's
// own kinds, whose process is gone.
void removeOrphanedWorkDirs();

} // namespace ftready
