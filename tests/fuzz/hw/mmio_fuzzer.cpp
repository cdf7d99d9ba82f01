// libFuzzer target: drives the virt board's devices with arbitrary guest
// accesses, as the records of mmio_records.h: addresses folded into the
// device area, the ICU or the flash; operation 3 is UART or keyboard input.
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
#include "mmio_records.h"

namespace {

using cr16::fuzz::CountingClock;
using cr16::fuzz::SinkBackend;

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
  cr16::fuzz::run_mmio_records(
      {data, size}, fixture.memory(), fixture.clock(), fold_address,
      [](const uint8_t* record, uint32_t value) {
        if (value & 2) {  // a key event of 1-3 scancode bytes
          fixture.keyboard().push_scancodes(std::span<const uint8_t>(record + 5, 1 + value % 3));
        } else {  // up to 4 bytes of UART input
          fixture.serial(value & 1).feed({record + 4, 4});
        }
      });
  return 0;
}
