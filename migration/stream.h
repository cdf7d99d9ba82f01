// Byte streams for saved state: a writer that appends little-endian values
// to memory and a reader that takes them apart again. Both keep the first
// error they meet; every later operation is a no-op (reads return 0), so a
// decoder can read a whole record and check ok() once at the end. Every
// length the reader accepts is bounded by what is actually left, so a
// hostile stream can never make it read past its end or allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/error.h"

namespace cr16::migration {

/// Appends little-endian values to a growing byte vector, up to `limit`
/// bytes (a write that would pass it fails the stream). Machine thread only.
class StreamWriter {
 public:
  /// The default bound: far above any machine's device state.
  static constexpr size_t kDefaultLimit = size_t{1} << 30;

  explicit StreamWriter(size_t limit = kDefaultLimit) : limit_(limit) {}

  void put_u8(uint8_t value);
  void put_u16(uint16_t value);
  void put_u32(uint32_t value);
  void put_u64(uint64_t value);
  /// The bytes as they are.
  void put_bytes(std::span<const uint8_t> bytes);
  /// A short string: one length byte (at most `max_length`, at most 255)
  /// then the characters. A longer string fails the stream.
  void put_short_string(const std::string& text, size_t max_length = 255);
  /// Overwrites the u32 written at byte `position` (a length filled in after
  /// the body it measures). A position outside what was written fails.
  void patch_u32(size_t position, uint32_t value);

  /// Records `error` unless an earlier one is kept; later writes do nothing.
  void fail(Error error);
  bool ok() const { return error_.ok(); }
  /// The first error (ok() when none).
  const Error& error() const { return error_; }

  /// Bytes written so far.
  size_t size() const { return bytes_.size(); }
  std::span<const uint8_t> bytes() const { return bytes_; }
  /// Moves the bytes out (the writer is empty afterwards).
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  bool reserve(size_t count);

  size_t limit_;
  std::vector<uint8_t> bytes_;
  Error error_;
};

/// Reads little-endian values from a borrowed byte span. A read past the
/// end fails the stream with a message naming the offset; after a failure
/// every read returns 0 (spans: empty) and nothing advances.
class StreamReader {
 public:
  explicit StreamReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t get_u8();
  uint16_t get_u16();
  uint32_t get_u32();
  uint64_t get_u64();
  /// Fills `out` completely (or fails and zero-fills it).
  void get_bytes(std::span<uint8_t> out);
  /// A view of the next `count` bytes (empty after a failure).
  std::span<const uint8_t> get_span(size_t count);
  /// A short string written by put_short_string: one length byte, then the
  /// characters; a length above `max_length` fails with `what` named.
  std::string get_short_string(const char* what, size_t max_length = 255);
  /// A reader over the next `count` bytes; this reader moves past them. The
  /// sub-reader reports its own errors; a short parent fails both.
  StreamReader sub_reader(size_t count);

  /// Records a failure unless an earlier one is kept.
  void fail(Error error);
  void fail(const std::string& message) { fail(Error(message)); }
  bool ok() const { return error_.ok(); }
  const Error& error() const { return error_; }

  /// Bytes not read yet (0 after a failure).
  size_t remaining() const { return ok() ? data_.size() - position_ : 0; }
  /// Bytes read so far: offsets in messages.
  size_t position() const { return position_; }
  bool at_end() const { return remaining() == 0; }

 private:
  /// True when `count` more bytes exist; otherwise fails the stream.
  bool take(size_t count);

  std::span<const uint8_t> data_;
  size_t position_ = 0;
  Error error_;
};

}  // namespace cr16::migration
