#include "system/firmware_search.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cr16::system {

namespace {

std::string executable_dir() {
  char path[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return {};
  std::string text(path, static_cast<size_t>(length));
  size_t slash = text.rfind('/');
  return slash == std::string::npos ? std::string(".") : text.substr(0, slash);
}

}  // namespace

std::vector<std::string> firmware_search_path(const std::vector<std::string>& data_dirs) {
  std::vector<std::string> path = data_dirs;
  std::string exe_dir = executable_dir();
  if (!exe_dir.empty()) {
    path.push_back(exe_dir + "/../roms");
    path.push_back(exe_dir + "/roms");
  }
#ifdef CR16_SOURCE_DIR
  path.push_back(std::string(CR16_SOURCE_DIR) + "/roms");
#endif
  return path;
}

Expected<std::string> find_firmware(const std::string& name,
                                    const std::vector<std::string>& data_dirs) {
  std::string looked;
  for (const std::string& dir : firmware_search_path(data_dirs)) {
    std::string candidate = dir + "/" + name;
    struct stat info {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), R_OK) == 0) {
      return candidate;
    }
    looked += (looked.empty() ? "" : ", ") + dir;
  }
  return Error("cannot find the default firmware " + name + " (looked in " + looked +
               "; use -L DIR, -bios FILE or -kernel FILE)");
}

}  // namespace cr16::system
