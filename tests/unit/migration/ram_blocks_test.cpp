// The memory blocks a machine saves: RAM and the flash array of the virt
// board, zero-page detection, and loading pages that never leave a block
// and that invalidate predecoded code like any loader write.
#include "migration/ram_blocks.h"

#include <gtest/gtest.h>

#include <vector>

#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"

namespace cr16::migration {
namespace {

class RamBlocks : public ::testing::Test {
 protected:
  void SetUp() override {
    BoardConfig config;
    config.ram_bytes = virt::kRamMinSize;
    auto created = VirtBoard::create(config, clock);
    ASSERT_TRUE(created.ok()) << created.error().message();
    board = std::move(*created);
  }
  ManualDeviceClock clock;
  std::unique_ptr<VirtBoard> board;
};

TEST_F(RamBlocks, ListsRamAndTheFlashArrayButNoDevices) {
  std::vector<RamBlock> blocks = ram_blocks(board->memory());
  ASSERT_EQ(blocks.size(), 2u);
  const RamBlock* ram = find_ram_block(blocks, "ram");
  ASSERT_NE(ram, nullptr);
  EXPECT_EQ(ram->base, 0u);
  EXPECT_EQ(ram->size, virt::kRamMinSize);
  EXPECT_FALSE(ram->read_only);
  const RamBlock* flash = find_ram_block(blocks, "flash");
  ASSERT_NE(flash, nullptr);
  EXPECT_EQ(flash->base, virt::kFlashBase);
  EXPECT_EQ(flash->size, virt::kFlashSize);
  EXPECT_TRUE(flash->read_only);
  EXPECT_EQ(find_ram_block(blocks, "uart0"), nullptr);
}

TEST_F(RamBlocks, ZeroPagesAreRecognised) {
  std::vector<uint8_t> page(kPageSize, 0);
  EXPECT_TRUE(page_is_zero(page.data()));
  page[kPageSize - 1] = 1;
  EXPECT_FALSE(page_is_zero(page.data()));
}

TEST_F(RamBlocks, LoadingAPageWritesItAndDropsPredecodedCode) {
  const RamBlock ram = *find_ram_block(ram_blocks(board->memory()), "ram");
  // movw $0, r4 / br . at address 0x1000, run once so its block is cached.
  const uint8_t loop[] = {0x04, 0x5a, 0xff, 0x1f};
  ASSERT_TRUE(board->memory().write_bytes(0x1000, loop).ok());
  board->cpu().reset(0x1000);
  board->cpu().run(4);
  ASSERT_TRUE(board->memory().code_page_watched(1));
  std::vector<uint8_t> page(kPageSize, 0x11);
  ASSERT_TRUE(load_page(board->memory(), ram, 1, page).ok());
  EXPECT_EQ(ram.page(1)[0], 0x11);
  EXPECT_FALSE(board->memory().code_page_watched(1));  // the cached code was dropped
  ASSERT_TRUE(load_page(board->memory(), ram, 1, {}).ok());
  EXPECT_TRUE(page_is_zero(ram.page(1)));
}

TEST_F(RamBlocks, BadPagesAreRefusedAndWriteNothing) {
  const RamBlock ram = *find_ram_block(ram_blocks(board->memory()), "ram");
  std::vector<uint8_t> page(kPageSize, 0x22);
  Error error = load_page(board->memory(), ram, ram.page_count(), page);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("past its end"), std::string::npos) << error.message();
  std::vector<uint8_t> short_page(100, 0x22);
  error = load_page(board->memory(), ram, 0, short_page);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("100 bytes"), std::string::npos) << error.message();
  EXPECT_TRUE(page_is_zero(ram.page(0)));
}

}  // namespace
}  // namespace cr16::migration
