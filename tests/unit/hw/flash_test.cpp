#include "hw/flash.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
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

using test::read_file;
using test::TempDir;

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

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> erased_image() {
  return std::vector<uint8_t>(virt::kFlashSize, 0xFF);
}

TEST(Flash, MissingBackingFileIsCreatedOnlyWhenAsked) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  AddressSpace memory;
  auto refused = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find(path), std::string::npos);
  EXPECT_NE(refused.error().message().find("create=on"), std::string::npos);
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // a typo creates nothing
  {
    AddressSpace memory2;
    auto flash = FlashDevice::create(memory2, virt::kFlashBase, path, IrqLine(), true);
    ASSERT_TRUE(flash.has_value()) << flash.error().message();
    EXPECT_EQ(word_at(memory2, virt::kFlashBase), 0xFFFF);
  }
  EXPECT_EQ(read_file(path), erased_image());
}

TEST(Flash, ImageOfAnotherSizeIsRefusedAndLeftAlone) {
  TempDir dir;
  for (size_t size : {size_t{6}, size_t{virt::kFlashSize - 1}, size_t{virt::kFlashSize + 16}}) {
    std::string path = dir.file("odd.img");
    std::vector<uint8_t> bytes(size, 0x41);
    write_file(path, bytes);
    AddressSpace memory;
    auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine(), true);
    ASSERT_FALSE(flash.has_value()) << size;
    const std::string& message = flash.error().message();
    EXPECT_NE(message.find(std::to_string(size) + " bytes"), std::string::npos) << message;
    EXPECT_NE(message.find("1048576 bytes"), std::string::npos) << message;
    EXPECT_EQ(read_file(path), bytes);  // not padded, not truncated
  }
}

TEST(Flash, NonRegularFilesAreRefusedWithoutWaiting) {
  TempDir dir;
  std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, fifo, IrqLine());
  ASSERT_FALSE(flash.has_value());
  EXPECT_NE(flash.error().message().find("not a regular file"), std::string::npos);
  AddressSpace memory2;
  auto directory = FlashDevice::create(memory2, virt::kFlashBase, dir.file(""), IrqLine());
  ASSERT_FALSE(directory.has_value());
  AddressSpace memory3;
  auto missing_dir =
      FlashDevice::create(memory3, virt::kFlashBase, dir.file("no/such/x"), IrqLine(), true);
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_NE(missing_dir.error().message().find("no/such/x"), std::string::npos);
}

TEST(Flash, ALockedImageCannotBeOpenedTwice) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  write_file(path, erased_image());
  AddressSpace memory;
  auto first = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(first.has_value()) << first.error().message();
  AddressSpace memory2;
  auto second = FlashDevice::create(memory2, virt::kFlashBase, path, IrqLine());
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message().find("in use by another process"), std::string::npos)
      << second.error().message();
  first->reset();  // closing the first releases the lock
  AddressSpace memory3;
  EXPECT_TRUE(FlashDevice::create(memory3, virt::kFlashBase, path, IrqLine()).has_value());
}

TEST(Flash, ChangesAreWrittenBackAndSurviveANewMachine) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  std::vector<uint8_t> image = erased_image();
  image[0] = 0x01;
  image[1] = 0x02;
  write_file(path, image);
  {
    AddressSpace memory;
    auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
    ASSERT_TRUE(flash.has_value()) << flash.error().message();
    EXPECT_EQ(word_at(memory, virt::kFlashBase), 0x0201);
    unlock(**flash);
    program(**flash, 0x8000, 0xBEEF);
    EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x8000), 0xBEEF);  // the guest sees it at once
    EXPECT_EQ(read32(**flash, virt::kFlashStatus) & virt::kFlashStatusError, 0u);
    ASSERT_TRUE((*flash)->backing()->flush().ok());
    std::vector<uint8_t> file = read_file(path);
    EXPECT_EQ(file[0x8000], 0xEF);
    EXPECT_EQ(file[0x8001], 0xBE);
    EXPECT_EQ((*flash)->backing()->unsaved_bytes(), 0u);
    program(**flash, 0x9000, 0x1234);  // left for the destructor to save
  }
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x8000), 0xBEEF);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x9000), 0x1234);
  unlock(**flash);
  write32(**flash, virt::kFlashAddr, 0x8000);
  write32(**flash, virt::kFlashCmd, virt::kFlashCmdEraseSector);
  ASSERT_TRUE((*flash)->backing()->flush().ok());
  EXPECT_EQ(read_file(path)[0x8000], 0xFF);
}

TEST(Flash, ManyChangesEndInTheFileInOrder) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  write_file(path, erased_image());
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  unlock(**flash);
  // Erase-all and programs race the writer thread; the last state wins.
  for (int round = 0; round < 20; ++round) {
    write32(**flash, virt::kFlashCmd, virt::kFlashCmdEraseAll);
    for (uint32_t offset = 0; offset < 0x2000; offset += 0x402) {
      program(**flash, offset, static_cast<uint16_t>(round * 0x101 + offset));
    }
  }
  ASSERT_TRUE((*flash)->backing()->flush().ok());
  std::vector<uint8_t> file = read_file(path);
  ASSERT_EQ(file.size(), virt::kFlashSize);
  EXPECT_EQ(0, std::memcmp(file.data(), (*flash)->contents(), virt::kFlashSize));
}

TEST(Flash, HostWriteErrorsStayOffTheGuestAndAreRetried) {
  // A host write error: with RLIMIT_FSIZE below the offset (and SIGXFSZ
  // ignored) every write-back there fails with EFBIG.
  TempDir dir;
  std::string path = dir.file("flash.img");
  write_file(path, erased_image());
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  FlashBacking* backing = (*flash)->backing();
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit tiny = saved;
  tiny.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tiny), 0);
  unlock(**flash);
  program(**flash, 0x80000, 0x5A5A);
  EXPECT_EQ(read32(**flash, virt::kFlashStatus) & virt::kFlashStatusError, 0u);
  EXPECT_NE(read32(**flash, virt::kFlashStatus) & virt::kFlashStatusDone, 0u);
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x80000), 0x5A5A);
  Error error = backing->flush();
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find(path), std::string::npos);
  EXPECT_EQ(backing->unsaved_bytes(), FlashBacking::kBlockSize);
  // Once the host recovers, the next flush saves what was kept.
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(backing->flush().ok());
  EXPECT_EQ(backing->unsaved_bytes(), 0u);
  std::vector<uint8_t> file = read_file(path);
  EXPECT_EQ(file[0x80000], 0x5A);
}

TEST(Flash, LoadImageWritesOnlyChangedBlocksAndRejectsOversizedImages) {
  TempDir dir;
  std::string path = dir.file("fw.img");
  write_file(path, erased_image());
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
  ASSERT_TRUE(flash.has_value());
  std::vector<uint8_t> image = {0x10, 0x20, 0x30, 0x40};
  ASSERT_TRUE((*flash)->load_image(image).ok());
  EXPECT_EQ(word_at(memory, virt::kFlashBase + 2), 0x4030);
  ASSERT_TRUE((*flash)->backing()->flush().ok());
  EXPECT_EQ(read_file(path)[3], 0x40);
  ASSERT_TRUE((*flash)->load_image(image).ok());  // the same again: nothing to write
  EXPECT_EQ((*flash)->backing()->unsaved_bytes(), 0u);
  std::vector<uint8_t> huge(virt::kFlashSize + 1);
  EXPECT_FALSE((*flash)->load_image(huge).ok());
}

}  // namespace
}  // namespace cr16

namespace cr16 {
namespace {

// -snapshot: the image is the base of a throw-away overlay.
TEST(FlashOverlay, GuestProgramsAndErasesNeverReachTheImage) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  std::vector<uint8_t> image(virt::kFlashSize);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 7);
  write_file(path, image);
  {
    AddressSpace memory;
    auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine(), false,
                                     FlashBackingMode::kOverlay);
    ASSERT_TRUE(flash.has_value()) << flash.error().message();
    EXPECT_EQ(word_at(memory, virt::kFlashBase + 2), 0x150e);  // read from the file
    ASSERT_NE((*flash)->backing(), nullptr);
    EXPECT_TRUE((*flash)->backing()->overlay());
    unlock(**flash);
    program(**flash, 0x10, 0x0000);
    write32(**flash, virt::kFlashAddr, 0x8000);
    write32(**flash, virt::kFlashCmd, virt::kFlashCmdEraseSector);
    EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x10), 0x0000);  // the guest sees its writes
    EXPECT_EQ(word_at(memory, virt::kFlashBase + 0x8000), 0xFFFF);
    EXPECT_EQ((*flash)->backing()->overlay_bytes(), 4096u + virt::kFlashSectorSize);
    EXPECT_EQ((*flash)->backing()->unsaved_bytes(), 0u);
    // A writer elsewhere is refused while the overlay reads the file; a
    // second -snapshot user is not.
    AddressSpace other;
    auto writer = FlashDevice::create(other, virt::kFlashBase, path, IrqLine());
    ASSERT_FALSE(writer.has_value());
    EXPECT_NE(writer.error().message().find("in use"), std::string::npos);
    AddressSpace third;
    auto reader = FlashDevice::create(third, virt::kFlashBase, path, IrqLine(), false,
                                      FlashBackingMode::kOverlay);
    EXPECT_TRUE(reader.has_value());
    EXPECT_TRUE((*flash)->backing()->flush().ok());
  }
  EXPECT_EQ(read_file(path), image);
}

TEST(FlashOverlay, AMissingImageWithCreateIsErasedAndNotCreated) {
  TempDir dir;
  std::string path = dir.file("new.img");
  AddressSpace memory;
  auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine(), true,
                                   FlashBackingMode::kOverlay);
  ASSERT_TRUE(flash.has_value()) << flash.error().message();
  EXPECT_EQ(word_at(memory, virt::kFlashBase), 0xFFFF);
  unlock(**flash);
  program(**flash, 0, 0x1234);
  flash->reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(Flash, ContentsALoaderReplacedAreWrittenBack) {
  TempDir dir;
  std::string path = dir.file("flash.img");
  write_file(path, erased_image());
  {
    AddressSpace memory;
    auto flash = FlashDevice::create(memory, virt::kFlashBase, path, IrqLine());
    ASSERT_TRUE(flash.has_value());
    const std::vector<uint8_t> loaded(8192, 0x5A);
    ASSERT_TRUE(
        memory.write_bytes(virt::kFlashBase + 0x3000, loaded, LoaderWrite::kBypassRom).ok());
    (*flash)->array_loaded(0x3000, 8192);
    (*flash)->array_loaded(virt::kFlashSize, 10);  // past the end: ignored
  }
  std::vector<uint8_t> expected = erased_image();
  std::fill_n(expected.begin() + 0x3000, 8192, 0x5A);
  EXPECT_EQ(read_file(path), expected);
}

}  // namespace
}  // namespace cr16
