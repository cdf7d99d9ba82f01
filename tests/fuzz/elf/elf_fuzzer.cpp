// libFuzzer target for the ELF loader: any byte string must parse into a
// consistent image or a clear error, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "system/elf_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  cr16::Expected<cr16::system::LoadImage> image = cr16::system::parse_elf(bytes, "fuzz.elf");
  if (!image) {
    if (image.error().message().empty()) std::abort();
    return 0;
  }
  // Invariants of a successful parse: sorted, non-overlapping, inside 24 bits.
  uint64_t previous_end = 0;
  for (const auto& segment : image->segments) {
    if (segment.address < previous_end || segment.end() > (1u << 24)) std::abort();
    previous_end = segment.end();
  }
  (void)cr16::system::uses_simulator_bsp(*image);
  (void)cr16::system::check_segments_fit(*image, [](uint32_t address, uint32_t length) {
    return uint64_t{address} + length <= 0x200000;
  });
  // A segment outside the region is reported with the region's name.
  cr16::Error outside = cr16::system::check_segments_fit(
      *image,
      [](uint32_t address, uint32_t length) {
        return address >= 0xE00000 && uint64_t{address} + length <= 0xF00000;
      },
      "the flash");
  if (!outside.ok() && !outside.message().ends_with("is outside the flash")) std::abort();
  return 0;
}
