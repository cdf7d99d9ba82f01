// screendump's images: the PPM header and pixels, the PNG decoded back with
// libpng, bad formats and paths, no half-written file left behind.
#include <gtest/gtest.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "ui/screendump.h"

namespace cr16::ui {
namespace {

Screen test_screen() {
  Screen screen;
  screen.width = 3;
  screen.height = 2;
  screen.pixels = {0xFF0000, 0x00FF00, 0x0000FF, 0x123456, 0xFFFFFF, 0xAB000000};
  return screen;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Screendump, PpmIsP6WithRgbBytes) {
  Expected<std::vector<uint8_t>> image = encode_image(test_screen(), ImageFormat::kPpm);
  ASSERT_TRUE(image);
  const std::string header = "P6\n3 2\n255\n";
  ASSERT_EQ(image->size(), header.size() + 18);
  EXPECT_EQ(std::string(image->begin(), image->begin() + header.size()), header);
  const uint8_t* p = image->data() + header.size();
  EXPECT_EQ(p[0], 0xFF);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(p[9], 0x12);
  EXPECT_EQ(p[10], 0x34);
  EXPECT_EQ(p[11], 0x56);
  EXPECT_EQ(p[15], 0);  // the X byte never shows
}

TEST(Screendump, PngDecodesToTheSamePixels) {
  Expected<std::vector<uint8_t>> image = encode_image(test_screen(), ImageFormat::kPng);
  ASSERT_TRUE(image);
  png_image decoded{};
  decoded.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_memory(&decoded, image->data(), image->size()));
  decoded.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(decoded));
  ASSERT_TRUE(png_image_finish_read(&decoded, nullptr, rgb.data(), 0, nullptr));
  EXPECT_EQ(decoded.width, 3u);
  EXPECT_EQ(decoded.height, 2u);
  const Screen screen = test_screen();
  for (size_t i = 0; i < screen.pixels.size(); ++i) {
    const uint32_t pixel =
        uint32_t{rgb[3 * i]} << 16 | uint32_t{rgb[3 * i + 1]} << 8 | rgb[3 * i + 2];
    EXPECT_EQ(pixel, screen.pixels[i] & 0xFFFFFF) << i;
  }
}

TEST(Screendump, FormatsAndEmptyScreens) {
  EXPECT_EQ(*parse_image_format("png"), ImageFormat::kPng);
  EXPECT_EQ(*parse_image_format("ppm"), ImageFormat::kPpm);
  EXPECT_FALSE(parse_image_format("jpeg"));
  EXPECT_FALSE(encode_image(Screen{}, ImageFormat::kPpm));
}

TEST(Screendump, WritesTheFileAndLeavesNoTemporary) {
  char dir[] = "/tmp/screendump-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/screen.ppm";
  ASSERT_TRUE(write_screendump(test_screen(), path, ImageFormat::kPpm).ok());
  EXPECT_EQ(read_file(path).substr(0, 2), "P6");
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
  const Error error =
      write_screendump(test_screen(), std::string(dir) + "/no/such/x.png", ImageFormat::kPng);
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("no/such/x.png"), std::string::npos) << error.message();
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(Screendump, NeverReplacesWhatIsNotARegularFile) {
  char dir[] = "/tmp/screendump-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/fifo";
  const std::string link = std::string(dir) + "/link";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(symlink("/dev/null", link.c_str()), 0);
  for (const std::string& path : {fifo, link, std::string(dir)}) {
    const Error error = write_screendump(test_screen(), path, ImageFormat::kPpm);
    EXPECT_FALSE(error.ok()) << path;
    EXPECT_NE(error.message().find("not a regular file"), std::string::npos) << error.message();
  }
  struct stat after;
  ASSERT_EQ(lstat(fifo.c_str(), &after), 0);
  EXPECT_TRUE(S_ISFIFO(after.st_mode));
  ASSERT_EQ(lstat(link.c_str(), &after), 0);
  EXPECT_TRUE(S_ISLNK(after.st_mode));
  std::remove(fifo.c_str());
  std::remove(link.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace cr16::ui
