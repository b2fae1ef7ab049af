#include "ftready/work_dir.h"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <stdlib.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ftready {

namespace {

// The pid in "ftready-<kind>-<pid>-<suffix>", or 0.
pid_t ownerOf(const std::string &name) {
  const std::string start = "ftready-";
  if (name.rfind(start, 0) != 0)
    return 0;
  size_t kindEnd = name.find('-', start.size());
  if (kindEnd == std::string::npos)
    return 0;
  std::string rest = name.substr(kindEnd + 1);
  size_t dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash > 9 ||
      rest.find_first_not_of("0123456789") != dash)
    return 0;
  return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
}

} // namespace

void removeOrphanedWorkDirs() {
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    pid_t pid = ownerOf(e.path().filename().string());
    std::error_code typeEc;
    if (pid > 0 && e.is_directory(typeEc) && ::kill(pid, 0) != 0 &&
        errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

WorkDir::WorkDir(const std::string &prefix) {
  removeOrphanedWorkDirs();
  std::string pattern =
      (fs::temp_directory_path() /
       (prefix + "-" + std::to_string(::getpid()) + "-XXXXXX"))
          .string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()))
    path_ = buf.data();
  else
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a folder in " +
                                fs::temp_directory_path().string());
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (!path_.empty())
    fs::remove_all(path_, ec);
}

} // namespace ftready
