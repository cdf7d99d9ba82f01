#include "system/elf_loader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace cr16::system {
namespace {

struct TestSegment {
  uint32_t type = 1;  // PT_LOAD
  uint32_t address = 0;
  std::vector<uint8_t> bytes;
  uint32_t memory_size = 0;  // 0: same as bytes.size()
};

struct TestSymbol {
  std::string name;
  uint32_t value;
};

void put16(std::vector<uint8_t>& out, size_t offset, uint16_t value) {
  out[offset] = static_cast<uint8_t>(value);
  out[offset + 1] = static_cast<uint8_t>(value >> 8);
}

void put32(std::vector<uint8_t>& out, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

// Builds an ELF32 little-endian executable: header, program headers, segment
// data, and (with symbols) a symbol table, its string table and section headers.
std::vector<uint8_t> build_elf(const std::vector<TestSegment>& segments, uint32_t entry,
                               uint16_t machine = 177,
                               const std::vector<TestSymbol>& symbols = {}) {
  std::vector<uint8_t> out(52 + 32 * segments.size(), 0);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
  std::memcpy(out.data(), ident, sizeof ident);
  put16(out, 16, 2);  // ET_EXEC
  put16(out, 18, machine);
  put32(out, 20, 1);
  put32(out, 24, entry);
  put32(out, 28, 52);
  put32(out, 36, 0xb1);
  put16(out, 40, 52);
  put16(out, 42, 32);
  put16(out, 44, static_cast<uint16_t>(segments.size()));
  for (size_t i = 0; i < segments.size(); ++i) {
    const TestSegment& segment = segments[i];
    size_t header = 52 + 32 * i;
    uint32_t data_offset = static_cast<uint32_t>(out.size());
    out.insert(out.end(), segment.bytes.begin(), segment.bytes.end());
    put32(out, header, segment.type);
    put32(out, header + 4, data_offset);
    put32(out, header + 8, segment.address);
    put32(out, header + 12, segment.address);
    put32(out, header + 16, static_cast<uint32_t>(segment.bytes.size()));
    put32(out, header + 20,
          segment.memory_size ? segment.memory_size : static_cast<uint32_t>(segment.bytes.size()));
  }
  if (!symbols.empty()) {
    std::vector<uint8_t> strings(1, 0);
    std::vector<uint8_t> table(16, 0);  // symbol 0 is the null symbol
    for (const auto& symbol : symbols) {
      size_t entry_offset = table.size();
      table.resize(table.size() + 16, 0);
      put32(table, entry_offset, static_cast<uint32_t>(strings.size()));
      put32(table, entry_offset + 4, symbol.value);
      strings.insert(strings.end(), symbol.name.begin(), symbol.name.end());
      strings.push_back(0);
    }
    uint32_t table_offset = static_cast<uint32_t>(out.size());
    out.insert(out.end(), table.begin(), table.end());
    uint32_t strings_offset = static_cast<uint32_t>(out.size());
    out.insert(out.end(), strings.begin(), strings.end());
    uint32_t sections_offset = static_cast<uint32_t>(out.size());
    out.resize(out.size() + 3 * 40, 0);  // null, .symtab, .strtab
    size_t symtab = sections_offset + 40;
    put32(out, symtab + 4, 2);  // SHT_SYMTAB
    put32(out, symtab + 16, table_offset);
    put32(out, symtab + 20, static_cast<uint32_t>(table.size()));
    put32(out, symtab + 24, 2);  // link: .strtab
    size_t strtab = sections_offset + 80;
    put32(out, strtab + 4, 3);  // SHT_STRTAB
    put32(out, strtab + 16, strings_offset);
    put32(out, strtab + 20, static_cast<uint32_t>(strings.size()));
    put32(out, 32, sections_offset);
    put16(out, 46, 40);
    put16(out, 48, 3);
  }
  return out;
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  Expected<LoadImage> image = parse_elf(bytes, "prog.elf");
  EXPECT_FALSE(image.has_value());
  return image ? std::string() : image.error().message();
}

TEST(ElfLoader, ParsesSegmentsEntryAndBss) {
  std::vector<uint8_t> elf =
      build_elf({{1, 0x18, {1, 2, 3, 4}, 0}, {1, 0x2, {9, 9}, 0}, {1, 0x100, {7}, 0x40}}, 0x18);
  Expected<LoadImage> image = parse_elf(elf, "prog.elf");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_TRUE(image->is_elf);
  EXPECT_EQ(image->entry, 0x18u);
  EXPECT_EQ(image->elf_flags, 0xb1u);
  ASSERT_EQ(image->segments.size(), 3u);
  EXPECT_EQ(image->segments[0].address, 0x2u);  // sorted by address
  EXPECT_EQ(image->segments[1].address, 0x18u);
  EXPECT_EQ(image->segments[1].bytes, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(image->segments[2].zero_fill, 0x3fu);
  EXPECT_EQ(image->total_size(), 2u + 4u + 0x40u);
  EXPECT_FALSE(image->start_symbol.has_value());
  EXPECT_FALSE(uses_simulator_bsp(*image));
}

TEST(ElfLoader, SkipsNonLoadAndEmptySegments) {
  std::vector<uint8_t> elf =
      build_elf({{4, 0x0, {1, 2}, 0}, {1, 0x50, {}, 0}, {1, 0x10, {5}, 0}}, 0x10);
  Expected<LoadImage> image = parse_elf(elf, "prog.elf");
  ASSERT_TRUE(image);
  ASSERT_EQ(image->segments.size(), 1u);
  EXPECT_EQ(image->segments[0].address, 0x10u);
}

TEST(ElfLoader, ZeroFillOnlySegmentsGoToTheirRunAddress) {
  // Like cr16-elf-ld's default script: .data loads after .text but runs at
  // 0x4000; the stack (no file bytes) has a meaningless load address.
  std::vector<uint8_t> elf =
      build_elf({{1, 0x18, {1, 2}, 0}, {1, 0x1a, {3}, 0}, {1, 0x1a, {}, 0x100}}, 0x18);
  put32(elf, 52 + 32 * 1 + 8, 0x4000);  // .data VMA (LMA stays 0x1a)
  put32(elf, 52 + 32 * 2 + 8, 0x5000);  // stack VMA
  Expected<LoadImage> image = parse_elf(elf, "default-script.elf");
  ASSERT_TRUE(image) << image.error().message();
  ASSERT_EQ(image->segments.size(), 3u);
  EXPECT_EQ(image->segments[1].address, 0x1au);    // file bytes at the load address
  EXPECT_EQ(image->segments[2].address, 0x5000u);  // zero fill at the run address
  EXPECT_EQ(image->segments[2].zero_fill, 0x100u);
}

TEST(ElfLoader, AcceptsTheOldMachineNumber) {
  EXPECT_TRUE(parse_elf(build_elf({{1, 0, {1}, 0}}, 0, 115), "old.elf"));
}

TEST(ElfLoader, RejectsTruncatedHeader) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  elf.resize(40);
  EXPECT_EQ(error_of(elf), "prog.elf: truncated ELF file (40 bytes, the header alone needs 52)");
  EXPECT_NE(error_of({}).find("truncated"), std::string::npos);
}

TEST(ElfLoader, RejectsBadMagic) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  elf[1] = 'X';
  EXPECT_EQ(error_of(elf), "prog.elf: not an ELF file (bad magic)");
  EXPECT_FALSE(looks_like_elf(elf));
}

TEST(ElfLoader, RejectsWrongClassAndByteOrder) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  elf[4] = 2;
  EXPECT_EQ(error_of(elf), "prog.elf: not a 32-bit ELF file (class 2)");
  elf[4] = 1;
  elf[5] = 2;
  EXPECT_EQ(error_of(elf), "prog.elf: not a little-endian ELF file");
}

TEST(ElfLoader, RejectsWrongMachineAndType) {
  EXPECT_EQ(error_of(build_elf({{1, 0, {1}, 0}}, 0, 40)),
            "prog.elf: not a CR16 ELF file (machine 40, expected 177)");
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  put16(elf, 16, 1);  // ET_REL
  EXPECT_EQ(error_of(elf), "prog.elf: not an executable ELF file (type 1)");
}

TEST(ElfLoader, RejectsProgramHeadersPastTheEnd) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  put16(elf, 44, 500);
  EXPECT_EQ(error_of(elf), "prog.elf: truncated ELF file (program headers past the end)");
  put16(elf, 44, 1);
  put32(elf, 28, 0xfffffff0u);
  EXPECT_EQ(error_of(elf), "prog.elf: truncated ELF file (program headers past the end)");
}

TEST(ElfLoader, RejectsBadProgramHeaderTable) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1}, 0}}, 0);
  put16(elf, 42, 16);
  EXPECT_NE(error_of(elf).find("program header size"), std::string::npos);
  put16(elf, 42, 32);
  put16(elf, 44, 0);
  EXPECT_EQ(error_of(elf), "prog.elf: ELF file has no program headers");
  EXPECT_EQ(error_of(build_elf({{4, 0, {1}, 0}}, 0)),
            "prog.elf: ELF file has no loadable segments");
}

TEST(ElfLoader, RejectsSegmentDataPastTheEnd) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1, 2, 3, 4}, 0}}, 0);
  elf.resize(elf.size() - 2);
  EXPECT_EQ(error_of(elf), "prog.elf: truncated ELF file (segment 0 data past the end)");
}

TEST(ElfLoader, RejectsFileSizeLargerThanMemorySize) {
  std::vector<uint8_t> elf = build_elf({{1, 0, {1, 2, 3, 4}, 0}}, 0);
  put32(elf, 52 + 20, 2);
  EXPECT_EQ(error_of(elf), "prog.elf: segment 0 has a file size larger than its memory size");
}

TEST(ElfLoader, RejectsSegmentsOutsideTheAddressSpace) {
  EXPECT_EQ(error_of(build_elf({{1, 0xfffffe, {1, 2, 3, 4}, 0}}, 0)),
            "prog.elf: segment 0 at 0xfffffe (size 0x4) is outside the 16 MiB address space");
  EXPECT_NE(error_of(build_elf({{1, 0x100, {1}, 0xffffffffu}}, 0x100)).find("outside"),
            std::string::npos);
}

TEST(ElfLoader, RejectsOverlappingSegments) {
  EXPECT_EQ(error_of(build_elf({{1, 0x100, {1, 2, 3, 4}, 0}, {1, 0x102, {5, 6}, 0}}, 0x100)),
            "prog.elf: ELF segments overlap (0x100-0x103 and 0x102-0x103)");
  // The zero-filled part counts too.
  EXPECT_NE(
      error_of(build_elf({{1, 0x100, {1}, 0x10}, {1, 0x108, {5, 6}, 0}}, 0x100)).find("overlap"),
      std::string::npos);
  // Adjacent is fine.
  EXPECT_TRUE(parse_elf(build_elf({{1, 0x100, {1, 2}, 0}, {1, 0x102, {3}, 0}}, 0x100), "ok"));
}

TEST(ElfLoader, RejectsEntryOutsideTheAddressSpace) {
  EXPECT_NE(error_of(build_elf({{1, 0, {1}, 0}}, 0x1000000)).find("entry point"),
            std::string::npos);
}

TEST(ElfLoader, ReadsSymbolsForTheSimulatorBspRule) {
  std::vector<uint8_t> elf =
      build_elf({{1, 0x2, {1, 2, 3}, 0}}, 0x18, 177,
                {{"_main", 0x40}, {"_start", 0x18}, {"__ISTACK_START", 0xb5c0}});
  Expected<LoadImage> image = parse_elf(elf, "bsp.elf");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->start_symbol, 0x18u);
  EXPECT_EQ(image->istack_start_symbol, 0xb5c0u);
  EXPECT_TRUE(uses_simulator_bsp(*image));

  // _start not at the entry point: not the simulator BSP.
  elf = build_elf({{1, 0x2, {1}, 0}}, 0x2, 177, {{"_start", 0x18}, {"__ISTACK_START", 0xb5c0}});
  EXPECT_FALSE(uses_simulator_bsp(*parse_elf(elf, "x")));
  // No __ISTACK_START: not the simulator BSP.
  elf = build_elf({{1, 0x2, {1}, 0}}, 0x18, 177, {{"_start", 0x18}});
  EXPECT_FALSE(uses_simulator_bsp(*parse_elf(elf, "x")));
}

TEST(ElfLoader, IgnoresCorruptSymbolTables) {
  std::vector<uint8_t> elf = build_elf({{1, 0x2, {1}, 0}}, 0x18, 177, {{"_start", 0x18}});
  std::vector<uint8_t> corrupt = elf;
  put32(corrupt, 32, 0xfffffff0u);  // section headers past the end: a truncated file
  EXPECT_EQ(parse_elf(corrupt, "x").error().message(),
            "x: truncated ELF file (section headers past the end)");
  corrupt = elf;
  // String table offset past the end.
  uint32_t sections = elf[32] | (elf[33] << 8) | (elf[34] << 16) | (elf[35] << 24);
  put32(corrupt, sections + 80 + 16, 0x7fffffff);
  Expected<LoadImage> image = parse_elf(corrupt, "x");
  ASSERT_TRUE(image);
  EXPECT_FALSE(image->start_symbol.has_value());
}

TEST(RawLoader, WrapsBytesAtBase) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  Expected<LoadImage> image = parse_raw(bytes, 0xe00000, "fw.bin");
  ASSERT_TRUE(image);
  EXPECT_FALSE(image->is_elf);
  EXPECT_EQ(image->entry, 0xe00000u);
  ASSERT_EQ(image->segments.size(), 1u);
  EXPECT_EQ(image->segments[0].bytes, bytes);
  EXPECT_EQ(parse_raw({}, 0, "empty.bin").error().message(), "empty.bin: empty image");
  EXPECT_NE(parse_raw(bytes, 0xfffffe, "x").error().message().find("does not fit"),
            std::string::npos);
}

TEST(Loader, CheckSegmentsFitNamesTheImage) {
  Expected<LoadImage> image = parse_elf(build_elf({{1, 0x1000, {1, 2}, 0x100}}, 0x1000), "p.elf");
  ASSERT_TRUE(image);
  auto ram_4k = [](uint32_t address, uint32_t length) {
    return uint64_t{address} + length <= 0x1000;
  };
  auto ram_8k = [](uint32_t address, uint32_t length) {
    return uint64_t{address} + length <= 0x2000;
  };
  EXPECT_EQ(check_segments_fit(*image, ram_4k).message(),
            "p.elf: segment at 0x1000-0x10ff is outside the machine's memory");
  EXPECT_TRUE(check_segments_fit(*image, ram_8k).ok());
}

TEST(Loader, ReadFileErrors) {
  Expected<std::vector<uint8_t>> missing = read_file("/nonexistent/file.elf", 100);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent/file.elf"), std::string::npos);
  Expected<std::vector<uint8_t>> directory = read_file("/", 100);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().message(), "/: not a regular file");
  Expected<std::vector<uint8_t>> too_big = read_file("/proc/self/exe", 16);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().message().find("image too large"), std::string::npos);
}

}  // namespace
}  // namespace cr16::system
