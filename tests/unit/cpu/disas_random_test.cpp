// Our disassembly equals cr16-elf-objdump's on random encodings of every
// reachable table entry plus random words. The reference output is committed
// (data/random/objdump.txt); when the toolchain is installed, the same stream
// is also checked live, and CR16_REGENERATE_DISAS_DATA=1 rewrites the file.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cpu/disas.h"
#include "cpu/isa_random.h"

namespace cr16 {
namespace {

constexpr uint32_t kStreamAddress = 0xFE0000;  // high, so 24-bit wrap-around shows
constexpr int kSamplesPerEntry = 24;
constexpr int kRandomWordSamples = 4000;

struct Line {
  uint32_t address;
  std::string text;
};

void append_words(std::vector<uint8_t>& bytes, const uint16_t* words, unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    bytes.push_back(static_cast<uint8_t>(words[i]));
    bytes.push_back(static_cast<uint8_t>(words[i] >> 8));
  }
}

/// objdump prints loadm/loadmp/storm/stormp with an operand left over from
/// the previous instruction; precede them with "movw r1,r0" so it is r0.
bool needs_r0_prefix(const isa::Decoded& d) {
  if (!d.valid()) return false;
  const auto m = d.mnemonic;
  return (m == isa::Mnemonic::kLoadm || m == isa::Mnemonic::kLoadmp || m == isa::Mnemonic::kStorm ||
          m == isa::Mnemonic::kStormp) &&
         (d.words[0] & 0x80) != 0;
}

void append_instruction(std::vector<uint8_t>& bytes, const uint16_t* words, unsigned size_words) {
  const isa::Decoded d = isa::decode(words[0], words[1], words[2]);
  if (needs_r0_prefix(d)) {
    const uint16_t movw = 0x5A10;
    append_words(bytes, &movw, 1);
  }
  append_words(bytes, words, size_words);
}

/// The deterministic byte stream: random encodings per entry, the UND long
/// branches, then random words cut at the instruction sizes we decode.
std::vector<uint8_t> build_stream() {
  std::mt19937_64 rng(0x0C16D15A);
  std::vector<uint8_t> bytes;
  for (uint16_t index = 0; index < isa::table().size(); ++index) {
    for (int i = 0; i < kSamplesPerEntry; ++i) {
      const auto encoding = isa::random_encoding(rng, index);
      if (!encoding) break;
      append_instruction(bytes, encoding->words, encoding->size_words);
    }
  }
  for (uint16_t ope = 0; ope < 16; ++ope) {
    const uint16_t words[3] = {0x0010, static_cast<uint16_t>((ope << 12) | 0x0321), 0x8765};
    append_instruction(bytes, words, 3);
  }
  for (int i = 0; i < kRandomWordSamples; ++i) {
    const uint64_t bits = rng();
    const uint16_t words[3] = {static_cast<uint16_t>(bits), static_cast<uint16_t>(bits >> 16),
                               static_cast<uint16_t>(bits >> 32)};
    const Disassembly d =
        disassemble_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(words), 6), 0);
    append_instruction(bytes, words, d.size_bytes / 2);
  }
  return bytes;
}

std::filesystem::path data_file() {
  return std::filesystem::path(CR16_SOURCE_DIR) / "tests/unit/cpu/data/random/objdump.txt";
}

size_t compare(const std::vector<uint8_t>& bytes, const std::vector<Line>& lines) {
  size_t mismatches = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const uint32_t offset = lines[i].address - kStreamAddress;
    if (offset >= bytes.size()) {
      ADD_FAILURE() << "line outside the stream at 0x" << std::hex << lines[i].address;
      return mismatches + 1;
    }
    const Disassembly ours =
        disassemble_bytes(std::span<const uint8_t>(bytes).subspan(offset), lines[i].address);
    if (ours.text != lines[i].text) {
      if (++mismatches <= 30) {
        ADD_FAILURE() << "@0x" << std::hex << lines[i].address << ": objdump \"" << lines[i].text
                      << "\" ours \"" << ours.text << "\"";
      }
    }
    if (i + 1 < lines.size() && ours.size_bytes != lines[i + 1].address - lines[i].address) {
      ++mismatches;
      ADD_FAILURE() << "size differs @0x" << std::hex << lines[i].address;
    }
  }
  return mismatches;
}

std::vector<Line> parse_lines(std::istream& in) {
  std::vector<Line> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("bytes ", 0) == 0) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    lines.push_back({static_cast<uint32_t>(std::stoul(line.substr(0, tab), nullptr, 16)),
                     line.substr(tab + 1)});
  }
  return lines;
}

TEST(DisasRandom, MatchesCommittedObjdumpOutput) {
  const auto bytes = build_stream();
  std::ifstream in(data_file());
  ASSERT_TRUE(in) << "missing " << data_file();
  const auto lines = parse_lines(in);
  ASSERT_GE(lines.size(), 10000u);
  EXPECT_EQ(compare(bytes, lines), 0u);
  RecordProperty("instructions_compared", static_cast<int>(lines.size()));
}

std::string objdump_path() {
  const std::string path = std::string(CR16_TOOLCHAIN_PREFIX) + "/bin/cr16-elf-objdump";
  return std::filesystem::exists(path) ? path : std::string();
}

TEST(DisasRandom, MatchesLiveObjdumpWhenToolchainPresent) {
  const std::string objdump = objdump_path();
  if (objdump.empty()) GTEST_SKIP() << "cr16-elf-objdump not installed (CR16_PREFIX)";
  const auto bytes = build_stream();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cr16-disas-" + std::to_string(static_cast<long>(::getpid())));
  std::filesystem::create_directories(dir);
  const auto binary = dir / "stream.bin";
  {
    std::ofstream out(binary, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  char vma[32];
  std::snprintf(vma, sizeof vma, "0x%x", kStreamAddress);
  const std::string command =
      objdump + " -D -z -b binary -m cr16 --adjust-vma=" + vma + " " + binary.string();
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string raw;
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) raw.append(buffer, got);
  ASSERT_EQ(::pclose(pipe), 0);
  std::filesystem::remove_all(dir);

  // Keep "address<TAB>text" of instruction lines (continuation lines have no text).
  std::ostringstream reference;
  std::istringstream objdump_lines(raw);
  std::string line;
  while (std::getline(objdump_lines, line)) {
    const size_t colon = line.find(":\t");
    if (colon == std::string::npos) continue;
    const size_t text_tab = line.find('\t', colon + 2);
    if (text_tab == std::string::npos) continue;
    size_t start = line.find_first_not_of(' ');
    reference << line.substr(start, colon - start) << '\t' << line.substr(text_tab + 1) << '\n';
  }
  std::istringstream reference_in(reference.str());
  const auto lines = parse_lines(reference_in);
  ASSERT_GE(lines.size(), 10000u);
  EXPECT_EQ(compare(bytes, lines), 0u);

  if (const char* regenerate = std::getenv("CR16_REGENERATE_DISAS_DATA");
      regenerate && *regenerate == '1') {
    std::ofstream out(data_file());
    out << "# objdump -D -z -b binary -m cr16 --adjust-vma=" << vma
        << " of the stream built by disas_random_test.cpp (build_stream)\n"
        << reference.str();
  }
}

}  // namespace
}  // namespace cr16
