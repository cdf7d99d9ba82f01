#include "hw/flash.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr StateField kFlashFields[] = {
    CR16_STATE_FIELD(FlashState, key_step).mask(1),
    CR16_STATE_FIELD(FlashState, unlocked).mask(1),
    CR16_STATE_FIELD(FlashState, addr).mask(virt::kFlashAddrMask),
    CR16_STATE_FIELD(FlashState, data).mask(virt::kFlashDataMask),
    CR16_STATE_FIELD(FlashState, status).mask(virt::kFlashStatusError | virt::kFlashStatusDone),
    CR16_STATE_FIELD(FlashState, ctrl).mask(virt::kFlashCtrlDoneIe),
};

// addr is masked to the array (commands index it after masking again and
// keep a programmed halfword inside); the other fields are flags.
Error validate_flash(void*) {
  return Error();
}

const StateDescription kFlashDescription = {
    "flash", 1, 1, sizeof(FlashState), kFlashFields, {}, validate_flash};

}  // namespace

void FlashDevice::ArrayWriteHandler::write(uint32_t offset, AccessSize size, uint32_t value) {
  log_printf(LogCategory::kGuestErrors,
             "flash: %u-byte write to the array at offset 0x%05x ignored (use the controller)",
             static_cast<unsigned>(size), offset);
}

FlashDevice::FlashDevice(AddressSpace& memory, uint32_t base, IrqLine done_line)
    : RegisterDevice("flash"), memory_(memory), base_(base), line_(done_line) {}

FlashDevice::~FlashDevice() = default;  // backing_ flushes its queued writes

Expected<std::unique_ptr<FlashDevice>> FlashDevice::create(AddressSpace& memory, uint32_t base,
                                                           const std::string& backing_path,
                                                           IrqLine done_line, bool create_missing,
                                                           FlashBackingMode mode) {
  std::unique_ptr<FlashDevice> flash(new FlashDevice(memory, base, done_line));
  if (!backing_path.empty()) {
    Expected<std::unique_ptr<FlashBacking>> backing =
        FlashBacking::open(backing_path, virt::kFlashSize, create_missing, mode);
    if (!backing) return backing.error();
    flash->backing_ = std::move(*backing);
  }
  auto array = memory.add_rom_device("flash", base, virt::kFlashSize, &flash->array_writes_);
  if (!array) return array.error();
  flash->array_ = *array;  // erased (0xFF)
  if (flash->backing_) {
    if (Error error = flash->backing_->read(std::span(flash->array_, virt::kFlashSize));
        !error.ok()) {
      return error;
    }
    memory.note_host_write(base, virt::kFlashSize);
  }
  return flash;
}

Error FlashDevice::load_image(std::span<const uint8_t> image) {
  if (image.size() > virt::kFlashSize) {
    return Error("firmware image is " + std::to_string(image.size()) +
                 " bytes, larger than the 1 MiB flash");
  }
  if (image.empty()) return Error();
  // Only blocks whose contents change are written back: booting the same
  // -bios over a -pflash image again leaves the file untouched.
  constexpr uint32_t kBlock = FlashBacking::kBlockSize;
  const uint32_t size = static_cast<uint32_t>(image.size());
  for (uint32_t offset = 0; offset < size; offset += kBlock) {
    uint32_t length = std::min(kBlock, size - offset);
    if (std::memcmp(array_ + offset, image.data() + offset, length) == 0) continue;
    std::memcpy(array_ + offset, image.data() + offset, length);
    commit(offset, length);
  }
  return Error();
}

void FlashDevice::array_loaded(uint32_t offset, uint32_t length) {
  if (offset >= virt::kFlashSize) return;
  length = std::min(length, virt::kFlashSize - offset);
  if (backing_ && length > 0) backing_->changed(array_, offset, length);
}

void FlashDevice::reset() {
  state_ = FlashState{};
  update_line();
}

void FlashDevice::commit(uint32_t offset, uint32_t length) {
  memory_.note_host_write(base_ + offset, length);
  if (backing_) backing_->changed(array_, offset, length);
}

void FlashDevice::run_command(uint32_t command) {
  bool ok = state_.unlocked != 0;
  uint32_t offset = state_.addr & virt::kFlashAddrMask;
  if (ok) {
    switch (command) {
      case virt::kFlashCmdProgram:
        if (offset & 1) {
          ok = false;
          break;
        }
        array_[offset] &= static_cast<uint8_t>(state_.data);
        array_[offset + 1] &= static_cast<uint8_t>(state_.data >> 8);
        commit(offset, 2);
        break;
      case virt::kFlashCmdEraseSector: {
        uint32_t sector = offset & ~(virt::kFlashSectorSize - 1);
        std::memset(array_ + sector, 0xFF, virt::kFlashSectorSize);
        commit(sector, virt::kFlashSectorSize);
        break;
      }
      case virt::kFlashCmdEraseAll:
        std::memset(array_, 0xFF, virt::kFlashSize);
        commit(0, virt::kFlashSize);
        break;
      default:
        ok = false;
        break;
    }
  }
  if (ok) {
    state_.status |= virt::kFlashStatusDone;
  } else {
    state_.status |= virt::kFlashStatusError;
    log_printf(LogCategory::kGuestErrors, "flash: command %u at offset 0x%05x failed (%s)", command,
               offset, state_.unlocked ? "bad command or address" : "locked");
  }
  update_line();
}

void FlashDevice::update_line() {
  line_.set((state_.status & virt::kFlashStatusDone) && (state_.ctrl & virt::kFlashCtrlDoneIe));
}

uint32_t FlashDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kFlashKey:
    case virt::kFlashCmd:
      return 0;
    case virt::kFlashAddr:
      return state_.addr;
    case virt::kFlashData:
      return state_.data;
    case virt::kFlashStatus:
      return state_.status | (state_.unlocked ? virt::kFlashStatusUnlocked : 0);
    case virt::kFlashCtrl:
      return state_.ctrl;
    case virt::kFlashSector:
      return virt::kFlashSectorSize;
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void FlashDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kFlashKey:
      if (state_.key_step == 1 && value == virt::kFlashKey2) {
        state_.unlocked = 1;
        state_.key_step = 0;
      } else {
        state_.key_step = value == virt::kFlashKey1 ? 1 : 0;
      }
      return;
    case virt::kFlashAddr:
      state_.addr = merge(state_.addr, value, byte_mask) & virt::kFlashAddrMask;
      return;
    case virt::kFlashData:
      state_.data = merge(state_.data, value, byte_mask) & virt::kFlashDataMask;
      return;
    case virt::kFlashCmd:
      run_command(value);
      return;
    case virt::kFlashStatus:
      state_.status &= ~(value & (virt::kFlashStatusError | virt::kFlashStatusDone));
      update_line();
      return;
    case virt::kFlashCtrl: {
      uint32_t written = merge(state_.ctrl, value, byte_mask);
      state_.ctrl = written & virt::kFlashCtrlDoneIe;
      if ((byte_mask & 0xFF) && (value & virt::kFlashCtrlLock)) {
        state_.unlocked = 0;
        state_.key_step = 0;
      }
      update_line();
      return;
    }
    case virt::kFlashSector:
      return;  // read-only
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& flash_state_description() {
  return kFlashDescription;
}

const StateDescription& FlashDevice::state_description() const {
  return kFlashDescription;
}

void FlashDevice::state_loaded() {
  update_line();
}

}  // namespace cr16
