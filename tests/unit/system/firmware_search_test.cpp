#include "system/firmware_search.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace cr16::system {
namespace {

TEST(FirmwareSearch, DashLDirectoriesComeFirstInOrder) {
  std::vector<std::string> path = firmware_search_path({"/first", "/second"});
  ASSERT_GE(path.size(), 4u);
  EXPECT_EQ(path[0], "/first");
  EXPECT_EQ(path[1], "/second");
  EXPECT_EQ(path.back(), std::string(CR16_SOURCE_DIR) + "/roms");
}

TEST(FirmwareSearch, FindsTheImageInADashLDirectory) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "fw-search-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "test-image.bin") << "x";
  Expected<std::string> found = find_firmware("test-image.bin", {"/nonexistent", dir.string()});
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(*found, (dir / "test-image.bin").string());
  std::filesystem::remove_all(dir);
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
