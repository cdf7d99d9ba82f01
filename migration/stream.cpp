#include "migration/stream.h"

#include <cstring>

namespace cr16::migration {

// ---- StreamWriter

bool StreamWriter::reserve(size_t count) {
  if (!ok()) return false;
  if (count > limit_ || bytes_.size() > limit_ - count) {
    fail(Error("state stream larger than its limit of " + std::to_string(limit_) + " bytes"));
    return false;
  }
  return true;
}

void StreamWriter::put_u8(uint8_t value) {
  if (reserve(1)) bytes_.push_back(value);
}

void StreamWriter::put_u16(uint16_t value) {
  const uint8_t bytes[2] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
  put_bytes(bytes);
}

void StreamWriter::put_u32(uint32_t value) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  put_bytes(bytes);
}

void StreamWriter::put_u64(uint64_t value) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  put_bytes(bytes);
}

void StreamWriter::put_bytes(std::span<const uint8_t> bytes) {
  if (bytes.empty() || !reserve(bytes.size())) return;
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void StreamWriter::put_short_string(const std::string& text, size_t max_length) {
  if (!ok()) return;
  if (text.size() > max_length || text.size() > 255) {
    fail(Error("name '" + text + "' is longer than " + std::to_string(max_length) + " bytes"));
    return;
  }
  put_u8(static_cast<uint8_t>(text.size()));
  put_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void StreamWriter::patch_u32(size_t position, uint32_t value) {
  if (!ok()) return;
  if (position > bytes_.size() || bytes_.size() - position < 4) {
    fail(Error("internal: length patch outside the written stream"));
    return;
  }
  for (int i = 0; i < 4; ++i) bytes_[position + i] = static_cast<uint8_t>(value >> (8 * i));
}

void StreamWriter::fail(Error error) {
  if (ok()) error_ = std::move(error);
}

// ---- StreamReader

bool StreamReader::take(size_t count) {
  if (!ok()) return false;
  if (count > data_.size() - position_) {
    fail("truncated: " + std::to_string(count) + " bytes needed at offset " +
         std::to_string(position_) + ", " + std::to_string(data_.size() - position_) + " left");
    return false;
  }
  return true;
}

uint8_t StreamReader::get_u8() {
  if (!take(1)) return 0;
  return data_[position_++];
}

uint16_t StreamReader::get_u16() {
  if (!take(2)) return 0;
  uint16_t value = static_cast<uint16_t>(data_[position_] | (data_[position_ + 1] << 8));
  position_ += 2;
  return value;
}

uint32_t StreamReader::get_u32() {
  if (!take(4)) return 0;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{data_[position_ + i]} << (8 * i);
  position_ += 4;
  return value;
}

uint64_t StreamReader::get_u64() {
  if (!take(8)) return 0;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{data_[position_ + i]} << (8 * i);
  position_ += 8;
  return value;
}

void StreamReader::get_bytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (!take(out.size())) {
    std::memset(out.data(), 0, out.size());
    return;
  }
  std::memcpy(out.data(), data_.data() + position_, out.size());
  position_ += out.size();
}

std::span<const uint8_t> StreamReader::get_span(size_t count) {
  if (!take(count)) return {};
  std::span<const uint8_t> view = data_.subspan(position_, count);
  position_ += count;
  return view;
}

std::string StreamReader::get_short_string(const char* what, size_t max_length) {
  const size_t length = get_u8();
  if (!ok()) return {};
  if (length > max_length) {
    fail(std::string(what) + " of " + std::to_string(length) + " bytes at offset " +
         std::to_string(position_ - 1) + " (at most " + std::to_string(max_length) + ")");
    return {};
  }
  std::span<const uint8_t> bytes = get_span(length);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

StreamReader StreamReader::sub_reader(size_t count) {
  if (!take(count)) {
    StreamReader failed({});
    failed.fail(error_);
    return failed;
  }
  StreamReader sub(data_.subspan(position_, count));
  position_ += count;
  return sub;
}

void StreamReader::fail(Error error) {
  if (ok()) error_ = std::move(error);
}

}  // namespace cr16::migration
