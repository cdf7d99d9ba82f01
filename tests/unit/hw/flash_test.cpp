#include "hw/flash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hw/virt_map.h"
#include "test_helpers.h"

namespace cr16 {
namespace {

using test::read32;
using test::write32;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cr16-flash-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class RecordingListener : public CodeWriteListener {
 public:
  void code_page_written(uint32_t page_index) override { pages.push_back(page_index); }
  std::vector<uint32_t> pages;
};

void unlock(FlashDevice& flash) {
  write32(flash, virt::kFlashKey, virt::kFlashKey1);
  write32(flash, virt::kFlashKey, virt::kFlashKey2);
}

void program(FlashDevice& flash, uint32_t offset, uint16_t value) {
  write32(flash, virt::kFlashAddr, offset);
  write32(flash, virt::kFlashData, value);
  write32(flash, virt::kFlashCmd, virt::kFlashCmdProgram);
}

uint16_t word_at(AddressSpace& memory, uint32_t address) {
  uint32_t value = 0;
  EXPECT_EQ(memory.read_slow(address, AccessSize::kWord, &value), BusStatus::kOk);
  return static_cast<uint16_t>(value);
}

TEST(Flash, StartsErasedAndReadsLikeRom) {
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value()) << flash.error().message();
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x1234), 0xFFFF);
  EXPECT_NE(memory.read_page[virt::kFlashBase >> kPageBits], nullptr);  // executable fast path
  EXPECT_EQ(memory.write_page[virt::kFlashBase >> kPageBits], nullptr);
  EXPECT_EQ(read32(**flash, virt::kFlashSector), virt::kFlashSectorSize);
}

TEST(Flash, CommandsNeedTheUnlockSequence) {
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value());
  FlashDevice& f = **flash;
  program(f, 0x10, 0x1234);
  EXPECT_EQ(read32(f, virt::kFlashStatus), virt::kFlashStatusError);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x10), 0xFFFF);
  write32(f, virt::kFlashStatus, virt::kFlashStatusError);
  // A wrong value between the keys restarts the sequence.
  write32(f, virt::kFlashKey, virt::kFlashKey1);
  write32(f, virt::kFlashKey, 0x1111);
  write32(f, virt::kFlashKey, virt::kFlashKey2);
  EXPECT_EQ(read32(f, virt::kFlashStatus) & virt::kFlashStatusUnlocked, 0u);
  unlock(f);
  EXPECT_NE(read32(f, virt::kFlashStatus) & virt::kFlashStatusUnlocked, 0u);
  program(f, 0x10, 0x1234);
  EXPECT_EQ(read32(f, virt::kFlashStatus), virt::kFlashStatusUnlocked | virt::kFlashStatusDone);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x10), 0x1234);
  // LOCK relocks.
  write32(f, virt::kFlashCtrl, virt::kFlashCtrlLock);
  EXPECT_EQ(read32(f, virt::kFlashCtrl), 0u);
  EXPECT_EQ(read32(f, virt::kFlashStatus) & virt::kFlashStatusUnlocked, 0u);
}

TEST(Flash, ProgramClearsBitsEraseSetsThem) {
  AddressSpace memory;
  test::RecordingIrqSink irqs;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine(&irqs, virt::kIrqFlash));
  ASSERT_TRUE(flash.has_value());
  FlashDevice& f = **flash;
  unlock(f);
  write32(f, virt::kFlashCtrl, virt::kFlashCtrlDoneIe);
  program(f, 0x2000, 0xF0F0);
  EXPECT_TRUE(irqs.levels[virt::kIrqFlash]);
  write32(f, virt::kFlashStatus, virt::kFlashStatusDone);
  EXPECT_FALSE(irqs.levels[virt::kIrqFlash]);
  program(f, 0x2000, 0x3C3C);  // NOR: AND into the old value
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x2000), 0x3030);
  program(f, 0x2FFE, 0x0000);
  program(f, 0x3000, 0x0000);
  write32(f, virt::kFlashAddr, 0x2ABC);
  write32(f, virt::kFlashCmd, virt::kFlashCmdEraseSector);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x2000), 0xFFFF);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x2FFE), 0xFFFF);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x3000), 0x0000);  // next sector untouched
  write32(f, virt::kFlashCmd, virt::kFlashCmdEraseAll);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x3000), 0xFFFF);
}

TEST(Flash, BadCommandsSetErrorAndChangeNothing) {
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value());
  FlashDevice& f = **flash;
  unlock(f);
  program(f, 0x11, 0x0000);  // odd address
  EXPECT_NE(read32(f, virt::kFlashStatus) & virt::kFlashStatusError, 0u);
  EXPECT_EQ(read32(f, virt::kFlashStatus) & virt::kFlashStatusDone, 0u);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x10), 0xFFFF);
  write32(f, virt::kFlashStatus, virt::kFlashStatusError);
  write32(f, virt::kFlashCmd, 9);
  EXPECT_NE(read32(f, virt::kFlashStatus) & virt::kFlashStatusError, 0u);
}

TEST(Flash, GuestWritesToTheArrayAreIgnored) {
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value());
  EXPECT_EQ(memory.write_slow(virt::kFlashBase + 4, AccessSize::kWord, 0), BusStatus::kOk);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 4), 0xFFFF);
}

TEST(Flash, ProgrammingReportsWatchedCodePages) {
  AddressSpace memory;
  RecordingListener listener;
  memory.set_code_write_listener(&listener);
  auto flash = FlashDevice::create(memory, virt::kFlashBase, "", IrqLine());
  ASSERT_TRUE(flash.has_value());
  uint32_t page = (virt::kFlashBase + 0x5000) >> kPageBits;
  memory.watch_code_page(page);
  unlock(**flash);
  program(**flash, 0x5002, 0x0000);
  ASSERT_EQ(listener.pages.size(), 1u);
  EXPECT_EQ(listener.pages[0], page);
}

TEST(Flash, BackingFileIsCreatedPaddedAndWrittenThrough) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  {
    std::ofstream out(path, std::ios::binary);
    out.write("\x01\x02\x03", 3);
  }
  {
    AddressSpace memory;
    auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
    ASSERT_TRUE(flash.has_value()) << flash.error().message();
    EXPECT_EQ(word_at(memory, virt::kFlashBase), 0x0201);
    EXPECT_EQ(word_at(memory, virt::kFlashBase + 2), 0xFF03);
    std::vector<uint8_t> file = read_file(path);
    ASSERT_EQ(file.size(), virt::kFlashSize);
    EXPECT_EQ(file[3], 0xFF);
    unlock(**flash);
    program(**flash, 0x8000, 0xBEEF);
    file = read_file(path);  // written through at once
    EXPECT_EQ(file[0x8000], 0xEF);
    EXPECT_EQ(file[0x8001], 0xBE);
  }
  // A new machine on the same file sees the programmed word.
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x8000), 0xBEEF);
  unlock(**flash);
  write32(**flash, virt::kFlashAddr, 0x8000);
  write32(**flash, virt::kFlashCmd, virt::kFlashCmdEraseSector);
  EXPECT_EQ(read_file(path)[0x8000], 0xFF);
}

TEST(Flash, LoadImagePersistsAndRejectsOversizedImages) {
  TempDir dir;
  std::string path = dir.file("fw.img");
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  std::vector<uint8_t> image = {0x10, 0x20, 0x30, 0x40};
  ASSERT_TRUE((*flash)->load_image(image).ok());
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 2), 0x4030);
  EXPECT_EQ(read_file(path)[3], 0x40);
  std::vector<uint8_t> huge(virt::kFlashSize + 1);
  EXPECT_FALSE((*flash)->load_image(huge).ok());
}

TEST(Flash, OversizedOrUnopenableBackingFileIsAnError) {
  TempDir dir;
  std::string path = dir.file("big.img");
  {
    std::ofstream out(path, std::ios::binary);
    std::vector<char> bytes(virt::kFlashSize + 16, 0);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_FALSE(flash.has_value());
  EXPECT_NE(flash.error().message().find("larger than the 1 MiB flash"), std::string::npos);
  AddressSpace memory2;
  auto missing_dir =
      FlashDevice::create(memory2, virt::kFlashBase, dir.file("no/such/x"), IrqLine());
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_NE(missing_dir.error().message().find("no/such/x"), std::string::npos);
}

}  // namespace
}  // namespace cr16
