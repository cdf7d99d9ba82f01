#include "system/elf_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace cr16::system {

namespace {

constexpr uint32_t kElfHeaderSize = 52;
constexpr uint32_t kProgramHeaderSize = 32;
constexpr uint32_t kSectionHeaderSize = 40;
constexpr uint32_t kSymbolSize = 16;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kShtSymtab = 2;
constexpr uint16_t kEtExec = 2;
constexpr uint64_t kGuestSpace = 1ull << 24;
constexpr size_t kMaxSegments = 256;

uint16_t read16(std::span<const uint8_t> data, uint64_t offset) {
  return static_cast<uint16_t>(data[offset] | (data[offset + 1] << 8));
}

uint32_t read32(std::span<const uint8_t> data, uint64_t offset) {
  return static_cast<uint32_t>(data[offset]) | (static_cast<uint32_t>(data[offset + 1]) << 8) |
         (static_cast<uint32_t>(data[offset + 2]) << 16) |
         (static_cast<uint32_t>(data[offset + 3]) << 24);
}

bool range_in(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

// Reads the symbols the semihosting rule needs from the first SHT_SYMTAB.
// Malformed section tables are ignored: symbols are optional information.
void read_symbols(std::span<const uint8_t> data, LoadImage* image) {
  uint32_t section_offset = read32(data, 32);
  uint16_t entry_size = read16(data, 46);
  uint16_t count = read16(data, 48);
  if (section_offset == 0 || count == 0 || entry_size < kSectionHeaderSize) return;
  if (!range_in(section_offset, uint64_t{entry_size} * count, data.size())) return;
  for (uint16_t i = 0; i < count; ++i) {
    uint64_t header = section_offset + uint64_t{entry_size} * i;
    if (read32(data, header + 4) != kShtSymtab) continue;
    uint32_t symbols_offset = read32(data, header + 16);
    uint32_t symbols_size = read32(data, header + 20);
    uint32_t link = read32(data, header + 24);
    if (link >= count || !range_in(symbols_offset, symbols_size, data.size())) return;
    uint64_t strings_header = section_offset + uint64_t{entry_size} * link;
    uint32_t strings_offset = read32(data, strings_header + 16);
    uint32_t strings_size = read32(data, strings_header + 20);
    if (!range_in(strings_offset, strings_size, data.size())) return;
    std::span<const uint8_t> strings = data.subspan(strings_offset, strings_size);
    for (uint64_t symbol = symbols_offset;
         symbol + kSymbolSize <= uint64_t{symbols_offset} + symbols_size; symbol += kSymbolSize) {
      uint32_t name_offset = read32(data, symbol);
      if (name_offset >= strings.size()) continue;
      const char* name = reinterpret_cast<const char*>(strings.data() + name_offset);
      size_t max_length = strings.size() - name_offset;
      size_t length = strnlen(name, max_length);
      if (length == max_length) continue;  // not terminated inside the table
      std::string_view symbol_name(name, length);
      uint32_t value = read32(data, symbol + 4);
      if (symbol_name == "_start") image->start_symbol = value;
      if (symbol_name == "__ISTACK_START") image->istack_start_symbol = value;
    }
    return;
  }
}

}  // namespace

uint64_t LoadImage::total_size() const {
  uint64_t total = 0;
  for (const auto& segment : segments) total += segment.bytes.size() + segment.zero_fill;
  return total;
}

bool looks_like_elf(std::span<const uint8_t> data) {
  return data.size() >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';
}

Expected<LoadImage> parse_elf(std::span<const uint8_t> data, const std::string& name) {
  if (data.size() < kElfHeaderSize) {
    return Error(name + ": truncated ELF file (" + std::to_string(data.size()) +
                 " bytes, the header alone needs 52)");
  }
  if (!looks_like_elf(data)) return Error(name + ": not an ELF file (bad magic)");
  if (data[4] != 1)
    return Error(name + ": not a 32-bit ELF file (class " + std::to_string(data[4]) + ")");
  if (data[5] != 1) return Error(name + ": not a little-endian ELF file");
  uint16_t machine = read16(data, 18);
  if (machine != kElfMachineCr16 && machine != kElfMachineCr16Old) {
    return Error(name + ": not a CR16 ELF file (machine " + std::to_string(machine) +
                 ", expected 177)");
  }
  uint16_t type = read16(data, 16);
  if (type != kEtExec) {
    return Error(name + ": not an executable ELF file (type " + std::to_string(type) + ")");
  }
  LoadImage image;
  image.name = name;
  image.is_elf = true;
  image.entry = read32(data, 24);
  image.elf_flags = read32(data, 36);
  uint32_t program_offset = read32(data, 28);
  uint16_t entry_size = read16(data, 42);
  uint16_t count = read16(data, 44);
  if (count == 0) return Error(name + ": ELF file has no program headers");
  if (entry_size < kProgramHeaderSize) {
    return Error(name + ": bad ELF program header size " + std::to_string(entry_size));
  }
  if (!range_in(program_offset, uint64_t{entry_size} * count, data.size())) {
    return Error(name + ": truncated ELF file (program headers past the end)");
  }
  for (uint16_t i = 0; i < count; ++i) {
    uint64_t header = program_offset + uint64_t{entry_size} * i;
    if (read32(data, header) != kPtLoad) continue;
    uint32_t file_offset = read32(data, header + 4);
    uint32_t virtual_address = read32(data, header + 8);  // run address (VMA)
    uint32_t physical = read32(data, header + 12);        // load address (LMA)
    uint32_t file_size = read32(data, header + 16);
    uint32_t memory_size = read32(data, header + 20);
    if (memory_size == 0) continue;
    // Bytes from the file go to the load address; a segment that is only
    // zero fill (.bss, heap, stacks) has nothing to load and belongs at its
    // run address.
    if (file_size == 0) physical = virtual_address;
    std::string which = "segment " + std::to_string(i);
    if (file_size > memory_size) {
      return Error(name + ": " + which + " has a file size larger than its memory size");
    }
    if (!range_in(file_offset, file_size, data.size())) {
      return Error(name + ": truncated ELF file (" + which + " data past the end)");
    }
    if (uint64_t{physical} + memory_size > kGuestSpace) {
      return Error(name + ": " + which + " at " + hex(physical) + " (size " + hex(memory_size) +
                   ") is outside the 16 MiB address space");
    }
    if (image.segments.size() >= kMaxSegments) return Error(name + ": too many ELF segments");
    LoadSegment segment;
    segment.address = physical;
    segment.bytes.assign(data.begin() + file_offset, data.begin() + file_offset + file_size);
    segment.zero_fill = memory_size - file_size;
    image.segments.push_back(std::move(segment));
  }
  if (image.segments.empty()) return Error(name + ": ELF file has no loadable segments");
  std::sort(image.segments.begin(), image.segments.end(),
            [](const LoadSegment& a, const LoadSegment& b) { return a.address < b.address; });
  for (size_t i = 1; i < image.segments.size(); ++i) {
    const LoadSegment& previous = image.segments[i - 1];
    const LoadSegment& next = image.segments[i];
    if (next.address < previous.end()) {
      return Error(name + ": ELF segments overlap (" + hex(previous.address) + "-" +
                   hex(previous.end() - 1) + " and " + hex(next.address) + "-" +
                   hex(next.end() - 1) + ")");
    }
  }
  if (image.entry >= kGuestSpace) {
    return Error(name + ": entry point " + hex(image.entry) + " is outside the address space");
  }
  uint32_t section_offset = read32(data, 32);
  uint64_t section_bytes = uint64_t{read16(data, 46)} * read16(data, 48);
  if (section_offset != 0 && !range_in(section_offset, section_bytes, data.size())) {
    return Error(name + ": truncated ELF file (section headers past the end)");
  }
  read_symbols(data, &image);
  return image;
}

Expected<LoadImage> parse_raw(std::span<const uint8_t> data, uint32_t base,
                              const std::string& name) {
  if (data.empty()) return Error(name + ": empty image");
  if (uint64_t{base} + data.size() > kGuestSpace) {
    return Error(name + ": image of " + std::to_string(data.size()) + " bytes at " + hex(base) +
                 " does not fit in the address space");
  }
  LoadImage image;
  image.name = name;
  image.entry = base;
  LoadSegment segment;
  segment.address = base;
  segment.bytes.assign(data.begin(), data.end());
  image.segments.push_back(std::move(segment));
  return image;
}

Error check_segments_fit(const LoadImage& image,
                         const std::function<bool(uint32_t, uint32_t)>& is_memory,
                         const std::string& where) {
  for (const auto& segment : image.segments) {
    uint64_t length = segment.end() - segment.address;
    if (length > 0xffffffffu || !is_memory(segment.address, static_cast<uint32_t>(length))) {
      return Error(image.name + ": segment at " + hex(segment.address) + "-" +
                   hex(segment.end() - 1) + " is outside " + where);
    }
  }
  return {};
}

bool uses_simulator_bsp(const LoadImage& image) {
  return image.is_elf && image.start_symbol && *image.start_symbol == image.entry &&
         image.istack_start_symbol.has_value();
}

Expected<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO (or a tty line) must not wait for a peer;
  // anything but a regular file is refused right after.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Error::from_errno(path, errno);
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    int saved = errno;
    ::close(fd);
    return Error::from_errno(path, saved);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Error(path + ": not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    ::close(fd);
    return Error(path + ": image too large (" + std::to_string(info.st_size) + " bytes, at most " +
                 std::to_string(max_bytes) + ")");
  }
  // The file may grow while we read it: read at most the size fstat saw.
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      ::close(fd);
      return Error::from_errno(path, saved);
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

}  // namespace cr16::system
