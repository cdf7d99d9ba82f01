// libFuzzer target: drives the virt board's devices with arbitrary guest
// accesses. Each 8-byte record is one operation:
//   byte 0: operation (low 2 bits: read, write, advance the clock, UART or
//           keyboard input)
//           and access width (bits 2-3)
//   bytes 1-3: address (folded into the device area, the ICU or the flash)
//   bytes 4-7: value (write data, nanoseconds to advance, or input bytes)
// Time advances in steps of at most 1 ms and stops for the rest of the input
// once devices have armed kArmBudget deadlines: a guest can program a 1 us
// periodic timer, and a second of it would be a million callbacks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hw/display.h"
#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "migration/state_sections.h"

namespace {

class SinkBackend : public cr16::CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override { return bytes.size() / 2; }
  void attach(cr16::CharFrontend* frontend) override { frontend_ = frontend; }
  void frontend_ready() override {}
  cr16::CharFrontend* frontend_ = nullptr;
};

/// A manual clock that counts armed deadlines (each timer callback re-arms).
class CountingClock : public cr16::ManualDeviceClock {
 public:
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override {
    ++arms;
    return ManualDeviceClock::arm(deadline_ns, std::move(callback));
  }
  uint64_t arms = 0;
};

constexpr uint64_t kArmBudget = 5'000;
constexpr int64_t kAdvanceStepNs = 1'000'000;

uint32_t fold_address(uint32_t raw) {
  switch (raw >> 22) {
    case 0:
      return cr16::virt::kSysctlBase + (raw & 0x1FFF);  // sysctl .. keyboard, holes, display
    case 1:
      return cr16::virt::kIcuBase + (raw & 0x3FF);
    case 2:
      return cr16::virt::kFlashBase + (raw & 0xFFFFF);
    default:
      return raw & 0xFFFFFF;
  }
}

// One board for the whole process, brought back to the same state before
// every input (building a board per input costs ~10 ms under ASan): the
// device clock restarted, device state loaded through the state engine
// (which re-arms deadlines in state_loaded()), RAM and flash contents
// copied back.
class Fixture {
 public:
  Fixture() {
    cr16::VirtConfig config;
    config.ram_bytes = cr16::virt::kRamMinSize;
    config.serial = {&serial0_, &serial1_};
    board_ = std::move(cr16::VirtBoard::create(config, clock_).value());
    board_->set_poweroff_handler([](int) {});
    board_->set_reset_request_handler([this] { board_->reset(cr16::virt::kFlashBase); });
    board_->reset(cr16::virt::kFlashBase);
    sections_ = {{"icu", 0, &board_->icu()},           {"sysctl", 0, &board_->sysctl()},
                 {"uart", 0, &board_->uart(0)},        {"uart", 1, &board_->uart(1)},
                 {"timer", 0, &board_->timer()},       {"rtc", 0, &board_->rtc()},
                 {"watchdog", 0, &board_->watchdog()}, {"flash", 0, &board_->flash()},
                 {"display", 0, &board_->display()},   {"keyboard", 0, &board_->keyboard()}};
    device_state_ = std::move(cr16::migration::save_state_sections(sections_).value());
    ram_ = memory().host_pointer(0, cr16::virt::kRamMinSize);
    pristine_ram_.assign(ram_, ram_ + cr16::virt::kRamMinSize);
    const uint8_t* flash = board_->flash().contents();
    pristine_flash_.assign(flash, flash + cr16::virt::kFlashSize);
  }

  void restore() {
    clock_.restart(0);
    if (cr16::Error error = cr16::migration::load_state_sections(sections_, device_state_);
        !error.ok()) {
      __builtin_trap();  // our own saved state must load
    }
    std::copy(pristine_ram_.begin(), pristine_ram_.end(), ram_);
    (void)board_->flash().load_image(pristine_flash_);
  }

  cr16::AddressSpace& memory() { return board_->memory(); }
  CountingClock& clock() { return clock_; }
  SinkBackend& serial(unsigned index) { return index ? serial1_ : serial0_; }
  cr16::KeyboardDevice& keyboard() { return board_->keyboard(); }

 private:
  CountingClock clock_;
  SinkBackend serial0_, serial1_;
  std::unique_ptr<cr16::VirtBoard> board_;
  std::vector<cr16::StateSection> sections_;
  std::vector<uint8_t> device_state_;  // the sections after reset
  uint8_t* ram_ = nullptr;
  std::vector<uint8_t> pristine_ram_, pristine_flash_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  fixture.restore();
  cr16::AddressSpace& memory = fixture.memory();
  const uint64_t arms_at_start = fixture.clock().arms;
  for (size_t at = 0; at + 8 <= size; at += 8) {
    const uint8_t* record = data + at;
    uint32_t address = fold_address(record[1] | (record[2] << 8) | (record[3] << 16));
    uint32_t value = record[4] | (record[5] << 8) | (record[6] << 16) | (uint32_t{record[7]} << 24);
    static constexpr cr16::AccessSize kSizes[] = {cr16::AccessSize::kByte, cr16::AccessSize::kWord,
                                                  cr16::AccessSize::kDword,
                                                  cr16::AccessSize::kWord};
    cr16::AccessSize width = kSizes[(record[0] >> 2) & 3];
    switch (record[0] & 3) {
      case 0: {
        uint32_t out = 0;
        (void)memory.read_slow(address, width, &out);
        break;
      }
      case 1:
        (void)memory.write_slow(address, width, value);
        break;
      case 2: {
        int64_t remaining = value & 0x3FFFFFFF;
        while (remaining > 0 && fixture.clock().arms - arms_at_start < kArmBudget) {
          const int64_t step = remaining < kAdvanceStepNs ? remaining : kAdvanceStepNs;
          fixture.clock().advance_by(step);
          remaining -= step;
        }
        break;
      }
      case 3: {
        if (value & 2) {  // a key event of 1-3 scancode bytes
          fixture.keyboard().push_scancodes(std::span<const uint8_t>(record + 5, 1 + value % 3));
          break;
        }
        cr16::CharFrontend* frontend = fixture.serial(value & 1).frontend_;
        size_t room = frontend != nullptr ? frontend->can_receive() : 0;
        if (room > 0) frontend->receive(std::span<const uint8_t>(record + 4, room < 4 ? room : 4));
        break;
      }
    }
  }
  return 0;
}
