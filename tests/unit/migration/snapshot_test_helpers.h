// Helpers for the snapshot store tests: a temporary directory, images of
// pseudo-random memory, file surgery (flip a byte, cut a file short).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "migration/snapshot_store.h"

namespace cr16::migration::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/cr16-snapshot-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Deterministic bytes (xorshift) so tests can make pages differ on purpose.
inline void fill_random(uint8_t* out, size_t length, uint32_t seed) {
  uint32_t state = seed == 0 ? 1 : seed;
  for (size_t i = 0; i < length; ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    out[i] = static_cast<uint8_t>(state);
  }
}

/// An image with a RAM block of `ram_pages` random pages (`zero_pages` of
/// them, at the end, zero) and a 16-page flash block of 0xFF. Its pages
/// live in one arena (RAM, then flash).
inline SnapshotImage make_image(const std::string& name, uint32_t ram_pages, uint32_t seed,
                                uint32_t zero_pages = 0) {
  SnapshotImage image;
  image.name = name;
  image.date_seconds = 1'700'000'000;
  image.vm_clock_ns = 123'456'789;
  image.machine = "virt";
  image.state = {0x00};  // an empty state stream (just the end record)
  const uint32_t flash_pages = 16;
  image.storage =
      std::make_shared<ArenaBytes>(size_t{ram_pages + flash_pages} * kSnapshotPageSize, uint8_t{0});
  uint8_t* bytes = image.storage->data();
  fill_random(bytes, size_t{ram_pages - zero_pages} * kSnapshotPageSize, seed);
  std::fill_n(bytes + size_t{ram_pages} * kSnapshotPageSize, flash_pages * kSnapshotPageSize, 0xFF);
  SnapshotBlock ram;
  ram.name = "ram";
  ram.size = ram_pages * kSnapshotPageSize;
  for (uint32_t p = 0; p < ram_pages; ++p)
    ram.pages.push_back(bytes + size_t{p} * kSnapshotPageSize);
  SnapshotBlock flash;
  flash.name = "flash";
  flash.base = 0xE00000;
  flash.size = flash_pages * kSnapshotPageSize;
  flash.read_only = true;
  for (uint32_t p = 0; p < flash_pages; ++p) {
    flash.pages.push_back(bytes + size_t{ram_pages + p} * kSnapshotPageSize);
  }
  image.blocks = {std::move(ram), std::move(flash)};
  return image;
}

/// A deep copy (its own arena), for images that go on to differ.
inline SnapshotImage copy_image(const SnapshotImage& image) {
  SnapshotImage copy = image;
  copy.storage = std::make_shared<ArenaBytes>(*image.storage);
  for (SnapshotBlock& block : copy.blocks) {
    for (const uint8_t*& page : block.pages) {
      if (page != nullptr) page = copy.storage->data() + (page - image.storage->data());
    }
  }
  return copy;
}

/// The bytes of block `block` (zero pages as zeros).
inline std::vector<uint8_t> block_bytes(const SnapshotImage& image, size_t block) {
  std::vector<uint8_t> bytes;
  for (const uint8_t* page : image.blocks[block].pages) {
    if (page == nullptr) {
      bytes.insert(bytes.end(), kSnapshotPageSize, 0);
    } else {
      bytes.insert(bytes.end(), page, page + kSnapshotPageSize);
    }
  }
  return bytes;
}

/// Changes one byte of page `page` of block 0 (and forgets its digest, as
/// the dirty log makes the machine do).
inline void touch_page(SnapshotImage& image, uint32_t page, uint8_t value) {
  const_cast<uint8_t*>(image.blocks[0].pages[page])[7] ^= value;
  if (page < image.blocks[0].digests.state.size()) {
    image.blocks[0].digests.state[page] = PageDigests::kUnknown;
  }
}

inline std::vector<std::string> files_in(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ignored)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte ^= 0x20;
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

inline void truncate_file(const std::string& path, uint64_t length) {
  std::filesystem::resize_file(path, length);
}

inline uint64_t file_size(const std::string& path) {
  return std::filesystem::file_size(path);
}

}  // namespace cr16::migration::test
