// Pixel conversion checked pixel by pixel against a reference, the Raw and
// Zlib encodings (Zlib inflated back equals Raw), DesktopSize and the
// FramebufferUpdate builder.
#include "ui/rfb_encoding.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <vector>

namespace cr16::ui {
namespace {

using Bytes = std::vector<uint8_t>;

// A framebuffer with random pixels and STRIDE_PAD bytes of garbage per row.
struct TestFramebuffer {
  Bytes memory;
  SourceFramebuffer view;
  TestFramebuffer(SourceFormat format, uint32_t width, uint32_t height, uint32_t stride_pad,
                  uint32_t seed) {
    std::mt19937 random(seed);
    const uint32_t stride =
        width * static_cast<uint32_t>(source_bytes_per_pixel(format)) + stride_pad;
    memory.resize(size_t{stride} * height);
    for (uint8_t& b : memory) b = static_cast<uint8_t>(random());
    view = SourceFramebuffer{memory.data(), format, width, height, stride};
  }
  // The source pixel at (x, y), read independently of the code under test.
  uint32_t pixel(uint32_t x, uint32_t y) const {
    const size_t bpp = source_bytes_per_pixel(view.format);
    const uint8_t* p = memory.data() + size_t{y} * view.stride + x * bpp;
    uint32_t v = 0;
    for (size_t i = 0; i < bpp; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return v;
  }
};

// Reference conversion: channel values as 0..1 fractions, rounded to nearest.
uint32_t reference(SourceFormat source, uint32_t p, const PixelFormat& f) {
  double r, g, b;
  if (source == SourceFormat::kRgb565) {
    r = ((p >> 11) & 31) / 31.0;
    g = ((p >> 5) & 63) / 63.0;
    b = (p & 31) / 31.0;
  } else {
    r = ((p >> 16) & 255) / 255.0;
    g = ((p >> 8) & 255) / 255.0;
    b = (p & 255) / 255.0;
  }
  auto scale = [](double v, uint16_t max) {
    return static_cast<uint32_t>(v * max + 0.5 - 1e-9);  // ties round down, as integer math does
  };
  const uint32_t used = uint32_t{f.red_max} << f.red_shift |
                        uint32_t{f.green_max} << f.green_shift |
                        uint32_t{f.blue_max} << f.blue_shift;
  const uint32_t unused = f.bits_per_pixel == 32 ? ~used : 0;  // sent as ones
  return scale(r, f.red_max) << f.red_shift | scale(g, f.green_max) << f.green_shift |
         scale(b, f.blue_max) << f.blue_shift | unused;
}

uint32_t read_client_pixel(const uint8_t* p, const PixelFormat& f) {
  const size_t n = f.bits_per_pixel / 8;
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t byte = f.big_endian ? n - 1 - i : i;
    v |= static_cast<uint32_t>(p[byte]) << (8 * i);
  }
  return v;
}

const std::vector<PixelFormat>& client_formats() {
  static const std::vector<PixelFormat> formats = {
      PixelFormat{},                                                 // xRGB8888 little-endian
      PixelFormat{32, 24, true, true, 255, 255, 255, 16, 8, 0},      // same, big-endian
      PixelFormat{32, 24, false, true, 255, 255, 255, 0, 8, 16},     // xBGR
      PixelFormat{32, 30, true, true, 1023, 1023, 1023, 20, 10, 0},  // 10 bits per channel
      PixelFormat{16, 16, false, true, 31, 63, 31, 11, 5, 0},        // RGB565 LE
      PixelFormat{16, 16, true, true, 31, 63, 31, 11, 5, 0},         // RGB565 BE
      PixelFormat{16, 15, false, true, 31, 31, 31, 10, 5, 0},        // RGB555
      PixelFormat{8, 8, false, true, 7, 7, 3, 0, 3, 6},              // BGR233
      PixelFormat{8, 6, false, true, 3, 3, 3, 4, 2, 0},              // RGB222
  };
  return formats;
}

TEST(RfbPixelConversion, EveryFormatMatchesTheReferencePixelByPixel) {
  for (SourceFormat source : {SourceFormat::kRgb565, SourceFormat::kXrgb8888}) {
    TestFramebuffer fb(source, 37, 23, 6, 7);
    const RfbRect rect{3, 2, 30, 19};
    for (const PixelFormat& format : client_formats()) {
      ASSERT_TRUE(validate_pixel_format(format).ok());
      PixelConverter converter(source, format);
      Bytes out;
      ASSERT_TRUE(converter.convert_rect(fb.view, rect, out).ok());
      const size_t n = format.bits_per_pixel / 8;
      ASSERT_EQ(out.size(), size_t{rect.width} * rect.height * n);
      for (uint32_t y = 0; y < rect.height; ++y) {
        for (uint32_t x = 0; x < rect.width; ++x) {
          const uint32_t src = fb.pixel(rect.x + x, rect.y + y);
          const uint32_t want = reference(source, src, format);
          const uint32_t got = read_client_pixel(out.data() + (y * rect.width + x) * n, format);
          ASSERT_EQ(got, want) << "bpp " << int(format.bits_per_pixel) << " at " << x << "," << y;
          ASSERT_EQ(converter.convert_pixel(src), want);
        }
      }
    }
  }
}

TEST(RfbPixelConversion, KnownValues) {
  PixelConverter to_bgr233(SourceFormat::kXrgb8888,
                           PixelFormat{8, 8, false, true, 7, 7, 3, 0, 3, 6});
  EXPECT_EQ(to_bgr233.convert_pixel(0x00ffffff), 0xffu);
  EXPECT_EQ(to_bgr233.convert_pixel(0xff000000), 0x00u);  // the x byte is ignored
  EXPECT_EQ(to_bgr233.convert_pixel(0x00ff0000), 0x07u);
  EXPECT_EQ(to_bgr233.convert_pixel(0x000000ff), 0xc0u);
  PixelConverter rgb565_to_32(SourceFormat::kRgb565, PixelFormat{});
  // The padding byte of 32-bit pixels is 0xff (noVNC takes it as alpha).
  EXPECT_EQ(rgb565_to_32.convert_pixel(0xffff), 0xffffffffu);
  EXPECT_EQ(rgb565_to_32.convert_pixel(0xf800), 0xffff0000u);
  EXPECT_EQ(rgb565_to_32.convert_pixel(0x07e0), 0xff00ff00u);
  EXPECT_EQ(rgb565_to_32.convert_pixel(0x8410), 0xff848284u);  // 16/31, 32/63, 16/31
  // Identity: RGB565 to an RGB565 client keeps the value.
  PixelConverter same(SourceFormat::kRgb565,
                      PixelFormat{16, 16, false, true, 31, 63, 31, 11, 5, 0});
  for (uint32_t v : {0x0000u, 0x1234u, 0xabcdu, 0xffffu}) EXPECT_EQ(same.convert_pixel(v), v);
}

TEST(RfbPixelConversion, RejectsRectanglesOutsideAndBadFramebuffers) {
  TestFramebuffer fb(SourceFormat::kXrgb8888, 16, 8, 0, 1);
  PixelConverter converter(SourceFormat::kXrgb8888, PixelFormat{});
  Bytes out;
  EXPECT_FALSE(converter.convert_rect(fb.view, RfbRect{10, 0, 7, 1}, out).ok());
  EXPECT_FALSE(converter.convert_rect(fb.view, RfbRect{0, 8, 1, 1}, out).ok());
  EXPECT_FALSE(converter.convert_rect(fb.view, RfbRect{65535, 65535, 65535, 65535}, out).ok());
  EXPECT_TRUE(converter.convert_rect(fb.view, RfbRect{16, 8, 0, 0}, out).ok());
  SourceFramebuffer short_stride = fb.view;
  short_stride.stride = 60;
  EXPECT_FALSE(validate_rect(short_stride, RfbRect{0, 0, 1, 1}).ok());
  SourceFramebuffer no_data = fb.view;
  no_data.data = nullptr;
  EXPECT_FALSE(validate_rect(no_data, RfbRect{0, 0, 1, 1}).ok());
  PixelConverter wrong_source(SourceFormat::kRgb565, PixelFormat{});
  EXPECT_FALSE(wrong_source.convert_rect(fb.view, RfbRect{0, 0, 1, 1}, out).ok());
  EXPECT_TRUE(out.empty());
}

Bytes header(uint16_t x, uint16_t y, uint16_t w, uint16_t h, int32_t encoding) {
  Bytes out;
  append_rect_header(out, RfbRect{x, y, w, h}, encoding);
  return out;
}

TEST(RfbEncoding, RawIsHeaderThenPixels) {
  TestFramebuffer fb(SourceFormat::kRgb565, 8, 4, 2, 3);
  PixelConverter converter(SourceFormat::kRgb565, PixelFormat{});
  Bytes out;
  ASSERT_TRUE(encode_raw(fb.view, RfbRect{1, 1, 2, 2}, converter, out).ok());
  EXPECT_EQ(header(1, 1, 2, 2, 0), (Bytes{0, 1, 0, 1, 0, 2, 0, 2, 0, 0, 0, 0}));
  Bytes want = header(1, 1, 2, 2, 0);
  ASSERT_TRUE(converter.convert_rect(fb.view, RfbRect{1, 1, 2, 2}, want).ok());
  EXPECT_EQ(out, want);
}

TEST(RfbEncoding, DesktopSizeRectangle) {
  Bytes out;
  append_desktop_size(out, 800, 600);
  EXPECT_EQ(out, (Bytes{0, 0, 0, 0, 0x03, 0x20, 0x02, 0x58, 0xff, 0xff, 0xff, 0x21}));
}

uint32_t read_u32(const Bytes& b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}

TEST(RfbEncoding, ZlibInflatesBackToRawWithOneStream) {
  TestFramebuffer fb(SourceFormat::kXrgb8888, 64, 48, 4, 5);
  // Make part of it compressible.
  for (size_t i = 0; i < fb.memory.size() / 2; ++i) fb.memory[i] = static_cast<uint8_t>(i / 64);
  const PixelFormat format{16, 16, true, true, 31, 63, 31, 11, 5, 0};
  PixelConverter converter(SourceFormat::kXrgb8888, format);
  ZlibEncoder encoder;
  z_stream inflater{};
  ASSERT_EQ(inflateInit(&inflater), Z_OK);
  const std::vector<RfbRect> rects = {
      {0, 0, 64, 24}, {5, 7, 20, 30}, {0, 0, 64, 48}, {63, 47, 1, 1}};
  for (const RfbRect& rect : rects) {
    Bytes zlib_out;
    ASSERT_TRUE(encoder.encode(fb.view, rect, converter, zlib_out).ok());
    ASSERT_GE(zlib_out.size(), 16u);
    EXPECT_EQ(Bytes(zlib_out.begin(), zlib_out.begin() + 12),
              header(rect.x, rect.y, rect.width, rect.height, 6));
    const uint32_t length = read_u32(zlib_out, 12);
    ASSERT_EQ(length, zlib_out.size() - 16);
    Bytes raw;
    ASSERT_TRUE(converter.convert_rect(fb.view, rect, raw).ok());
    Bytes inflated(raw.size() + 16);
    inflater.next_in = zlib_out.data() + 16;
    inflater.avail_in = length;
    inflater.next_out = inflated.data();
    inflater.avail_out = static_cast<uInt>(inflated.size());
    ASSERT_EQ(inflate(&inflater, Z_SYNC_FLUSH), Z_OK);
    EXPECT_EQ(inflater.avail_in, 0u);  // every byte of the rectangle consumed
    inflated.resize(inflated.size() - inflater.avail_out);
    EXPECT_EQ(inflated, raw);
  }
  inflateEnd(&inflater);
}

TEST(RfbEncoding, ZlibOfAnInvalidRectangleLeavesOutputAlone) {
  TestFramebuffer fb(SourceFormat::kXrgb8888, 4, 4, 0, 5);
  PixelConverter converter(SourceFormat::kXrgb8888, PixelFormat{});
  ZlibEncoder encoder;
  Bytes out{9};
  EXPECT_FALSE(encoder.encode(fb.view, RfbRect{0, 0, 5, 1}, converter, out).ok());
  EXPECT_EQ(out, Bytes{9});
}

TEST(RfbEncoding, FramebufferUpdateBuilderCountsRectangles) {
  TestFramebuffer fb(SourceFormat::kRgb565, 16, 16, 0, 9);
  PixelConverter converter(SourceFormat::kRgb565, PixelFormat{});
  ZlibEncoder encoder;
  FramebufferUpdateBuilder builder;
  ASSERT_TRUE(builder.add_desktop_size(16, 16).ok());
  ASSERT_TRUE(builder.add_raw(fb.view, RfbRect{0, 0, 4, 4}, converter).ok());
  EXPECT_FALSE(builder.add_raw(fb.view, RfbRect{0, 0, 17, 4}, converter).ok());
  ASSERT_TRUE(builder.add_zlib(fb.view, RfbRect{4, 4, 8, 8}, converter, encoder).ok());
  EXPECT_EQ(builder.rect_count(), 3);
  Bytes message = builder.finish();
  ASSERT_GE(message.size(), 4u);
  EXPECT_EQ(Bytes(message.begin(), message.begin() + 4), (Bytes{0, 0, 0, 3}));
  Bytes want{0, 0, 0, 3};
  append_desktop_size(want, 16, 16);
  ASSERT_TRUE(encode_raw(fb.view, RfbRect{0, 0, 4, 4}, converter, want).ok());
  EXPECT_EQ(Bytes(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(want.size())),
            want);
  // The builder starts over after finish().
  EXPECT_EQ(builder.finish(), (Bytes{0, 0, 0, 0}));
}

}  // namespace
}  // namespace cr16::ui
