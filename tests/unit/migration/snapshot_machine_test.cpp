// A whole virt machine to a snapshot image and back: memory, the CPU and
// every device restored; an image that does not fit the machine (another
// RAM size, a damaged state section) refused with the machine unchanged.
#include "migration/snapshot_machine.h"
#include "migration/state_sections.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"

namespace cr16::migration {
namespace {

class SnapshotMachine : public ::testing::Test {
 protected:
  std::unique_ptr<VirtBoard> make_board(uint32_t ram_bytes) {
    BoardConfig config;
    config.ram_bytes = ram_bytes;
    auto created = VirtBoard::create(config, clock);
    EXPECT_TRUE(created.ok()) << created.error().message();
    return std::move(*created);
  }
  static std::vector<uint8_t> ram_of(VirtBoard& board) {
    std::vector<uint8_t> bytes(board.ram_bytes());
    EXPECT_TRUE(board.memory().read_bytes(0, bytes).ok());
    return bytes;
  }
  static std::vector<uint8_t> flash_of(VirtBoard& board) {
    std::vector<uint8_t> bytes(virt::kFlashSize);
    EXPECT_TRUE(board.memory().read_bytes(virt::kFlashBase, bytes).ok());
    return bytes;
  }
  ManualDeviceClock clock;
};

// A device the board lists without a state description blocks savevm (and
// migration, which checks the same list) with an error naming it.
TEST_F(SnapshotMachine, ADeviceWithoutAStateDescriptionBlocksTheSave) {
  auto board = make_board(virt::kRamMinSize);
  std::vector<StateSection> sections = board->state_sections();
  sections.push_back({"camera", 0, nullptr});
  Expected<SnapshotImage> image = capture_machine(sections, board->memory());
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().message(), "device camera.0 has no state description");
  EXPECT_EQ(check_state_sections(sections).message(), "device camera.0 has no state description");
  sections.pop_back();
  EXPECT_TRUE(check_state_sections(sections).ok());
}

TEST_F(SnapshotMachine, RestoresMemoryCpuAndDevicesAndReportsChangedRanges) {
  auto board = make_board(virt::kRamMinSize);
  std::vector<uint8_t> pattern(3 * kPageSize);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 13 + 1);
  ASSERT_TRUE(board->memory().write_bytes(0x2000, pattern).ok());
  board->cpu().state().r[3] = 0x1234;
  std::vector<StateSection> sections = board->state_sections();
  Expected<SnapshotImage> image = capture_machine(sections, board->memory());
  ASSERT_TRUE(image.ok()) << image.error().message();
  const std::vector<uint8_t> ram_before = ram_of(*board);
  const std::vector<uint8_t> flash_before = flash_of(*board);

  // Change RAM (one page), the flash (through a loader) and the CPU.
  const uint8_t junk[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
  ASSERT_TRUE(board->memory().write_bytes(0x3010, junk).ok());
  ASSERT_TRUE(
      board->memory().write_bytes(virt::kFlashBase + 0x5000, junk, LoaderWrite::kBypassRom).ok());
  board->cpu().state().r[3] = 0x4321;

  Expected<std::unique_ptr<SnapshotRestore>> restore =
      SnapshotRestore::prepare(sections, board->memory(), std::move(*image), "snapshot 't'");
  ASSERT_TRUE(restore.ok()) << restore.error().message();
  std::vector<std::tuple<std::string, uint32_t, uint32_t>> changed;
  (*restore)->commit([&](const RamBlock& block, uint32_t offset, uint32_t length) {
    changed.emplace_back(block.name, offset, length);
  });
  EXPECT_EQ((*restore)->pages_written(), 2u);  // only the two pages that differ
  EXPECT_EQ(ram_of(*board), ram_before);
  EXPECT_EQ(flash_of(*board), flash_before);
  EXPECT_EQ(board->cpu().state().r[3], 0x1234u);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0], std::make_tuple(std::string("ram"), 0x3000u, kPageSize));
  EXPECT_EQ(changed[1], std::make_tuple(std::string("flash"), 0x5000u, kPageSize));
}

TEST_F(SnapshotMachine, AnImageOfAnotherRamSizeIsRefusedAndChangesNothing) {
  auto big = make_board(2 * virt::kRamMinSize);
  std::vector<StateSection> big_sections = big->state_sections();
  Expected<SnapshotImage> image = capture_machine(big_sections, big->memory());
  ASSERT_TRUE(image.ok());
  auto small = make_board(virt::kRamMinSize);
  small->cpu().state().r[1] = 77;
  std::vector<StateSection> sections = small->state_sections();
  Expected<std::unique_ptr<SnapshotRestore>> restore =
      SnapshotRestore::prepare(sections, small->memory(), std::move(*image), "snapshot 'big'");
  ASSERT_FALSE(restore.ok());
  EXPECT_NE(restore.error().message().find(
                "snapshot 'big': memory block 'ram' is 128 KiB in the snapshot but 64 KiB in "
                "this machine (start it with the same -m)"),
            std::string::npos)
      << restore.error().message();
  EXPECT_EQ(small->cpu().state().r[1], 77u);
}

TEST_F(SnapshotMachine, ADamagedStateSectionIsRefusedBeforeAnyPageIsWritten) {
  auto board = make_board(virt::kRamMinSize);
  std::vector<StateSection> sections = board->state_sections();
  Expected<SnapshotImage> image = capture_machine(sections, board->memory());
  ASSERT_TRUE(image.ok());
  // A section record's name: "cpu" becomes "cpx", which this machine lacks.
  auto& state = image->state;
  auto at = std::search(state.begin(), state.end(), std::begin("cpu"), std::end("cpu") - 1);
  ASSERT_NE(at, state.end());
  at[2] = 'x';
  const uint8_t junk[4] = {1, 2, 3, 4};
  ASSERT_TRUE(board->memory().write_bytes(0x1000, junk).ok());
  const std::vector<uint8_t> ram = ram_of(*board);
  Expected<std::unique_ptr<SnapshotRestore>> restore =
      SnapshotRestore::prepare(sections, board->memory(), std::move(*image), "snapshot 'd'");
  ASSERT_FALSE(restore.ok());
  EXPECT_NE(restore.error().message().find("cpx"), std::string::npos) << restore.error().message();
  EXPECT_EQ(ram_of(*board), ram);
}

TEST_F(SnapshotMachine, PagesMarkedCurrentAreLeftAlone) {
  auto board = make_board(virt::kRamMinSize);
  std::vector<StateSection> sections = board->state_sections();
  Expected<SnapshotImage> image = capture_machine(sections, board->memory());
  ASSERT_TRUE(image.ok());
  const uint8_t junk[4] = {1, 2, 3, 4};
  ASSERT_TRUE(board->memory().write_bytes(0x1000, junk).ok());
  for (SnapshotBlock& block : image->blocks) block.current.assign(block.pages.size(), true);
  Expected<std::unique_ptr<SnapshotRestore>> restore =
      SnapshotRestore::prepare(sections, board->memory(), std::move(*image), "snapshot 'c'");
  ASSERT_TRUE(restore.ok());
  (*restore)->commit(nullptr);
  EXPECT_EQ((*restore)->pages_written(), 0u);
  uint8_t now[4] = {};
  ASSERT_TRUE(board->memory().read_bytes(0x1000, now).ok());
  EXPECT_EQ(std::memcmp(now, junk, 4), 0);
}

}  // namespace
}  // namespace cr16::migration
