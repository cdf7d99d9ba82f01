// Our disassembly equals cr16-elf-objdump's for every instruction of
// binutils' CR16 assembler test suite (data committed under data/gas/).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cpu/disas.h"

namespace cr16 {
namespace {

struct ReferenceLine {
  uint32_t address;
  std::string text;
};

struct ReferenceFile {
  std::string name;
  std::vector<uint8_t> bytes;
  std::vector<ReferenceLine> lines;
};

std::filesystem::path data_dir() {
  return std::filesystem::path(CR16_SOURCE_DIR) / "tests/unit/cpu/data/gas";
}

ReferenceFile load(const std::filesystem::path& path) {
  ReferenceFile file;
  file.name = path.filename().string();
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("bytes ", 0) == 0) {
      for (size_t i = 6; i + 1 < line.size(); i += 2) {
        file.bytes.push_back(static_cast<uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
      }
      continue;
    }
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    file.lines.push_back({static_cast<uint32_t>(std::stoul(line.substr(0, tab), nullptr, 16)),
                          line.substr(tab + 1)});
  }
  return file;
}

std::vector<ReferenceFile> load_all() {
  std::vector<ReferenceFile> files;
  for (const auto& item : std::filesystem::directory_iterator(data_dir())) {
    if (item.path().extension() == ".txt") files.push_back(load(item.path()));
  }
  return files;
}

TEST(DisasGas, MatchesObjdumpForEveryGasTestInstruction) {
  const auto files = load_all();
  ASSERT_GE(files.size(), 39u) << "reference data missing in " << data_dir();
  size_t compared = 0, mismatches = 0;
  for (const ReferenceFile& file : files) {
    for (size_t i = 0; i < file.lines.size(); ++i) {
      const ReferenceLine& ref = file.lines[i];
      ASSERT_LT(ref.address, file.bytes.size()) << file.name;
      const auto rest = std::span<const uint8_t>(file.bytes).subspan(ref.address);
      const Disassembly ours = disassemble_bytes(rest, ref.address);
      ++compared;
      if (ours.text != ref.text) {
        ++mismatches;
        ADD_FAILURE() << file.name << " @0x" << std::hex << ref.address << ": objdump \""
                      << ref.text << "\" ours \"" << ours.text << "\"";
      }
      const uint32_t next = i + 1 < file.lines.size() ? file.lines[i + 1].address
                                                      : static_cast<uint32_t>(file.bytes.size());
      if (i + 1 < file.lines.size()) {
        EXPECT_EQ(ours.size_bytes, next - ref.address)
            << file.name << " @0x" << std::hex << ref.address;
      }
    }
  }
  EXPECT_GE(compared, 1500u);
  EXPECT_EQ(mismatches, 0u);
  RecordProperty("instructions_compared", static_cast<int>(compared));
}

}  // namespace
}  // namespace cr16
