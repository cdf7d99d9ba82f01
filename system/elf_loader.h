// Guest image loaders: a pure ELF32 parser for CR16 executables and raw
// binary images. Parsing never touches the machine; the machine copies the
// resulting segments into its address space after checking where they go.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/error.h"

namespace cr16::system {

/// ELF machine numbers accepted for CR16 (the current one and the old one).
inline constexpr uint16_t kElfMachineCr16 = 177;
inline constexpr uint16_t kElfMachineCr16Old = 115;

/// One contiguous piece of guest memory to fill: `bytes` at `address`,
/// followed by `zero_fill` bytes of zeros (an ELF segment's .bss part).
struct LoadSegment {
  uint32_t address = 0;
  std::vector<uint8_t> bytes;
  uint32_t zero_fill = 0;
  /// One past the last guest address the segment covers.
  uint64_t end() const { return uint64_t{address} + bytes.size() + zero_fill; }
};

/// A parsed image: what to put where, and where to start.
struct LoadImage {
  std::string name;  // the file name, for messages
  bool is_elf = false;
  uint32_t entry = 0;
  uint32_t elf_flags = 0;
  std::vector<LoadSegment> segments;  // sorted by address, never overlapping
  /// Addresses of the symbols the semihosting rule looks at, when present.
  std::optional<uint32_t> start_symbol;         // "_start"
  std::optional<uint32_t> istack_start_symbol;  // "__ISTACK_START" (newlib sim.ld)
  /// Total bytes covered by the segments, including zero fill.
  uint64_t total_size() const;
};

/// True when the bytes begin with the ELF magic.
bool looks_like_elf(std::span<const uint8_t> data);

/// Parses an ELF32 little-endian CR16 executable. PT_LOAD segments with file
/// bytes are placed at their physical (load) address, zero-fill-only
/// segments at their virtual (run) address. Rejects truncated files,
/// a bad magic, the wrong class/byte order/machine, segments whose file
/// bytes lie outside the file, segments past the 24-bit address space and
/// overlapping segments; every message starts with `name`.
Expected<LoadImage> parse_elf(std::span<const uint8_t> data, const std::string& name);

/// Wraps a raw binary image as one segment at `base`, entry = `base`.
Expected<LoadImage> parse_raw(std::span<const uint8_t> data, uint32_t base,
                              const std::string& name);

/// Checks that every segment lies inside memory: `is_memory(address, length)`
/// answers for one range (e.g. the board's RAM/flash). Returns an Error naming
/// the image, the first segment that does not fit and `where` it had to be
/// ("the machine's memory", "the flash at 0xe00000-0xefffff").
Error check_segments_fit(const LoadImage& image,
                         const std::function<bool(uint32_t, uint32_t)>& is_memory,
                         const std::string& where = "the machine's memory");

/// True when the image looks like a program linked with the cr16-elf-gcc
/// simulator BSP (newlib libgloss/cr16 + sim.ld): an ELF whose entry is the
/// `_start` symbol and which defines `__ISTACK_START`. Such programs talk to
/// the host through semihosting, so its console part (fds 0/1/2, time,
/// exit) is on by default for them. Anyone can forge these symbols: the
/// rule never grants host file access.
bool uses_simulator_bsp(const LoadImage& image);

/// Reads a whole regular file (at most `max_bytes`; larger files are an
/// error naming the file and the limit). FIFOs, devices and directories are
/// refused without waiting on them.
Expected<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace cr16::system
