// Pixel conversion and RFB encodings: see rfb_encoding.h.
#include "ui/rfb_encoding.h"

#include <zlib.h>

#include <algorithm>
#include <string>

namespace cr16::ui {
namespace {

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Table for one channel: source value (0..source_max) -> client bits in place.
std::vector<uint32_t> channel_table(uint32_t source_max, uint32_t client_max, uint8_t shift) {
  std::vector<uint32_t> table(source_max + 1);
  for (uint32_t in = 0; in <= source_max; ++in)
    table[in] = ((in * client_max + source_max / 2) / source_max) << shift;
  return table;
}

uint32_t load_source_pixel(const uint8_t* p, SourceFormat format) {
  if (format == SourceFormat::kRgb565) return static_cast<uint32_t>(p[0] | p[1] << 8);
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

size_t source_bytes_per_pixel(SourceFormat format) {
  return format == SourceFormat::kRgb565 ? 2 : 4;
}

Error validate_rect(const SourceFramebuffer& fb, const RfbRect& rect) {
  const uint64_t row_bytes = uint64_t{fb.width} * source_bytes_per_pixel(fb.format);
  if (fb.width != 0 && fb.height != 0) {
    if (fb.data == nullptr) return Error("framebuffer: no data");
    if (fb.stride < row_bytes)
      return Error("framebuffer: stride " + std::to_string(fb.stride) + " is shorter than a row (" +
                   std::to_string(row_bytes) + " bytes)");
  }
  if (uint32_t{rect.x} + rect.width > fb.width || uint32_t{rect.y} + rect.height > fb.height)
    return Error("rectangle " + std::to_string(rect.width) + "x" + std::to_string(rect.height) +
                 "+" + std::to_string(rect.x) + "+" + std::to_string(rect.y) + " is outside the " +
                 std::to_string(fb.width) + "x" + std::to_string(fb.height) + " framebuffer");
  return Error();
}

PixelConverter::PixelConverter(SourceFormat source, const PixelFormat& client)
    : source_(source), client_(client) {
  if (source == SourceFormat::kRgb565) {
    red_ = channel_table(31, client.red_max, client.red_shift);
    green_ = channel_table(63, client.green_max, client.green_shift);
    blue_ = channel_table(31, client.blue_max, client.blue_shift);
  } else {
    red_ = channel_table(255, client.red_max, client.red_shift);
    green_ = channel_table(255, client.green_max, client.green_shift);
    blue_ = channel_table(255, client.blue_max, client.blue_shift);
  }
  if (client.bits_per_pixel == 32) {
    // The bits no channel uses (the padding byte of depth 24) are sent as
    // ones. RFC 6143 lets clients ignore them, but noVNC 1.3's Raw decoder
    // takes that byte as the canvas alpha for all but the first chunk of a
    // rectangle: zeros there leave the rest of the picture transparent.
    const uint32_t used = uint32_t{client.red_max} << client.red_shift |
                          uint32_t{client.green_max} << client.green_shift |
                          uint32_t{client.blue_max} << client.blue_shift;
    for (uint32_t& entry : blue_) entry |= ~used;
  }
}

uint32_t PixelConverter::convert_pixel(uint32_t p) const {
  if (source_ == SourceFormat::kRgb565)
    return red_[(p >> 11) & 31] | green_[(p >> 5) & 63] | blue_[p & 31];
  return red_[(p >> 16) & 255] | green_[(p >> 8) & 255] | blue_[p & 255];
}

Error PixelConverter::convert_rect(const SourceFramebuffer& fb, const RfbRect& rect,
                                   std::vector<uint8_t>& out) const {
  if (fb.format != source_) return Error("pixel conversion: framebuffer format mismatch");
  if (Error e = validate_rect(fb, rect); !e.ok()) return e;
  const size_t in_bpp = source_bytes_per_pixel(source_);
  const size_t out_bpp = client_bytes_per_pixel();
  size_t at = out.size();
  out.resize(at + size_t{rect.width} * rect.height * out_bpp);
  uint8_t* dst = out.data() + at;
  for (uint32_t row = 0; row < rect.height; ++row) {
    const uint8_t* src = fb.data + size_t{rect.y + row} * fb.stride + size_t{rect.x} * in_bpp;
    for (uint32_t col = 0; col < rect.width; ++col, src += in_bpp) {
      const uint32_t v = convert_pixel(load_source_pixel(src, source_));
      switch (out_bpp) {
        case 1:
          *dst++ = static_cast<uint8_t>(v);
          break;
        case 2:
          if (client_.big_endian) {
            *dst++ = static_cast<uint8_t>(v >> 8);
            *dst++ = static_cast<uint8_t>(v);
          } else {
            *dst++ = static_cast<uint8_t>(v);
            *dst++ = static_cast<uint8_t>(v >> 8);
          }
          break;
        default:
          if (client_.big_endian) {
            for (int shift = 24; shift >= 0; shift -= 8) *dst++ = static_cast<uint8_t>(v >> shift);
          } else {
            for (int shift = 0; shift < 32; shift += 8) *dst++ = static_cast<uint8_t>(v >> shift);
          }
          break;
      }
    }
  }
  return Error();
}

void append_rect_header(std::vector<uint8_t>& out, const RfbRect& rect, int32_t encoding) {
  put_u16(out, rect.x);
  put_u16(out, rect.y);
  put_u16(out, rect.width);
  put_u16(out, rect.height);
  put_u32(out, static_cast<uint32_t>(encoding));
}

Error encode_raw(const SourceFramebuffer& fb, const RfbRect& rect, const PixelConverter& converter,
                 std::vector<uint8_t>& out) {
  if (Error e = validate_rect(fb, rect); !e.ok()) return e;
  if (fb.format != converter.source())
    return Error("pixel conversion: framebuffer format mismatch");
  append_rect_header(out, rect, rfb_encoding::kRaw);
  return converter.convert_rect(fb, rect, out);
}

void append_desktop_size(std::vector<uint8_t>& out, uint16_t width, uint16_t height) {
  append_rect_header(out, RfbRect{0, 0, width, height}, rfb_encoding::kDesktopSize);
}

struct ZlibEncoder::Stream {
  z_stream z{};
  bool ready = false;
};

ZlibEncoder::ZlibEncoder(int level) : stream_(std::make_unique<Stream>()) {
  level = std::clamp(level, 0, 9);
  stream_->ready = deflateInit(&stream_->z, level) == Z_OK;
}

ZlibEncoder::~ZlibEncoder() {
  if (stream_->ready) deflateEnd(&stream_->z);
}

Error ZlibEncoder::compress(std::span<const uint8_t> data, std::vector<uint8_t>& out) {
  if (!stream_->ready) return Error("zlib: deflateInit failed");
  z_stream& z = stream_->z;
  const size_t start = out.size();
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  do {
    const size_t chunk = std::max<size_t>(deflateBound(&z, z.avail_in) + 64, 4096);
    const size_t at = out.size();
    out.resize(at + chunk);
    z.next_out = out.data() + at;
    z.avail_out = static_cast<uInt>(chunk);
    const int status = deflate(&z, Z_SYNC_FLUSH);
    out.resize(at + chunk - z.avail_out);
    if (status != Z_OK && status != Z_BUF_ERROR) {
      out.resize(start);
      stream_->ready = false;  // the client's inflate stream can no longer follow
      return Error("zlib: deflate failed (" + std::to_string(status) + ")");
    }
  } while (z.avail_in != 0 || z.avail_out == 0);
  return Error();
}

Error ZlibEncoder::encode(const SourceFramebuffer& fb, const RfbRect& rect,
                          const PixelConverter& converter, std::vector<uint8_t>& out) {
  pixels_.clear();
  if (Error e = converter.convert_rect(fb, rect, pixels_); !e.ok()) return e;
  if (pixels_.size() > UINT32_MAX / 2) return Error("zlib: rectangle too large");
  const size_t start = out.size();
  append_rect_header(out, rect, rfb_encoding::kZlib);
  const size_t length_at = out.size();
  put_u32(out, 0);
  if (Error e = compress(pixels_, out); !e.ok()) {
    out.resize(start);
    return e;
  }
  const uint32_t length = static_cast<uint32_t>(out.size() - length_at - 4);
  for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  return Error();
}

FramebufferUpdateBuilder::FramebufferUpdateBuilder() {
  out_ = {0, 0, 0, 0};
}

Error FramebufferUpdateBuilder::reserve_rect() {
  if (count_ == UINT16_MAX) return Error("FramebufferUpdate: more than 65535 rectangles");
  return Error();
}

Error FramebufferUpdateBuilder::add_raw(const SourceFramebuffer& fb, const RfbRect& rect,
                                        const PixelConverter& converter) {
  if (Error e = reserve_rect(); !e.ok()) return e;
  const size_t start = out_.size();
  if (Error e = encode_raw(fb, rect, converter, out_); !e.ok()) {
    out_.resize(start);
    return e;
  }
  ++count_;
  return Error();
}

Error FramebufferUpdateBuilder::add_zlib(const SourceFramebuffer& fb, const RfbRect& rect,
                                         const PixelConverter& converter, ZlibEncoder& encoder) {
  if (Error e = reserve_rect(); !e.ok()) return e;
  if (Error e = encoder.encode(fb, rect, converter, out_); !e.ok()) return e;
  ++count_;
  return Error();
}

Error FramebufferUpdateBuilder::add_desktop_size(uint16_t width, uint16_t height) {
  if (Error e = reserve_rect(); !e.ok()) return e;
  append_desktop_size(out_, width, height);
  ++count_;
  return Error();
}

std::vector<uint8_t> FramebufferUpdateBuilder::finish() {
  out_[2] = static_cast<uint8_t>(count_ >> 8);
  out_[3] = static_cast<uint8_t>(count_);
  std::vector<uint8_t> message = std::exchange(out_, {0, 0, 0, 0});
  count_ = 0;
  return message;
}

}  // namespace cr16::ui
