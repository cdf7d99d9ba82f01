#include "util/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace cr16 {
namespace {

TEST(Log, ParsesCategoryList) {
  auto mask = parse_log_categories("in_asm,int");
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(*mask,
            static_cast<uint32_t>(LogCategory::kInAsm) | static_cast<uint32_t>(LogCategory::kInt));
}

TEST(Log, RejectsUnknownCategoryByName) {
  auto mask = parse_log_categories("in_asm,bogus");
  ASSERT_FALSE(mask.has_value());
  EXPECT_NE(mask.error().message().find("'bogus'"), std::string::npos);
}

TEST(Log, WritesOnlyEnabledCategoriesToFile) {
  std::string path = ::testing::TempDir() + "/cr16-log-test.txt";
  ASSERT_TRUE(set_log_file(path).ok());
  set_log_mask(static_cast<uint32_t>(LogCategory::kInt));
  log_printf(LogCategory::kInt, "interrupt %d", 16);
  log_printf(LogCategory::kExec, "should not appear");
  ASSERT_TRUE(set_log_file("").ok());
  set_log_mask(0);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "interrupt 16\n");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace cr16
