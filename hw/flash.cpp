#include "hw/flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Writes all of [data, data+length) at `offset`, retrying short writes.
Error write_all_at(int fd, const uint8_t* data, size_t length, off_t offset) {
  while (length > 0) {
    ssize_t written = pwrite(fd, data, length, offset);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("writing the flash file", errno);
    }
    data += written;
    length -= static_cast<size_t>(written);
    offset += written;
  }
  return Error();
}

}  // namespace

void FlashDevice::ArrayWriteHandler::write(uint32_t offset, AccessSize size, uint32_t value) {
  log_printf(LogCategory::kGuestErrors,
             "flash: %u-byte write to the array at offset 0x%05x ignored (use the controller)",
             static_cast<unsigned>(size), offset);
}

FlashDevice::FlashDevice(AddressSpace& memory, uint32_t base, IrqLine done_line)
    : RegisterDevice("flash"), memory_(memory), base_(base), line_(done_line) {}

FlashDevice::~FlashDevice() {
  if (fd_ >= 0) close(fd_);
}

Expected<std::unique_ptr<FlashDevice>> FlashDevice::create(AddressSpace& memory, uint32_t base,
                                                           const std::string& backing_path,
                                                           IrqLine done_line) {
  std::unique_ptr<FlashDevice> flash(new FlashDevice(memory, base, done_line));
  if (!backing_path.empty()) {
    int fd = open(backing_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Error::from_errno("pflash '" + backing_path + "'", errno);
    flash->fd_ = fd;
    flash->path_ = backing_path;
    struct stat info;
    if (fstat(fd, &info) != 0) return Error::from_errno("pflash '" + backing_path + "'", errno);
    if (info.st_size > static_cast<off_t>(virt::kFlashSize)) {
      return Error("pflash '" + backing_path + "' is " + std::to_string(info.st_size) +
                   " bytes, larger than the 1 MiB flash");
    }
  }
  auto array = memory.add_rom_device("flash", base, virt::kFlashSize, &flash->array_writes_);
  if (!array) return array.error();
  flash->array_ = *array;  // erased (0xFF)
  if (flash->fd_ >= 0) {
    size_t have = 0;
    while (have < virt::kFlashSize) {
      ssize_t got = pread(flash->fd_, flash->array_ + have, virt::kFlashSize - have,
                          static_cast<off_t>(have));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Error::from_errno("reading pflash '" + backing_path + "'", errno);
      if (got == 0) break;
      have += static_cast<size_t>(got);
    }
    if (have < virt::kFlashSize) {  // pad a short or new file with erased bytes
      std::memset(flash->array_ + have, 0xFF, virt::kFlashSize - have);
      if (Error error = write_all_at(flash->fd_, flash->array_ + have, virt::kFlashSize - have,
                                     static_cast<off_t>(have));
          !error.ok()) {
        return error.with_context("pflash '" + backing_path + "'");
      }
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
  std::memcpy(array_, image.data(), image.size());
  memory_.note_host_write(base_, static_cast<uint32_t>(image.size()));
  if (fd_ >= 0) {
    if (Error error = write_all_at(fd_, array_, image.size(), 0); !error.ok()) {
      return error.with_context("pflash '" + path_ + "'");
    }
  }
  return Error();
}

void FlashDevice::reset() {
  state_ = FlashState{};
  update_line();
}

bool FlashDevice::commit(uint32_t offset, uint32_t length) {
  memory_.note_host_write(base_ + offset, length);
  if (fd_ < 0) return true;
  if (Error error = write_all_at(fd_, array_ + offset, length, static_cast<off_t>(offset));
      !error.ok()) {
    log_write("flash: %s: %s", path_.c_str(), error.message().c_str());
    return false;
  }
  return true;
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
        ok = commit(offset, 2);
        break;
      case virt::kFlashCmdEraseSector: {
        uint32_t sector = offset & ~(virt::kFlashSectorSize - 1);
        std::memset(array_ + sector, 0xFF, virt::kFlashSectorSize);
        ok = commit(sector, virt::kFlashSectorSize);
        break;
      }
      case virt::kFlashCmdEraseAll:
        std::memset(array_, 0xFF, virt::kFlashSize);
        ok = commit(0, virt::kFlashSize);
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
