// The SC14441 QSPI controller in manual mode, driven exactly like the UART
// loader does it (notes sections 5.7 and 6), the XIP window and the image
// file behind the flash.
#include "hw/sc14441_qspi.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "hw/spi_nor_flash.h"
#include "sc14441_fixture.h"

namespace cr16 {
namespace {

using namespace sc14441;

class Sc14441QspiTest : public test::Sc14441Fixture {
 protected:
  static constexpr uint32_t kBus = kQspiBase + kQspiCtrlBus;
  static constexpr uint32_t kMode = kQspiBase + kQspiCtrlMode;

  void init() {
    wr(kBus, kQspiBusDisCs, AccessSize::kDword);
    wr(kBus, kQspiBusSetSingle, AccessSize::kDword);
    wr(kMode, 0x002C);
  }
  /// One CS# cycle: `out` with 4/2/1-byte WRITEDATA stores, then `in_count`
  /// bytes with 32-bit reads and a final 16-bit read, as the loader does.
  std::vector<uint8_t> transaction(const std::vector<uint8_t>& out, size_t in_count = 0) {
    wr(kBus, kQspiBusSetSingle, AccessSize::kDword);
    wr(kBus, kQspiBusEnCs, AccessSize::kDword);
    size_t at = 0;
    auto pack = [&](unsigned n) {
      uint32_t v = 0;
      for (unsigned i = 0; i < n; ++i) v |= uint32_t{out[at + i]} << (8 * i);
      at += n;
      return v;
    };
    while (out.size() - at >= 4) wr(kQspiBase + kQspiWriteData, pack(4), AccessSize::kDword);
    while (out.size() - at >= 2) wr(kQspiBase + kQspiWriteData, pack(2), AccessSize::kWord);
    while (out.size() - at >= 1) wr(kQspiBase + kQspiWriteData, pack(1), AccessSize::kByte);
    std::vector<uint8_t> in;
    while (in.size() < in_count) {
      EXPECT_EQ(rd(kQspiBase + kQspiStatus) & 1, 0u);
      const bool word = in_count - in.size() >= 4;
      (void)rd(kQspiBase + kQspiReadData, word ? AccessSize::kDword : AccessSize::kWord);
      const uint32_t got = rd(kQspiBase + kQspiRecvData, AccessSize::kDword);
      for (unsigned i = 0; i < (word ? 4u : 2u) && in.size() < in_count; ++i) {
        in.push_back(static_cast<uint8_t>(got >> (8 * i)));
      }
    }
    wr(kBus, kQspiBusDisCs, AccessSize::kDword);
    return in;
  }
  uint8_t read_status() { return transaction({0x05}, 2)[0]; }
};

TEST_F(Sc14441QspiTest, ReadsSfdpHeaderAndDensityLikeTheLoader) {
  init();
  const auto header = transaction({0x5A, 0, 0, 0, 0xFF}, 8);
  EXPECT_EQ(std::string(header.begin(), header.begin() + 4), "SFDP");
  EXPECT_EQ(header[6], 0u);  // one parameter header
  const auto parameter = transaction({0x5A, 0, 0, 8, 0xFF}, 8);
  EXPECT_EQ(parameter[0], 0x00);  // JEDEC basic table
  EXPECT_EQ(parameter[3], 9u);
  const uint32_t pointer = parameter[4] | (parameter[5] << 8) | (parameter[6] << 16);
  const auto table = transaction({0x5A, 0, 0, static_cast<uint8_t>(pointer), 0xFF}, 36);
  EXPECT_EQ(table[1], 0x20);  // 4 KiB erase opcode
  const uint32_t density = table[4] | (table[5] << 8) | (table[6] << 16) | (uint32_t{table[7]} << 24);
  EXPECT_EQ(density, 0x00FFFFFFu);  // the default 2 MiB flash
}

TEST_F(Sc14441QspiTest, JedecIdAndStatus) {
  init();
  const auto id = transaction({0x9F}, 3);
  EXPECT_EQ(id[2], 0x15);  // log2(2 MiB)
  EXPECT_EQ(read_status(), 0u);
  transaction({0x06});
  EXPECT_EQ(read_status(), 0x02);  // WEL
  const auto odd = transaction({0x9F}, 1);  // a final odd byte: one 16-bit read
  EXPECT_EQ(odd.size(), 1u);
}

TEST_F(Sc14441QspiTest, WriteEnableEraseProgramAndReadBack) {
  init();
  std::vector<uint8_t> program = {0x02, 0x00, 0x12, 0x00};
  for (int i = 0; i < 256; ++i) program.push_back(static_cast<uint8_t>(i ^ 0x5A));
  wr(kMode, 0x003C);  // WP# high around the write, as the loader
  transaction({0x06});
  transaction(program);
  wr(kMode, 0x002C);
  int polls = 0;
  while ((read_status() & 1) && polls < 0x401) {
    ++polls;
    clock.advance_by(10'000);
  }
  EXPECT_LT(polls, 0x401);
  EXPECT_EQ(read_status(), 0u);  // WEL cleared
  const auto back = transaction({0x03, 0x00, 0x12, 0x00}, 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(back[i], static_cast<uint8_t>(i ^ 0x5A)) << i;
  // Erase the sector again.
  transaction({0x06});
  transaction({0x20, 0x00, 0x10, 0x00});
  while (read_status() & 1) clock.advance_by(10'000);
  EXPECT_EQ(transaction({0x03, 0x00, 0x12, 0x10}, 4), std::vector<uint8_t>(4, 0xFF));
  EXPECT_EQ(board->flash().contents()[0x1200], 0xFF);
}

TEST_F(Sc14441QspiTest, XipWindowReadsTheFlashInAutoMode) {
  init();
  transaction({0x06});
  transaction({0x02, 0x00, 0x00, 0x10, 0x12, 0x34, 0x56, 0x78});
  clock.advance_by(1'000'000);
  EXPECT_EQ(read_status(), 0u);
  EXPECT_EQ(rd(kXipBase + 0x10), 0u);  // manual mode
  wr(kMode, kQspiModeAuto);
  EXPECT_EQ(rd(kXipBase + 0x10, AccessSize::kDword), 0x78563412u);
  EXPECT_EQ(rd(kXipBase + 0x11, AccessSize::kByte), 0x34u);
  EXPECT_EQ(rd(kXipBase + 0x14, AccessSize::kByte), 0xFFu);
  wr(kXipBase + 0x10, 0);  // ignored
  EXPECT_EQ(rd(kXipBase + 0x10, AccessSize::kByte), 0x12u);
  EXPECT_EQ(board->qspi().xip_size(), 2u << 20);
  uint32_t value = 0;
  EXPECT_EQ(board->memory().read_slow(kXipBase + (2u << 20), AccessSize::kByte, &value),
            BusStatus::kBusError);  // past the window
}

TEST_F(Sc14441QspiTest, StorageRegistersAndGarbageNeverCrash) {
  wr(kQspiBase + 0x0C, 0xDEADBEEF, AccessSize::kDword);  // BURSTCMDA
  EXPECT_EQ(rd(kQspiBase + 0x0C, AccessSize::kDword), 0xDEADBEEFu);
  wr(kQspiBase + 0x3C, 0xAB, AccessSize::kByte);  // GP
  EXPECT_EQ(rd(kQspiBase + 0x3C, AccessSize::kDword), 0xABu);
  std::mt19937 random(7);
  const AccessSize sizes[] = {AccessSize::kByte, AccessSize::kWord, AccessSize::kDword};
  for (int i = 0; i < 20000; ++i) {
    const uint32_t address = kQspiBase + random() % (kQspiSize + 4);
    const AccessSize size = sizes[random() % 3];
    uint32_t value = 0;
    if (random() & 1) {
      (void)board->memory().write_slow(address, size, random());
    } else {
      (void)board->memory().read_slow(address, size, &value);
    }
    if (i % 1000 == 0) clock.advance_by(1'000'000);
  }
  board->reset();
  EXPECT_FALSE(board->flash().selected());
}

std::string temp_image(uint32_t size, uint8_t fill) {
  const std::string path =
      testing::TempDir() + "sc14441-mtd-" + std::to_string(getpid()) + "-" +
      std::to_string(size) + ".img";
  std::ofstream(path, std::ios::binary) << std::string(size, static_cast<char>(fill));
  return path;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
}

TEST_F(Sc14441QspiTest, ImageFileGivesTheSizeAndReceivesTheWrites) {
  const std::string path = temp_image(1u << 20, 0xFF);
  BoardConfig config;
  config.mtd_path = path;
  build(config);
  init();
  EXPECT_EQ(transaction({0x9F}, 3)[2], 0x14);  // 1 MiB
  transaction({0x06});
  transaction({0x02, 0x00, 0x20, 0x00, 0xA5, 0x5A});
  clock.advance_by(1'000'000);
  EXPECT_EQ(read_status(), 0u);
  ASSERT_TRUE(board->flash().flush().ok());
  const auto file = read_file(path);
  ASSERT_EQ(file.size(), 1u << 20);
  EXPECT_EQ(file[0x2000], 0xA5);
  EXPECT_EQ(file[0x2001], 0x5A);
  board.reset();
  std::remove(path.c_str());
}

TEST_F(Sc14441QspiTest, SnapshotOverlayNeverWritesTheImage) {
  const std::string path = temp_image(1u << 20, 0xFF);
  BoardConfig config;
  config.mtd_path = path;
  config.mtd_overlay = true;
  build(config);
  init();
  transaction({0x06});
  transaction({0x02, 0x00, 0x20, 0x00, 0x00});
  clock.advance_by(1'000'000);
  EXPECT_EQ(transaction({0x03, 0x00, 0x20, 0x00}, 2)[0], 0x00);
  board.reset();
  EXPECT_EQ(read_file(path)[0x2000], 0xFF);
  std::remove(path.c_str());
}

TEST_F(Sc14441QspiTest, BadImageErrorsNameTheFile) {
  const std::string path = temp_image(3000, 0xFF);
  BoardConfig config;
  config.mtd_path = path;
  config.serial = {&serial0, &serial1};
  auto made = Sc14441Board::create(config, clock);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message().find(path), std::string::npos) << made.error().message();
  std::remove(path.c_str());
  config.mtd_path = path + ".missing";
  auto missing = Sc14441Board::create(config, clock);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find(".missing"), std::string::npos);
}

}  // namespace
}  // namespace cr16
