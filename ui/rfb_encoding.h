// Framebuffer pixels for RFB clients, with no I/O: converting a rectangle of
// the guest's framebuffer (RGB565 or XRGB8888) into the client's negotiated
// true-colour pixel format, the Raw and Zlib encodings (one persistent
// deflate stream per client, as RFC 6143 requires), the DesktopSize
// pseudo-encoding and the FramebufferUpdate message around the rectangles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ui/rfb_protocol.h"
#include "util/error.h"

namespace cr16::ui {

/// How the source framebuffer stores a pixel. Both are little-endian in
/// memory, as the (little-endian) guest writes them.
enum class SourceFormat {
  kRgb565,    // 16 bits: red 15..11, green 10..5, blue 4..0
  kXrgb8888,  // 32 bits: red 23..16, green 15..8, blue 7..0, top byte ignored
};

/// Bytes per pixel of a source format.
size_t source_bytes_per_pixel(SourceFormat format);

/// A read-only view of a framebuffer; the caller owns the memory, which must
/// hold STRIDE bytes per row for HEIGHT rows (the last row may be exactly
/// width * bytes-per-pixel).
struct SourceFramebuffer {
  const uint8_t* data = nullptr;
  SourceFormat format = SourceFormat::kXrgb8888;
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t stride = 0;  // bytes from one row to the next
};

/// A rectangle in framebuffer coordinates.
struct RfbRect {
  uint16_t x = 0, y = 0, width = 0, height = 0;
};

/// Checks that FRAMEBUFFER is consistent (data present unless empty, stride
/// covering a row) and RECT lies wholly inside it.
Error validate_rect(const SourceFramebuffer& framebuffer, const RfbRect& rect);

/// Converts source pixels to one true-colour client format. In 32-bit
/// client pixels the bits no channel covers are ones. Each channel is
/// scaled from the source's width to the client's max with rounding:
/// out = (in * max + in_max / 2) / in_max. Precomputed tables; cheap to keep
/// one per client and rebuild on SetPixelFormat.
class PixelConverter {
 public:
  /// CLIENT must pass validate_pixel_format() (the session guarantees it).
  PixelConverter(SourceFormat source, const PixelFormat& client);

  /// The client pixel value for one source pixel (RGB565 in the low 16 bits,
  /// or XRGB8888).
  uint32_t convert_pixel(uint32_t source_pixel) const;

  /// Bytes per client pixel (1, 2 or 4).
  size_t client_bytes_per_pixel() const { return client_.bits_per_pixel / 8; }

  /// Appends RECT of FRAMEBUFFER (whose format must be the converter's
  /// source) as client pixels, row by row, in the client's byte order:
  /// width * height * client_bytes_per_pixel() bytes.
  Error convert_rect(const SourceFramebuffer& framebuffer, const RfbRect& rect,
                     std::vector<uint8_t>& out) const;

  SourceFormat source() const { return source_; }
  const PixelFormat& client_format() const { return client_; }

 private:
  SourceFormat source_;
  PixelFormat client_;
  std::vector<uint32_t> red_, green_, blue_;  // source channel value -> shifted client bits
};

/// Appends a rectangle header (x, y, width, height, encoding type).
void append_rect_header(std::vector<uint8_t>& out, const RfbRect& rect, int32_t encoding);

/// Appends RECT in the Raw encoding: header then the converted pixels.
Error encode_raw(const SourceFramebuffer& framebuffer, const RfbRect& rect,
                 const PixelConverter& converter, std::vector<uint8_t>& out);

/// Appends the DesktopSize pseudo-rectangle announcing a new size.
void append_desktop_size(std::vector<uint8_t>& out, uint16_t width, uint16_t height);

/// The Zlib encoding for one client: one deflate stream for the whole
/// connection (the client keeps one inflate stream), flushed with
/// Z_SYNC_FLUSH after each rectangle. Not copyable; one thread.
class ZlibEncoder {
 public:
  /// LEVEL is zlib's 0..9 (clamped).
  explicit ZlibEncoder(int level = 6);
  ~ZlibEncoder();
  ZlibEncoder(const ZlibEncoder&) = delete;
  ZlibEncoder& operator=(const ZlibEncoder&) = delete;

  /// Appends RECT in the Zlib encoding: header, the u32 length of the
  /// compressed data, then the compressed Raw pixels.
  Error encode(const SourceFramebuffer& framebuffer, const RfbRect& rect,
               const PixelConverter& converter, std::vector<uint8_t>& out);

  /// Compresses DATA with the connection's stream and appends it (sync-flushed).
  Error compress(std::span<const uint8_t> data, std::vector<uint8_t>& out);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  std::vector<uint8_t> pixels_;  // reused scratch buffer
};

/// Builds one FramebufferUpdate message: the 4-byte header, then rectangles
/// added in order; finish() fills in the count.
class FramebufferUpdateBuilder {
 public:
  FramebufferUpdateBuilder();

  /// Adds a Raw rectangle.
  Error add_raw(const SourceFramebuffer& framebuffer, const RfbRect& rect,
                const PixelConverter& converter);
  /// Adds a Zlib rectangle compressed with the client's ENCODER.
  Error add_zlib(const SourceFramebuffer& framebuffer, const RfbRect& rect,
                 const PixelConverter& converter, ZlibEncoder& encoder);
  /// Adds a DesktopSize pseudo-rectangle.
  Error add_desktop_size(uint16_t width, uint16_t height);

  uint16_t rect_count() const { return count_; }

  /// The message bytes; the builder is empty (ready for a new message) afterwards.
  std::vector<uint8_t> finish();

 private:
  Error reserve_rect();
  std::vector<uint8_t> out_;
  uint16_t count_ = 0;
};

}  // namespace cr16::ui
