#include "ui/screendump.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/fd_write.h"

namespace cr16::ui {
namespace {

void append_rgb_row(const Screen& screen, uint32_t y, std::vector<uint8_t>& out) {
  const uint32_t* row = screen.row(y);
  for (uint32_t x = 0; x < screen.width; ++x) {
    out.push_back(static_cast<uint8_t>(row[x] >> 16));
    out.push_back(static_cast<uint8_t>(row[x] >> 8));
    out.push_back(static_cast<uint8_t>(row[x]));
  }
}

std::vector<uint8_t> encode_ppm(const Screen& screen) {
  char header[64];
  const int length =
      std::snprintf(header, sizeof header, "P6\n%u %u\n255\n", screen.width, screen.height);
  std::vector<uint8_t> out(header, header + length);
  out.reserve(out.size() + size_t{screen.width} * screen.height * 3);
  for (uint32_t y = 0; y < screen.height; ++y) append_rgb_row(screen, y, out);
  return out;
}

// libpng reports errors through longjmp; everything it touches below is
// plain data, so nothing with a destructor is skipped by the jump.
struct PngSink {
  std::vector<uint8_t>* out;
  const char* error = nullptr;
};

void png_write_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->out->insert(sink->out->end(), data, data + length);
}

void png_flush_nothing(png_structp) {}

void png_fail(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  sink->error = message;
  png_longjmp(png, 1);
}

void png_warn(png_structp, png_const_charp) {}

Expected<std::vector<uint8_t>> encode_png(const Screen& screen) {
  std::vector<uint8_t> out;
  std::vector<uint8_t> rgb;
  rgb.reserve(size_t{screen.width} * screen.height * 3);
  for (uint32_t y = 0; y < screen.height; ++y) append_rgb_row(screen, y, rgb);
  std::vector<png_bytep> rows(screen.height);
  for (uint32_t y = 0; y < screen.height; ++y) rows[y] = rgb.data() + size_t{y} * screen.width * 3;

  PngSink sink{&out};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_fail, png_warn);
  if (png == nullptr) return Error("png: cannot create a writer");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return Error("png: cannot create a writer");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Error(std::string("png: ") + (sink.error ? sink.error : "encoding failed"));
  }
  png_set_write_fn(png, &sink, png_write_bytes, png_flush_nothing);
  png_set_IHDR(png, info, screen.width, screen.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace

Expected<ImageFormat> parse_image_format(std::string_view text) {
  if (text == "ppm") return ImageFormat::kPpm;
  if (text == "png") return ImageFormat::kPng;
  return Error("format '" + std::string(text) + "': expected ppm or png");
}

Expected<std::vector<uint8_t>> encode_image(const Screen& screen, ImageFormat format) {
  if (screen.width == 0 || screen.height == 0) return Error("the display has no picture yet");
  if (screen.pixels.size() != size_t{screen.width} * screen.height) {
    return Error("screen: pixel count does not match its size");
  }
  if (format == ImageFormat::kPpm) return encode_ppm(screen);
  return encode_png(screen);
}

Error write_screendump(const Screen& screen, const std::string& path, ImageFormat format) {
  Expected<std::vector<uint8_t>> image = encode_image(screen, format);
  if (!image) return image.error();
  // The file is renamed into place, which would replace whatever PATH names:
  // only a regular file (or nothing yet) may be there. A device, FIFO,
  // directory or symbolic link is refused, never replaced.
  struct stat existing;
  if (::lstat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    return Error("cannot write " + path + ": not a regular file");
  }
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) return Error("cannot create " + path + ": " + std::strerror(errno));
  if (const int failed = write_fully(fd, *image); failed != 0) {
    ::close(fd);
    ::unlink(temporary.c_str());
    return Error(path + ": " + std::strerror(failed));
  }
  if (::close(fd) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return Error(path + ": " + std::strerror(saved));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return Error(path + ": " + std::strerror(saved));
  }
  return {};
}

}  // namespace cr16::ui
