#include "system/firmware_search.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cr16::system {
namespace {

TEST(FirmwareSearch, DashLDirectoriesComeFirstInOrder) {
  std::vector<std::string> path = firmware_search_path({"/first", "/second"});
  ASSERT_GE(path.size(), 4u);
  EXPECT_EQ(path[0], "/first");
  EXPECT_EQ(path[1], "/second");
  EXPECT_EQ(path.back(), std::string(CR16_SOURCE_DIR) + "/roms");
}

// A directory of its own (mkdtemp), removed at the end: tests running in
// parallel, or an earlier run's leftovers, never share file names.
class UniqueTempDir {
 public:
  UniqueTempDir() {
    std::string pattern = testing::TempDir() + "fw-search-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const char* made = mkdtemp(buffer.data());
    EXPECT_NE(made, nullptr);
    path_ = made ? made : "";
  }
  ~UniqueTempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(FirmwareSearch, FindsTheImageInADashLDirectory) {
  UniqueTempDir dir;
  std::ofstream(dir.path() / "test-image.bin") << "x";
  Expected<std::string> found =
      find_firmware("test-image.bin", {"/nonexistent", dir.path().string()});
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(*found, (dir.path() / "test-image.bin").string());
}

TEST(FirmwareSearch, SkipsWhatIsNotARegularFile) {
  // A FIFO or a directory under the firmware's name is passed over for the
  // next directory instead of being opened (a FIFO would block).
  UniqueTempDir first;
  UniqueTempDir second;
  ASSERT_EQ(mkfifo((first.path() / "image.bin").c_str(), 0600), 0);
  std::filesystem::create_directory(second.path() / "image.bin");
  UniqueTempDir third;
  std::ofstream(third.path() / "image.bin") << "x";
  Expected<std::string> found = find_firmware(
      "image.bin", {first.path().string(), second.path().string(), third.path().string()});
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(*found, (third.path() / "image.bin").string());
}

TEST(FirmwareSearch, MissingImageListsWhereItLooked) {
  Expected<std::string> found = find_firmware("no-such-image.bin", {"/nonexistent-dir"});
  ASSERT_FALSE(found);
  EXPECT_NE(found.error().message().find("cannot find the default firmware no-such-image.bin"),
            std::string::npos);
  EXPECT_NE(found.error().message().find("/nonexistent-dir"), std::string::npos);
  EXPECT_NE(found.error().message().find("-L DIR"), std::string::npos);
}

}  // namespace
}  // namespace cr16::system
