// The SPI NOR flash model (hw/spi_nor_flash.h): every command byte for
// byte as a controller clocks it, page wrap, program clearing bits only,
// erase granularity, WEL and WIP with the modelled times, JEDEC ID, SFDP
// decoded the way the SC14441 loader does it, power-down, chip select
// aborting commands, the image file (load errors, write-back of exactly
// the dirty sectors, -snapshot overlay) and the state descriptions.
#include "hw/spi_nor_flash.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hw/manual_device_clock.h"
#include "migration/state_codec.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using namespace spi_nor;

constexpr uint32_t kMiB = 1u << 20;

using test::read_file;
using test::TempDir;

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> pattern(uint32_t size) {
  std::vector<uint8_t> bytes(size);
  for (uint32_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
  return bytes;
}

/// One CS# cycle: sends `out`, then clocks `read_count` more bytes (0xFF
/// out) and returns what came back on them.
std::vector<uint8_t> cycle(SpiNorFlash& flash, std::vector<uint8_t> out, size_t read_count = 0) {
  flash.select();
  for (uint8_t byte : out) flash.transfer(byte);
  std::vector<uint8_t> in(read_count);
  for (uint8_t& byte : in) byte = flash.transfer(0xFF);
  flash.deselect();
  return in;
}

std::vector<uint8_t> with_address(uint8_t opcode, uint32_t address) {
  return {opcode, static_cast<uint8_t>(address >> 16), static_cast<uint8_t>(address >> 8),
          static_cast<uint8_t>(address)};
}

struct SpiNorTest : ::testing::Test {
  SpiNorTest() { flash = make(kMiB); }
  std::unique_ptr<SpiNorFlash> make(uint32_t size, SpiNorOptions options = {}) {
    auto created = SpiNorFlash::create_erased(clock, size, options);
    EXPECT_TRUE(created.ok());
    return created.ok() ? std::move(*created) : nullptr;
  }
  uint8_t status() { return cycle(*flash, {kReadStatus}, 1)[0]; }
  void write_enable() { cycle(*flash, {kWriteEnable}); }
  std::vector<uint8_t> read(uint32_t address, size_t count) {
    return cycle(*flash, with_address(kRead, address), count);
  }
  /// WREN + PAGE PROGRAM, then waits until WIP clears.
  void program(uint32_t address, const std::vector<uint8_t>& data) {
    write_enable();
    std::vector<uint8_t> out = with_address(kPageProgram, address);
    out.insert(out.end(), data.begin(), data.end());
    cycle(*flash, out);
    finish();
  }
  void erase(uint8_t opcode, uint32_t address) {
    write_enable();
    cycle(*flash, with_address(opcode, address));
    finish();
  }
  void finish() { clock.advance_by(SpiNorTiming::datasheet().chip_erase_ns); }
  /// Programs 0x00 at one byte of every 4 KiB sector in [0, limit).
  void dirty_every_sector(uint32_t limit) {
    for (uint32_t offset = 0; offset < limit; offset += kSectorSize) program(offset + 5, {0x00});
  }
  uint32_t zero_sectors(uint32_t limit) {
    uint32_t count = 0;
    for (uint32_t offset = 0; offset < limit; offset += kSectorSize) {
      count += flash->contents()[offset + 5] == 0x00;
    }
    return count;
  }

  ManualDeviceClock clock{1000};
  std::unique_ptr<SpiNorFlash> flash;
};

TEST_F(SpiNorTest, StartsErasedIdleAndDeselected) {
  EXPECT_EQ(flash->size(), kMiB);
  EXPECT_EQ(status(), 0u);
  EXPECT_FALSE(flash->selected());
  EXPECT_EQ(read(0x12345, 4), std::vector<uint8_t>(4, 0xFF));
  for (uint8_t byte : flash->contents()) ASSERT_EQ(byte, 0xFF);
}

TEST_F(SpiNorTest, SizesMustBeAPowerOfTwoFromOneToSixteenMiB) {
  for (uint32_t size : {1u, 2u, 4u, 8u, 16u}) {
    EXPECT_TRUE(SpiNorFlash::create_erased(clock, size * kMiB).ok()) << size;
  }
  for (uint32_t size : {0u, kMiB / 2, 3 * kMiB, 32 * kMiB, kMiB + 1}) {
    EXPECT_FALSE(SpiNorFlash::create_erased(clock, size).ok()) << size;
  }
}

TEST_F(SpiNorTest, TransfersWithoutChipSelectAreIgnored) {
  EXPECT_EQ(flash->transfer(kWriteEnable), 0xFF);
  EXPECT_EQ(status(), 0u);
  flash->deselect();  // releasing a released CS# does nothing
  EXPECT_EQ(status(), 0u);
}

TEST_F(SpiNorTest, ReadStreamsAndWrapsAtTheEndOfTheArray) {
  program(0, {0x11, 0x22});
  program(kMiB - 2, {0xAA, 0xBB});
  EXPECT_EQ(read(kMiB - 2, 4), (std::vector<uint8_t>{0xAA, 0xBB, 0x11, 0x22}));
  // Address bits above the size are ignored (the array repeats).
  EXPECT_EQ(read(kMiB, 2), (std::vector<uint8_t>{0x11, 0x22}));
  // Nothing comes back while the address is clocked in.
  flash->select();
  EXPECT_EQ(flash->transfer(kRead), 0xFF);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(flash->transfer(0), 0xFF);
  EXPECT_EQ(flash->transfer(0xFF), 0x11);
  flash->deselect();
}

TEST_F(SpiNorTest, FastReadSkipsOneDummyByte) {
  program(0x4000, {1, 2, 3});
  EXPECT_EQ(cycle(*flash, with_address(kFastRead, 0x4000), 4),
            (std::vector<uint8_t>{0xFF, 1, 2, 3}));  // the first is the dummy
}

TEST_F(SpiNorTest, WriteEnableAndDisableSetAndClearWel) {
  write_enable();
  EXPECT_EQ(status(), kStatusWel);
  cycle(*flash, {kWriteDisable});
  EXPECT_EQ(status(), 0u);
  // Only a cycle of exactly the opcode counts.
  cycle(*flash, {kWriteEnable, 0x00});
  EXPECT_EQ(status(), 0u);
  write_enable();
  cycle(*flash, {kWriteDisable, 0x00});
  EXPECT_EQ(status(), kStatusWel);
}

TEST_F(SpiNorTest, ReadStatusRepeatsWhileSelected) {
  write_enable();
  EXPECT_EQ(cycle(*flash, {kReadStatus}, 3), std::vector<uint8_t>(3, kStatusWel));
}

TEST_F(SpiNorTest, PageProgramWrapsInsideItsPage) {
  std::vector<uint8_t> data(32);
  for (uint32_t i = 0; i < 32; ++i) data[i] = static_cast<uint8_t>(0x40 + i);
  program(0x21F0, data);
  EXPECT_EQ(read(0x21F0, 16), std::vector<uint8_t>(data.begin(), data.begin() + 16));
  EXPECT_EQ(read(0x2100, 16), std::vector<uint8_t>(data.begin() + 16, data.end()));
  EXPECT_EQ(read(0x2200, 1)[0], 0xFF);  // the next page is untouched
  EXPECT_EQ(read(0x2110, 1)[0], 0xFF);
}

TEST_F(SpiNorTest, MoreThanAPageKeepsTheLastBytesForEachColumn) {
  std::vector<uint8_t> data(256 + 4, 0xFF);
  data[0] = 0x0F;    // column 0, replaced by data[256]
  data[256] = 0xF0;  // wraps onto column 0
  program(0x3000, data);
  EXPECT_EQ(read(0x3000, 1)[0], 0xF0);
}

TEST_F(SpiNorTest, ProgramOnlyClearsBits) {
  program(0x100, {0x0F, 0xFF, 0x00});
  program(0x100, {0xF3, 0x5A, 0xFF});
  EXPECT_EQ(read(0x100, 3), (std::vector<uint8_t>{0x03, 0x5A, 0x00}));
}

TEST_F(SpiNorTest, EraseCoversItsAlignedUnitOnly) {
  struct Case {
    uint8_t opcode;
    uint32_t unit;
  };
  for (Case c : {Case{kSectorErase, 4u << 10}, Case{kBlockErase32, 32u << 10},
                 Case{kBlockErase64, 64u << 10}}) {
    const uint32_t limit = 256u << 10;
    dirty_every_sector(limit);
    ASSERT_EQ(zero_sectors(limit), limit / kSectorSize);
    // An address in the middle of the second unit erases all of that unit.
    erase(c.opcode, c.unit + c.unit / 2 + 3);
    for (uint32_t offset = 0; offset < limit; offset += kSectorSize) {
      const bool inside = offset >= c.unit && offset < 2 * c.unit;
      EXPECT_EQ(flash->contents()[offset + 5], inside ? 0xFF : 0x00)
          << "opcode " << int(c.opcode) << " offset " << offset;
    }
  }
}

TEST_F(SpiNorTest, BothChipEraseOpcodesEraseEverything) {
  for (uint8_t opcode : {kChipErase, kChipEraseAlt}) {
    dirty_every_sector(kMiB);
    write_enable();
    cycle(*flash, {opcode});
    finish();
    EXPECT_EQ(zero_sectors(kMiB), 0u) << int(opcode);
    EXPECT_EQ(status(), 0u);
  }
}

TEST_F(SpiNorTest, WelClearsWhenProgramOrEraseEnds) {
  program(0, {0});
  EXPECT_EQ(status(), 0u);
  erase(kSectorErase, 0);
  EXPECT_EQ(status(), 0u);
}

TEST_F(SpiNorTest, ProgramAndEraseWithoutWelAreIgnored) {
  program(0x500, {0x12});
  cycle(*flash, {kPageProgram, 0, 0x05, 0x00, 0x00});
  EXPECT_EQ(status(), 0u);  // no WIP: nothing started
  cycle(*flash, with_address(kSectorErase, 0));
  cycle(*flash, with_address(kBlockErase32, 0));
  cycle(*flash, with_address(kBlockErase64, 0));
  cycle(*flash, {kChipErase});
  cycle(*flash, {kChipEraseAlt});
  EXPECT_EQ(status(), 0u);
  EXPECT_EQ(read(0x500, 1)[0], 0x12);
}

TEST_F(SpiNorTest, WipLastsTheModelledTimeOfEachOperation) {
  const SpiNorTiming timing = SpiNorTiming::quick();
  struct Case {
    std::vector<uint8_t> command;
    int64_t duration;
  };
  const Case cases[] = {
      {{kPageProgram, 0, 0, 0, 0x00}, timing.page_program_ns},
      {with_address(kSectorErase, 0), timing.sector_erase_ns},
      {with_address(kBlockErase32, 0), timing.block32_erase_ns},
      {with_address(kBlockErase64, 0), timing.block64_erase_ns},
      {{kChipErase}, timing.chip_erase_ns},
  };
  for (const Case& c : cases) {
    write_enable();
    cycle(*flash, c.command);
    EXPECT_EQ(status(), kStatusWip | kStatusWel);
    clock.advance_by(c.duration - 1);
    EXPECT_EQ(status(), kStatusWip | kStatusWel);
    EXPECT_TRUE(flash->busy());
    clock.advance_by(1);
    EXPECT_EQ(status(), 0u);
  }
}

TEST_F(SpiNorTest, DatasheetTimingIsSlower) {
  SpiNorOptions options;
  options.timing = SpiNorTiming::datasheet();
  flash = make(kMiB, options);
  write_enable();
  cycle(*flash, with_address(kSectorErase, 0));
  clock.advance_by(44'000'000);
  EXPECT_TRUE(flash->busy());
  clock.advance_by(1'000'000);
  EXPECT_FALSE(flash->busy());
}

TEST_F(SpiNorTest, OnlyReadStatusWorksWhileBusy) {
  program(0x10, {0x42});
  write_enable();
  cycle(*flash, {kPageProgram, 0, 0, 0x10, 0x00});
  ASSERT_TRUE(flash->busy());
  EXPECT_EQ(read(0x10, 1)[0], 0xFF);  // read ignored
  EXPECT_EQ(cycle(*flash, {kJedecId}, 3), std::vector<uint8_t>(3, 0xFF));
  cycle(*flash, {kWriteDisable});  // ignored: WEL stays
  cycle(*flash, {kPowerDown});     // ignored
  EXPECT_EQ(status(), kStatusWip | kStatusWel);
  EXPECT_FALSE(flash->powered_down());
  // A status poll that began while busy sees WIP drop within the cycle.
  flash->select();
  flash->transfer(kReadStatus);
  EXPECT_EQ(flash->transfer(0xFF), kStatusWip | kStatusWel);
  finish();
  EXPECT_EQ(flash->transfer(0xFF), 0u);
  flash->deselect();
  EXPECT_EQ(read(0x10, 1)[0], 0x00);
}

TEST_F(SpiNorTest, JedecIdReportsManufacturerTypeAndLog2Capacity) {
  EXPECT_EQ(cycle(*flash, {kJedecId}, 3), (std::vector<uint8_t>{0xEF, 0x40, 0x14}));
  SpiNorOptions options;
  options.identity = {0xC2, 0x25};
  flash = make(16 * kMiB, options);
  EXPECT_EQ(cycle(*flash, {kJedecId}, 3), (std::vector<uint8_t>{0xC2, 0x25, 0x18}));
  EXPECT_EQ(flash->capacity_code(), 0x18);
}

TEST_F(SpiNorTest, ReadManufacturerDeviceIdAlternatesBothBytes) {
  EXPECT_EQ(cycle(*flash, with_address(kReadManufacturerDeviceId, 0), 4),
            (std::vector<uint8_t>{0xEF, 0x13, 0xEF, 0x13}));
  EXPECT_EQ(cycle(*flash, with_address(kReadManufacturerDeviceId, 1), 2),
            (std::vector<uint8_t>{0x13, 0xEF}));
}

// Decodes SFDP the way the SC14441 loader does (docs/boards/sc14441-flash.md).
TEST_F(SpiNorTest, SfdpHeaderAndBasicTableReportTheSize) {
  for (uint32_t mib : {1u, 2u, 4u, 8u, 16u}) {
    flash = make(mib * kMiB);
    const std::vector<uint8_t> header = cycle(*flash, with_address(kReadSfdp, 0), 1 + 16);
    EXPECT_EQ(header[0], 0xFF);  // the dummy byte
    EXPECT_EQ(std::string(header.begin() + 1, header.begin() + 5), "SFDP");
    EXPECT_EQ(header[6], 0x01);  // major revision
    EXPECT_EQ(header[7], 0x00);  // one parameter header
    EXPECT_EQ(header[8], 0xFF);
    const uint8_t* parameter = header.data() + 9;
    EXPECT_EQ(parameter[0], 0x00);  // JEDEC basic table
    EXPECT_EQ(parameter[7], 0xFF);
    const uint32_t dwords = parameter[3];
    EXPECT_GE(dwords, 9u);
    EXPECT_LE(dwords, 16u);  // the loader skips longer tables
    const uint32_t pointer = parameter[4] | parameter[5] << 8 | parameter[6] << 16;
    std::vector<uint8_t> table = cycle(*flash, with_address(kReadSfdp, pointer), 1 + 4 * dwords);
    table.erase(table.begin());  // dummy
    auto dword = [&](int index) {
      const uint8_t* p = table.data() + 4 * (index - 1);
      return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    };
    EXPECT_EQ(dword(1) & 3u, 1u);  // 4 KiB erase supported
    EXPECT_EQ((dword(1) >> 8) & 0xFF, kSectorErase);
    const uint32_t density = dword(2);
    ASSERT_EQ(density & 0x80000000u, 0u);
    EXPECT_EQ((uint64_t{density} + 1) / 8, uint64_t{mib} * kMiB) << mib;
    EXPECT_EQ(dword(8), 0x520F200Cu);  // 4 KiB 0x20, 32 KiB 0x52
    EXPECT_EQ(dword(9), 0xFF00D810u);  // 64 KiB 0xD8
  }
  EXPECT_EQ(cycle(*flash, with_address(kReadSfdp, 0x1000), 3),
            (std::vector<uint8_t>{0xFF, 0xFF, 0xFF}));
}

TEST_F(SpiNorTest, SfdpMatchesTheMinimalTableOfTheNotes) {
  const std::vector<uint8_t> expected_header = {'S',  'F',  'D',  'P',  0x00, 0x01, 0x00, 0xFF,
                                                0x00, 0x00, 0x01, 0x09, 0x30, 0x00, 0x00, 0xFF};
  EXPECT_EQ(std::vector<uint8_t>(flash->sfdp().begin(), flash->sfdp().begin() + 16),
            expected_header);
  EXPECT_EQ(flash->sfdp()[0x30 + 4], 0xFF);  // density 0x007FFFFF, little-endian
  EXPECT_EQ(flash->sfdp()[0x30 + 6], 0x7F);
  EXPECT_EQ(flash->sfdp()[0x30 + 7], 0x00);
}

TEST_F(SpiNorTest, PowerDownIgnoresCommandsUntilRelease) {
  program(0, {0x55});
  cycle(*flash, {kPowerDown});
  EXPECT_TRUE(flash->powered_down());
  EXPECT_EQ(read(0, 1)[0], 0xFF);
  EXPECT_EQ(cycle(*flash, {kReadStatus}, 1)[0], 0xFF);
  EXPECT_EQ(cycle(*flash, {kJedecId}, 3), std::vector<uint8_t>(3, 0xFF));
  write_enable();
  cycle(*flash, {kReleasePowerDown});
  EXPECT_FALSE(flash->powered_down());
  EXPECT_EQ(status(), 0u);  // the WREN sent while powered down was ignored
  EXPECT_EQ(read(0, 1)[0], 0x55);
}

TEST_F(SpiNorTest, ReleaseReadsTheElectronicSignature) {
  cycle(*flash, {kPowerDown});
  EXPECT_EQ(cycle(*flash, {kReleasePowerDown, 0, 0, 0}, 2), (std::vector<uint8_t>{0x13, 0x13}));
  EXPECT_FALSE(flash->powered_down());
  flash = make(4 * kMiB);  // works when not powered down too
  EXPECT_EQ(cycle(*flash, {kReleasePowerDown, 0, 0, 0}, 1)[0], 0x15);
}

TEST_F(SpiNorTest, ReleasingChipSelectMidCommandAbortsIt) {
  program(0x1000, {0x00});
  write_enable();
  cycle(*flash, {kSectorErase, 0x00, 0x10});        // two address bytes only
  EXPECT_EQ(status(), kStatusWel);                  // nothing started; WEL kept
  cycle(*flash, {kPageProgram, 0x00, 0x20, 0x00});  // no data
  cycle(*flash, {kChipErase, 0x00});                // an extra byte
  cycle(*flash, {kPowerDown, 0x00});
  EXPECT_EQ(status(), kStatusWel);
  EXPECT_FALSE(flash->powered_down());
  EXPECT_EQ(read(0x1000, 1)[0], 0x00);
  // A read cut short leaves nothing behind for the next cycle.
  cycle(*flash, {kRead, 0x00});
  EXPECT_EQ(read(0x1000, 1)[0], 0x00);
}

TEST_F(SpiNorTest, ResetEnableThenResetReturnsToPowerOnState) {
  program(0x20, {0x12});
  write_enable();
  cycle(*flash, {kReset});  // without RESET ENABLE: nothing
  EXPECT_EQ(status(), kStatusWel);
  cycle(*flash, {kResetEnable});
  cycle(*flash, {kReadStatus}, 1);  // another command in between cancels it
  cycle(*flash, {kReset});
  EXPECT_EQ(status(), kStatusWel);
  cycle(*flash, {kResetEnable, 0x00});  // not a lone opcode: no effect
  cycle(*flash, {kReset});
  EXPECT_EQ(status(), kStatusWel);
  cycle(*flash, {kResetEnable});
  cycle(*flash, {kReset});
  EXPECT_EQ(status(), 0u);
  EXPECT_FALSE(flash->selected());
  EXPECT_EQ(read(0x20, 1)[0], 0x12);  // contents kept
  // Powered down, only RELEASE is decoded: the reset pair is ignored.
  cycle(*flash, {kPowerDown});
  cycle(*flash, {kResetEnable});
  cycle(*flash, {kReset});
  EXPECT_TRUE(flash->powered_down());
}

TEST_F(SpiNorTest, UnknownOpcodesIgnoreTheCycle) {
  EXPECT_EQ(cycle(*flash, {0x35, kWriteEnable}, 2), std::vector<uint8_t>(2, 0xFF));
  EXPECT_EQ(status(), 0u);
}

TEST_F(SpiNorTest, ResetEndsCommandsAndPowerDownButKeepsContents) {
  program(0, {0x00});
  cycle(*flash, {kPowerDown});
  flash->select();
  flash->reset();
  EXPECT_FALSE(flash->selected());
  EXPECT_FALSE(flash->powered_down());
  EXPECT_EQ(read(0, 1)[0], 0x00);
}

// The SC14441 loader's flash sequence (docs/boards/sc14441-flash.md): WREN in
// its own cycle, the erase or program, then READ STATUS polled with 16-bit
// reads (two bytes each). At a few MIPS one poll costs about 12 us; with the
// default timing the poll budgets (0x4001 erase, 0x401 program) are never
// close, and a loader at 100 times that speed still fits.
TEST_F(SpiNorTest, LoaderPollBudgetsAreMetWithTheDefaultTiming) {
  auto polls_until_idle = [&](int64_t ns_per_poll) {
    int polls = 0;
    for (;;) {
      ++polls;
      const uint8_t out[] = {kReadStatus, 0xFF, 0xFF};
      uint8_t in[3];
      flash->select();
      flash->transfer(out, in);
      flash->deselect();
      if ((in[1] & kStatusWip) == 0 && (in[2] & kStatusWip) == 0) return polls;
      clock.advance_by(ns_per_poll);
    }
  };
  for (int64_t ns_per_poll : {12'000, 120}) {
    cycle(*flash, {kWriteEnable});
    cycle(*flash, with_address(kSectorErase, 0x5000));
    EXPECT_LT(polls_until_idle(ns_per_poll), 0x4001);
    EXPECT_EQ(status(), 0u);
    std::vector<uint8_t> page = with_address(kPageProgram, 0x5000);
    page.resize(4 + 256, 0x3C);
    cycle(*flash, {kWriteEnable});
    cycle(*flash, page);
    EXPECT_LT(polls_until_idle(ns_per_poll), 0x401);
  }
  EXPECT_LE(
      [&] {
        cycle(*flash, {kWriteEnable});
        cycle(*flash, with_address(kSectorErase, 0x5000));
        return polls_until_idle(12'000);
      }(),
      6);  // "within a few polls" at about 4 MIPS
  EXPECT_EQ(read(0x5000, 1)[0], 0xFF);
}

// ---- The image file.

TEST(SpiNorFile, OpenTakesSizeAndContentsFromTheImage) {
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  const std::vector<uint8_t> image = pattern(2 * kMiB);
  write_file(path, image);
  auto flash = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(flash.ok()) << flash.error().message();
  EXPECT_EQ((*flash)->size(), 2 * kMiB);
  EXPECT_EQ((*flash)->capacity_code(), 0x15);
  EXPECT_TRUE(std::equal(image.begin(), image.end(), (*flash)->contents().begin()));
  EXPECT_EQ(cycle(**flash, with_address(kRead, 0x12345), 3),
            (std::vector<uint8_t>{image[0x12345], image[0x12346], image[0x12347]}));
}

TEST(SpiNorFile, BadImagesAreRefusedWithClearErrors) {
  TempDir dir;
  ManualDeviceClock clock;
  auto message_of = [&](const std::string& path) {
    auto flash = SpiNorFlash::open(clock, path);
    return flash.ok() ? std::string("(opened)") : flash.error().message();
  };
  const std::string missing = dir.file("missing.img");
  EXPECT_NE(message_of(missing).find("mtd '" + missing + "'"), std::string::npos);
  EXPECT_NE(message_of(missing).find("No such file"), std::string::npos) << message_of(missing);
  for (uint32_t size : {0u, 4096u, kMiB / 2, 3 * kMiB, kMiB + 1, 32 * kMiB}) {
    const std::string path = dir.file("odd.img");
    write_file(path, std::vector<uint8_t>(size, 0xFF));
    const std::string message = message_of(path);
    EXPECT_NE(message.find(std::to_string(size) + " bytes"), std::string::npos) << message;
    EXPECT_NE(message.find("power of two"), std::string::npos) << message;
  }
  EXPECT_NE(message_of(dir.file("")).find("not a regular file"), std::string::npos);
  if (geteuid() != 0) {  // root reads anything
    const std::string locked_out = dir.file("noaccess.img");
    write_file(locked_out, std::vector<uint8_t>(kMiB, 0xFF));
    chmod(locked_out.c_str(), 0);
    EXPECT_NE(message_of(locked_out).find("Permission denied"), std::string::npos);
  }
}

TEST(SpiNorFile, AnImageCannotBeUsedByTwoFlashes) {
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  write_file(path, std::vector<uint8_t>(kMiB, 0xFF));
  auto first = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(first.ok());
  auto second = SpiNorFlash::open(clock, path);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
}

TEST(SpiNorFile, WriteBackWritesExactlyTheDirtySectors) {
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  std::vector<uint8_t> image = pattern(kMiB);
  write_file(path, image);
  auto opened = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(opened.ok());
  SpiNorFlash& flash = **opened;
  // Mark every sector of the file behind the flash's back: a sector the
  // flash writes back loses the mark, every other keeps it.
  std::vector<uint8_t> marked = image;
  for (uint32_t sector = 0; sector < kMiB; sector += kSectorSize) marked[sector + 100] ^= 0x5A;
  write_file(path, marked);  // same inode: truncate and rewrite

  auto run = [&](std::vector<uint8_t> command) {
    cycle(flash, {kWriteEnable});
    cycle(flash, command);
    clock.advance_by(SpiNorTiming::quick().chip_erase_ns);
  };
  std::vector<uint8_t> programming = with_address(kPageProgram, 0x3010);
  programming.push_back(0x00);
  run(programming);                           // sector 3
  run(with_address(kSectorErase, 0x7FFF));    // sector 7
  run(with_address(kBlockErase32, 0x20000));  // sectors 32..39
  run(with_address(kPageProgram, 0x50000));   // no data: nothing
  std::vector<uint8_t> no_change = with_address(kPageProgram, 0x60000);
  no_change.push_back(0xFF);  // programs nothing: not dirty
  run(no_change);
  ASSERT_TRUE(flash.flush().ok());

  const std::vector<uint8_t> file = read_file(path);
  ASSERT_EQ(file.size(), kMiB);
  std::vector<uint32_t> written;
  for (uint32_t sector = 0; sector < kMiB; sector += kSectorSize) {
    const bool rewritten = file[sector + 100] != marked[sector + 100];
    if (rewritten) written.push_back(sector / kSectorSize);
    if (rewritten) {
      EXPECT_TRUE(std::equal(file.begin() + sector, file.begin() + sector + kSectorSize,
                             flash.contents().begin() + sector))
          << sector;
    }
  }
  std::vector<uint32_t> expected = {3, 7};
  for (uint32_t s = 32; s < 40; ++s) expected.push_back(s);
  EXPECT_EQ(written, expected);
  EXPECT_EQ(file[0x3010], 0x00);
  EXPECT_EQ(file[0x7000], 0xFF);
}

TEST(SpiNorFile, FlushReportsHostWriteErrorsAndRetriesThem) {
  // With RLIMIT_FSIZE below the sector (SIGXFSZ ignored) its write-back
  // fails with EFBIG; the guest sees a normal program meanwhile.
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  write_file(path, std::vector<uint8_t>(kMiB, 0xFF));
  auto flash = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(flash.ok());
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit tiny = saved;
  tiny.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tiny), 0);
  cycle(**flash, {kWriteEnable});
  cycle(**flash, {kPageProgram, 0x08, 0x00, 0x00, 0x5A});
  clock.advance_by(SpiNorTiming::quick().page_program_ns);
  EXPECT_EQ(cycle(**flash, {kReadStatus}, 1)[0], 0u);
  EXPECT_EQ(cycle(**flash, with_address(kRead, 0x80000), 1)[0], 0x5A);
  const Error error = (*flash)->flush();
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find(path), std::string::npos) << error.message();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_TRUE((*flash)->flush().ok());
  EXPECT_EQ(read_file(path)[0x80000], 0x5A);
}

TEST(SpiNorFile, ChangesSurviveANewFlashOnTheSameImage) {
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  write_file(path, std::vector<uint8_t>(kMiB, 0xFF));
  {
    auto flash = SpiNorFlash::open(clock, path);
    ASSERT_TRUE(flash.ok());
    cycle(**flash, {kWriteEnable});
    cycle(**flash, {kPageProgram, 0x0A, 0xBC, 0xDE, 0x12, 0x34});
  }  // the destructor waits for the write-back
  auto again = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(cycle(**again, with_address(kRead, 0x0ABCDE), 2), (std::vector<uint8_t>{0x12, 0x34}));
}

TEST(SpiNorFile, AnOverlayNeverWritesTheImage) {
  TempDir dir;
  ManualDeviceClock clock;
  const std::string path = dir.file("flash.img");
  const std::vector<uint8_t> image = pattern(kMiB);
  write_file(path, image);
  SpiNorOptions options;
  options.mode = FlashBackingMode::kOverlay;
  auto flash = SpiNorFlash::open(clock, path, options);
  ASSERT_TRUE(flash.ok()) << flash.error().message();
  cycle(**flash, {kWriteEnable});
  cycle(**flash, {kChipErase});
  EXPECT_EQ((*flash)->contents()[0x1234], 0xFF);
  ASSERT_TRUE((*flash)->flush().ok());
  EXPECT_EQ(read_file(path), image);
}

// ---- State.

TEST_F(SpiNorTest, StateRoundTripContinuesACommandAndTheBusyTime) {
  program(0x40, {0xDE, 0xAD});
  write_enable();
  cycle(*flash, {kPageProgram, 0, 0, 0x80, 0x00});  // busy until now + 20 us
  clock.advance_by(5'000);
  flash->select();
  flash->transfer(kReadStatus);
  auto saved = migration::save_state_object(spi_nor_state_description(), flash->state_data());
  ASSERT_TRUE(saved.ok());
  auto contents = migration::save_state_object(spi_nor_contents_state_description(),
                                               flash->contents_state().state_data());
  ASSERT_TRUE(contents.ok());

  std::unique_ptr<SpiNorFlash> other = make(kMiB);
  ASSERT_TRUE(
      migration::load_state_object(spi_nor_state_description(), other->state_data(), *saved).ok());
  other->state_loaded();
  Stateful& other_contents = other->contents_state();
  ASSERT_TRUE(migration::load_state_object(other_contents.state_description(),
                                           other_contents.state_data(), *contents)
                  .ok());
  other_contents.state_loaded();
  EXPECT_TRUE(other->selected());
  EXPECT_EQ(other->transfer(0xFF), kStatusWip | kStatusWel);
  clock.advance_by(15'000);
  EXPECT_EQ(other->transfer(0xFF), 0u);
  other->deselect();
  EXPECT_EQ(cycle(*other, with_address(kRead, 0x40), 2), (std::vector<uint8_t>{0xDE, 0xAD}));
  EXPECT_EQ(cycle(*other, with_address(kRead, 0x80), 1)[0], 0x00);
}

TEST_F(SpiNorTest, StateRoundTripMidRead) {
  program(0x9000, {1, 2, 3, 4});
  flash->select();
  for (uint8_t byte : with_address(kRead, 0x9000)) flash->transfer(byte);
  EXPECT_EQ(flash->transfer(0xFF), 1);
  auto saved = migration::save_state_object(spi_nor_state_description(), flash->state_data());
  ASSERT_TRUE(saved.ok());
  std::unique_ptr<SpiNorFlash> other = make(kMiB);
  ASSERT_TRUE(
      migration::load_state_object(spi_nor_state_description(), other->state_data(), *saved).ok());
  // The array is not in this section: the other flash reads its own (erased).
  EXPECT_EQ(other->transfer(0xFF), 0xFF);
  EXPECT_EQ(flash->transfer(0xFF), 2);
  EXPECT_EQ(other->state().address, 0x9002u);
}

TEST_F(SpiNorTest, HostileStateIsRejectedAndLeavesTheFlashAlone) {
  write_enable();
  const SpiNorState before = flash->state();
  struct Case {
    const char* what;
    void (*mutate)(SpiNorState&);
  };
  const Case cases[] = {
      {"stage out of range", [](SpiNorState& s) { s.selected = 1, s.stage = 3; }},
      {"command without chip select", [](SpiNorState& s) { s.stage = 1, s.opcode = kRead; }},
      {"count without chip select", [](SpiNorState& s) { s.count = 4; }},
      {"unknown opcode", [](SpiNorState& s) { s.selected = 1, s.stage = 1, s.opcode = 0x35; }},
      {"count above limit",
       [](SpiNorState& s) { s.selected = 1, s.stage = 1, s.opcode = kRead, s.count = 0x7FFFFFFF; }},
      {"WIP without deadline", [](SpiNorState& s) { s.status = kStatusWip; }},
      {"deadline without WIP", [](SpiNorState& s) { s.busy_until_ns = 100; }},
      {"negative deadline", [](SpiNorState& s) { s.status = kStatusWip, s.busy_until_ns = -5; }},
      {"huge deadline", [](SpiNorState& s) { s.status = kStatusWip, s.busy_until_ns = INT64_MAX; }},
      {"read while busy",
       [](SpiNorState& s) {
         s.status = kStatusWip, s.busy_until_ns = 9, s.selected = 1, s.stage = 1, s.opcode = kRead;
       }},
      {"powered down while busy",
       [](SpiNorState& s) { s.status = kStatusWip, s.busy_until_ns = 9, s.powered_down = 1; }},
      {"read while powered down",
       [](SpiNorState& s) { s.powered_down = 1, s.selected = 1, s.stage = 1, s.opcode = kRead; }},
      {"status bits", [](SpiNorState& s) { s.status = 0x80; }},
      {"address above 24 bits", [](SpiNorState& s) { s.address = 0x1000000; }},
      {"selected not a flag", [](SpiNorState& s) { s.selected = 2; }},
      {"powered_down not a flag", [](SpiNorState& s) { s.powered_down = 7; }},
      {"reset_enabled not a flag", [](SpiNorState& s) { s.reset_enabled = 2; }},
      {"opcode above a byte", [](SpiNorState& s) { s.opcode = 0x102; }},
  };
  for (const Case& c : cases) {
    SpiNorState hostile{};
    c.mutate(hostile);
    auto bytes = migration::save_state_object(spi_nor_state_description(), &hostile);
    ASSERT_TRUE(bytes.ok()) << c.what;
    const Error error =
        migration::load_state_object(spi_nor_state_description(), flash->state_data(), *bytes);
    EXPECT_FALSE(error.ok()) << c.what;
    EXPECT_EQ(std::memcmp(&flash->state(), &before, sizeof before), 0) << c.what;
  }
  // A contents buffer of another size is refused too.
  std::unique_ptr<SpiNorFlash> bigger = make(2 * kMiB);
  auto contents = migration::save_state_object(spi_nor_contents_state_description(),
                                               bigger->contents_state().state_data());
  ASSERT_TRUE(contents.ok());
  EXPECT_FALSE(migration::load_state_object(spi_nor_contents_state_description(),
                                            flash->contents_state().state_data(), *contents)
                   .ok());
  EXPECT_EQ(status(), kStatusWel);  // still working
}

// Random bus traffic (opcodes, stray bytes, CS# toggles, time passing):
// every state the flash reaches passes its own post-load, and a twin that
// loads it (state and contents) at a checkpoint answers every later byte
// exactly like the original.
TEST_F(SpiNorTest, RandomTrafficStatesAreLoadableAndReplayIdentically) {
  uint64_t seed = 0x9E3779B97F4A7C15u;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  const uint8_t opcodes[] = {
      kRead,         kFastRead,    kReadSfdp,    kReadStatus,       kWriteEnable,
      kWriteDisable, kPageProgram, kSectorErase, kBlockErase32,     kBlockErase64,
      kChipErase,    kJedecId,     kPowerDown,   kReleasePowerDown, kReadManufacturerDeviceId,
      0x35,          kResetEnable, kReset};
  std::unique_ptr<SpiNorFlash> twin = make(kMiB);
  auto checkpoint = [&](int step) {
    auto state = migration::save_state_object(spi_nor_state_description(), flash->state_data());
    auto contents = migration::save_state_object(spi_nor_contents_state_description(),
                                                 flash->contents_state().state_data());
    ASSERT_TRUE(state.ok() && contents.ok());
    const Error error =
        migration::load_state_object(spi_nor_state_description(), twin->state_data(), *state);
    ASSERT_TRUE(error.ok()) << error.message() << " at step " << step;
    ASSERT_TRUE(migration::load_state_object(spi_nor_contents_state_description(),
                                             twin->contents_state().state_data(), *contents)
                    .ok());
  };
  for (int step = 0; step < 30000; ++step) {
    if (step % 97 == 0) checkpoint(step);
    const uint64_t r = next();
    switch (r % 10) {
      case 0:
        flash->select();
        twin->select();
        [[fallthrough]];
      case 1: {
        const uint8_t opcode = opcodes[(r >> 8) % std::size(opcodes)];
        ASSERT_EQ(flash->transfer(opcode), twin->transfer(opcode)) << step;
        break;
      }
      case 2:
        flash->deselect();
        twin->deselect();
        break;
      case 3:
        clock.advance_by(static_cast<int64_t>((r >> 8) % 60'000));
        break;
      default: {
        const auto byte = static_cast<uint8_t>(r >> 8);
        ASSERT_EQ(flash->transfer(byte), twin->transfer(byte)) << step;
        break;
      }
    }
  }
  EXPECT_TRUE(
      std::equal(flash->contents().begin(), flash->contents().end(), twin->contents().begin()));
  // The traffic did reach the array (programs landed).
  EXPECT_GT(std::count_if(flash->contents().begin(), flash->contents().end(),
                          [](uint8_t b) { return b != 0xFF; }),
            0);
}

TEST(SpiNorFile, LoadedContentsAreWrittenBackToTheImage) {
  TempDir dir;
  ManualDeviceClock clock;
  auto source = SpiNorFlash::create_erased(clock, kMiB);
  ASSERT_TRUE(source.ok());
  cycle(**source, {kWriteEnable});
  cycle(**source, {kPageProgram, 0x01, 0x00, 0x00, 0x77});
  auto contents = migration::save_state_object(spi_nor_contents_state_description(),
                                               (*source)->contents_state().state_data());
  ASSERT_TRUE(contents.ok());

  const std::string path = dir.file("flash.img");
  write_file(path, std::vector<uint8_t>(kMiB, 0xFF));
  auto target = SpiNorFlash::open(clock, path);
  ASSERT_TRUE(target.ok());
  Stateful& state = (*target)->contents_state();
  ASSERT_TRUE(
      migration::load_state_object(state.state_description(), state.state_data(), *contents).ok());
  state.state_loaded();
  ASSERT_TRUE((*target)->flush().ok());
  EXPECT_EQ(read_file(path)[0x10000], 0x77);
}

}  // namespace
}  // namespace cr16
