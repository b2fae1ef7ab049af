#include "ftready/work_dir.h"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <stdlib.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ftready {

namespace {

// What ftready's own folders are for: only these are ever removed.
constexpr const char *kKinds[] = {"check", "run", "build", "stress", "scan"};

// The pid in "ftready-<kind>-<pid>-XXXXXX" (mkdtemp's six characters), for
// one of ftready's kinds; 0 for any other name.
pid_t ownerOf(const std::string &name) {
  for (const char *kind : kKinds) {
    std::string start = std::string("ftready-") + kind + "-";
    if (name.rfind(start, 0) != 0)
      continue;
    std::string rest = name.substr(start.size());
    size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || dash > 9 ||
        rest.find_first_not_of("0123456789") != dash ||
        rest.size() - dash - 1 != 6)
      return 0;
    return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
  }
  return 0;
}

} // namespace

void removeOrphanedWorkDirs() {
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  if (ec)
    return; // WorkDir says what is wrong with TMPDIR when one is needed
  for (const auto &e : fs::directory_iterator(tmp, ec)) {
    pid_t pid = ownerOf(e.path().filename().string());
    std::error_code typeEc;
    // Only the user's own: a folder of another user (or, where /tmp is
    // shared, of another PID namespace's run) is never touched.
    struct stat st {};
    if (pid > 0 && e.is_directory(typeEc) &&
        ::stat(e.path().c_str(), &st) == 0 && st.st_uid == ::getuid() &&
        ::kill(pid, 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

WorkDir::WorkDir(const std::string &prefix) {
  removeOrphanedWorkDirs();
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  if (ec)
    throw std::system_error(ec, "no folder for temporary files (check TMPDIR)");
  std::string pattern =
      (tmp / (prefix + "-" + std::to_string(::getpid()) + "-XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()))
    path_ = buf.data();
  else
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a folder in " + tmp.string());
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (!path_.empty())
    fs::remove_all(path_, ec);
}

} // namespace ftready
