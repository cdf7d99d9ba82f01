// The virt board's 1 MiB NOR flash at 0xE00000 and its controller
// (docs/virt.md section 9). The array is mapped as a ROM device (reads and
// execution on the fast path, guest writes ignored); the controller programs
// and erases it after an unlock sequence. With a backing file (-pflash) the
// array is loaded from it and every change is written back to it
// asynchronously (hw/flash_backing.h): the in-memory array is what the guest
// sees, and a host I/O error never becomes a guest-visible flash error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "hw/address_space.h"
#include "hw/device_state.h"
#include "hw/flash_backing.h"
#include "hw/irq.h"
#include "hw/register_device.h"

namespace cr16 {

struct FlashState {
  uint32_t key_step = 0;  // 1 after FLASH_KEY1 was written
  uint32_t unlocked = 0;
  uint32_t addr = 0;
  uint32_t data = 0;
  uint32_t status = 0;  // ERROR | DONE (BUSY is never set; UNLOCKED comes from `unlocked`)
  uint32_t ctrl = 0;    // DONE_IE
};
static_assert(std::has_unique_object_representations_v<FlashState>);

/// Section "flash" (the controller; the array's contents travel with the
/// memory, not in this section), version 1.
const StateDescription& flash_state_description();

class FlashDevice : public RegisterDevice, public Stateful {
 public:
  /// Maps the array at `base` in `memory` (size virt::kFlashSize). With a
  /// non-empty `backing_path` the array is loaded from that file, which must
  /// be a regular file of exactly the flash size and is locked for this
  /// process (FlashBacking::open); a missing file is an error unless
  /// `create_missing` (then an erased image is created). The file is never
  /// resized or padded. Without a path the array starts erased (0xFF).
  /// With FlashBackingMode::kOverlay (-snapshot) the file is only read:
  /// every change stays in memory and the file is left byte for byte as it
  /// was.
  static Expected<std::unique_ptr<FlashDevice>> create(
      AddressSpace& memory, uint32_t base, const std::string& backing_path, IrqLine done_line,
      bool create_missing = false, FlashBackingMode mode = FlashBackingMode::kWriteBack);
  /// Waits for the backing file's pending write-backs (nothing is lost).
  ~FlashDevice() override;

  /// Copies `image` to the start of the array (a firmware image, -bios);
  /// with a backing file the 4 KiB blocks that differ are written back to it.
  /// Error: larger than the flash.
  Error load_image(std::span<const uint8_t> image);

  /// The backing file, or nullptr (tests, flushing before exit).
  FlashBacking* backing() { return backing_.get(); }

  /// A loader (loadvm, an incoming migration) replaced [offset,
  /// offset+length) of the array through the address space (code
  /// invalidation and the dirty log were told already): the new contents
  /// are the truth and go to the backing file like a guest's program or
  /// erase would (an overlay keeps them in memory).
  void array_loaded(uint32_t offset, uint32_t length);

  /// Controller back to reset values (locked, status clear); contents kept.
  void reset();

  /// The array's host memory (virt::kFlashSize bytes).
  const uint8_t* contents() const { return array_; }
  uint32_t base() const { return base_; }
  const FlashState& state() const { return state_; }

  const StateDescription& state_description() const override;
  void* state_data() override { return &state_; }
  /// Drives the DONE line from the loaded state.
  void state_loaded() override;

 protected:
  uint32_t read_register(uint32_t reg, bool side_effects) override;
  void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) override;

 private:
  /// Receives guest writes to the array: they are ignored and logged.
  class ArrayWriteHandler : public MmioDevice {
   public:
    uint32_t read(uint32_t offset, AccessSize size) override { return 0; }
    void write(uint32_t offset, AccessSize size, uint32_t value) override;
  };

  FlashDevice(AddressSpace& memory, uint32_t base, IrqLine done_line);
  void run_command(uint32_t command);
  /// Marks [offset, offset+length) changed: code invalidation, dirty log,
  /// and a write-back to the backing file (never waits, never fails).
  void commit(uint32_t offset, uint32_t length);
  void update_line();

  AddressSpace& memory_;
  uint32_t base_;
  IrqLine line_;
  uint8_t* array_ = nullptr;
  std::unique_ptr<FlashBacking> backing_;
  ArrayWriteHandler array_writes_;
  FlashState state_;
};

}  // namespace cr16
