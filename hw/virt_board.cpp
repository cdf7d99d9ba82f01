#include "hw/virt_board.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "hw/board_requests.h"
#include "hw/display.h"
#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/keyboard.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "util/log.h"

namespace cr16 {
namespace {

/// rtc-base=now|SECONDS: the RTC's reading at power-on.
Expected<uint32_t> parse_rtc_base(std::string_view value) {
  if (value == "now" || value == "utc") return static_cast<uint32_t>(std::time(nullptr));
  uint32_t seconds = 0;
  auto result = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || result.ec != std::errc() || result.ptr != value.data() + value.size()) {
    return Error("bad value '" + std::string(value) + "' (now, or seconds since 1970 below 2^32)");
  }
  return seconds;
}

Error check_rtc_base(std::string_view value) {
  Expected<uint32_t> seconds = parse_rtc_base(value);
  return seconds ? Error() : seconds.error();
}

constexpr BoardProperty kVirtProperties[] = {
    {"rtc-base", "now|SECONDS: the RTC reading at power-on (default now)", check_rtc_base},
};

Expected<std::unique_ptr<Board>> create_virt(const BoardConfig& config, DeviceClock& clock) {
  Expected<std::unique_ptr<VirtBoard>> board = VirtBoard::create(config, clock);
  if (!board) return board.error();
  return std::unique_ptr<Board>(std::move(*board));
}

constexpr BoardType kVirtType = {
    .name = "virt",
    .description =
        "CR16 virtual board: RAM at 0, 1 MiB flash at 0xE00000, 2 UARTs, timer, RTC, watchdog, "
        "display, keyboard",
    .is_default = true,
    .limits =
        {
            .ram_min = virt::kRamMinSize,
            .ram_max = virt::kRamMaxSize,
            .ram_default = virt::kRamDefaultSize,
            .ram_granule = kPageSize,
            .flash_base = virt::kFlashBase,
            .flash_size = virt::kFlashSize,
            .serial_ports = 2,
            .default_cpu = CpuModel::kCr16cPlus,
            .default_firmware = "virt-firmware.bin",
        },
    .properties = kVirtProperties,
    .create = create_virt,
};

}  // namespace

const BoardType& virt_board_type() {
  return kVirtType;
}

struct VirtBoard::Parts {
  explicit Parts(DeviceClock& device_clock) : clock(device_clock) {}

  DeviceClock& clock;
  VirtConfig config;
  AddressSpace memory;  // before the CPU and devices: they refer to it
  std::unique_ptr<Cpu> cpu;
  IcuDevice icu;
  std::unique_ptr<SysctlDevice> sysctl;
  std::unique_ptr<UartDevice> uart[2];
  std::unique_ptr<TimerDevice> timer;
  std::unique_ptr<RtcDevice> rtc;
  std::unique_ptr<WatchdogDevice> watchdog;
  std::unique_ptr<FlashDevice> flash;
  std::unique_ptr<DisplayDevice> display;
  std::unique_ptr<KeyboardDevice> keyboard;

  uint32_t reset_pc = virt::kFlashBase;

  std::optional<BoardRequests> requests;  // made once the board exists (it resets it)
  uint32_t next_reset_cause = virt::kResetCausePowerOn;
};

VirtBoard::VirtBoard() = default;
VirtBoard::~VirtBoard() = default;

Expected<std::unique_ptr<VirtBoard>> VirtBoard::create(const BoardConfig& requested,
                                                       DeviceClock& clock) {
  BoardConfig config = requested;
  if (config.ram_bytes == 0) config.ram_bytes = virt::kRamDefaultSize;
  if (Error error = check_ram_size(kVirtType, config.ram_bytes); !error.ok()) {
    return error.with_context("virt: RAM size " + format_size(config.ram_bytes));
  }
  if (config.serial.size() > kVirtType.limits.serial_ports) {
    return Error("virt: " + std::to_string(config.serial.size()) +
                 " serial backends for 2 serial ports");
  }
  config.serial.resize(kVirtType.limits.serial_ports, nullptr);
  uint32_t rtc_seconds = static_cast<uint32_t>(std::time(nullptr));
  for (const auto& [name, value] : config.properties) {
    if (Error error = check_board_property(kVirtType, name, value); !error.ok()) {
      return error.with_context("virt");
    }
    if (name == "rtc-base") rtc_seconds = *parse_rtc_base(value);
  }
  if (config.bios_image.size() > virt::kFlashSize) {
    return Error("virt: firmware image is " + std::to_string(config.bios_image.size()) +
                 " bytes, larger than the 1 MiB flash");
  }
  std::unique_ptr<VirtBoard> board(new VirtBoard());
  board->parts_ = std::make_unique<Parts>(clock);
  Parts& p = *board->parts_;
  p.config = config;

  auto ram = p.memory.add_ram("ram", virt::kRamBase, config.ram_bytes);
  if (!ram) return ram.error();
  p.cpu = std::make_unique<Cpu>(p.memory, config.cpu_model);

  p.icu.set_irq_output([cpu = p.cpu.get()](bool level) { cpu->set_irq_line(level); });
  p.icu.set_nmi_output([cpu = p.cpu.get()] { cpu->raise_nmi(); });

  bool plus = config.cpu_model == CpuModel::kCr16cPlus;
  p.sysctl = std::make_unique<SysctlDevice>(
      SysctlConfig{config.ram_bytes, plus ? virt::kSysCpuModelCr16cPlus : virt::kSysCpuModelCr16c,
                   plus ? "CR16C+" : "CR16C"},
      IrqLine(&p.icu, virt::kIrqPowerButton));
  p.uart[0] = std::make_unique<UartDevice>("uart0", clock, config.serial[0],
                                           IrqLine(&p.icu, virt::kIrqUart0Rx),
                                           IrqLine(&p.icu, virt::kIrqUart0Tx));
  p.uart[1] = std::make_unique<UartDevice>("uart1", clock, config.serial[1],
                                           IrqLine(&p.icu, virt::kIrqUart1Rx),
                                           IrqLine(&p.icu, virt::kIrqUart1Tx));
  p.timer = std::make_unique<TimerDevice>(
      clock,
      std::array<IrqLine, 2>{IrqLine(&p.icu, virt::kIrqTimer0), IrqLine(&p.icu, virt::kIrqTimer1)});
  p.rtc = std::make_unique<RtcDevice>(clock, rtc_seconds, IrqLine(&p.icu, virt::kIrqRtc));
  p.watchdog = std::make_unique<WatchdogDevice>(clock);
  p.display = std::make_unique<DisplayDevice>(clock, p.memory, IrqLine(&p.icu, virt::kIrqDisplay));
  p.keyboard = std::make_unique<KeyboardDevice>(IrqLine(&p.icu, virt::kIrqKeyboard));
  auto flash = FlashDevice::create(
      p.memory, virt::kFlashBase, config.pflash_path, IrqLine(&p.icu, virt::kIrqFlash),
      config.pflash_create,
      config.pflash_overlay ? FlashBackingMode::kOverlay : FlashBackingMode::kWriteBack);
  if (!flash) return flash.error();
  p.flash = std::move(*flash);
  if (Error error = p.flash->load_image(config.bios_image); !error.ok()) return error;

  struct Window {
    const char* name;
    uint32_t base;
    uint32_t size;
    MmioDevice* device;
  };
  const Window windows[] = {
      {"sysctl", virt::kSysctlBase, virt::kDeviceWindow, p.sysctl.get()},
      {"uart0", virt::kUart0Base, virt::kDeviceWindow, p.uart[0].get()},
      {"uart1", virt::kUart1Base, virt::kDeviceWindow, p.uart[1].get()},
      {"timer", virt::kTimerBase, virt::kDeviceWindow, p.timer.get()},
      {"rtc", virt::kRtcBase, virt::kDeviceWindow, p.rtc.get()},
      {"watchdog", virt::kWatchdogBase, virt::kDeviceWindow, p.watchdog.get()},
      {"flash-control", virt::kFlashControlBase, virt::kDeviceWindow, p.flash.get()},
      {"keyboard", virt::kKeyboardBase, virt::kDeviceWindow, p.keyboard.get()},
      {"display", virt::kDisplayBase, virt::kDisplaySize, p.display.get()},
      {"icu", virt::kIcuBase, virt::kIcuSize, &p.icu},
  };
  for (const Window& window : windows) {
    if (Error error = p.memory.add_mmio(window.name, window.base, window.size, window.device);
        !error.ok()) {
      return error;
    }
  }

  VirtBoard* self = board.get();
  p.requests.emplace([self] { self->reset(); });
  p.sysctl->set_poweroff_handler(
      [self](int code) { self->parts_->requests->request_poweroff(code); });
  p.sysctl->set_reset_handler([self] {
    self->parts_->next_reset_cause = virt::kResetCauseSoftware;
    self->parts_->requests->request_reset();
  });
  p.watchdog->set_expiry_handler([self] {
    self->parts_->next_reset_cause = virt::kResetCauseWatchdog;
    self->parts_->requests->request_reset();
  });

  p.cpu->reset(virt::kFlashBase);
  return board;
}

const BoardType& VirtBoard::type() const {
  return kVirtType;
}

AddressSpace& VirtBoard::memory() {
  return parts_->memory;
}
Cpu& VirtBoard::cpu() {
  return *parts_->cpu;
}
uint32_t VirtBoard::flash_base() const {
  return virt::kFlashBase;
}
uint32_t VirtBoard::ram_bytes() const {
  return parts_->config.ram_bytes;
}

void VirtBoard::set_reset_pc(uint32_t pc) {
  parts_->reset_pc = pc;
}

uint32_t VirtBoard::reset_pc() const {
  return parts_->reset_pc;
}

void VirtBoard::reset(uint32_t reset_pc) {
  set_reset_pc(reset_pc);
  reset();
}

void VirtBoard::reset() {
  Parts& p = *parts_;
  uint32_t cause = p.next_reset_cause;
  p.next_reset_cause = virt::kResetCauseExternal;
  p.icu.reset();
  p.sysctl->reset(cause);
  for (auto& uart : p.uart) uart->reset();
  p.timer->reset();
  p.rtc->reset();
  p.watchdog->reset(cause == virt::kResetCauseWatchdog);
  p.flash->reset();
  p.display->reset();
  p.keyboard->reset();
  p.requests->clear_pending_reset();
  p.cpu->reset(p.reset_pc);
}

void VirtBoard::request_powerdown() {
  parts_->sysctl->press_power_button();
}

void VirtBoard::set_panic_handler(std::function<void(const std::string&)> handler) {
  parts_->requests->set_panic_handler(std::move(handler));
}

void VirtBoard::set_poweroff_handler(std::function<void(int)> handler) {
  parts_->requests->set_poweroff_handler(std::move(handler));
}

void VirtBoard::set_reset_request_handler(std::function<void()> handler) {
  parts_->requests->set_reset_request_handler(std::move(handler));
}

StopReason VirtBoard::run_slice(uint64_t budget) {
  return parts_->requests->run_slice(*parts_->cpu, budget);
}

std::vector<StatefulDevice*> VirtBoard::stateful_devices() {
  Parts& p = *parts_;
  return {&p.icu,      p.sysctl.get(),   p.uart[0].get(), p.uart[1].get(), p.timer.get(),
          p.rtc.get(), p.watchdog.get(), p.flash.get(),   p.display.get(), p.keyboard.get()};
}

std::vector<StateSection> VirtBoard::state_sections() {
  Parts& p = *parts_;
  return {
      {"cpu", 0, p.cpu.get()},           {"icu", 0, &p.icu},
      {"sysctl", 0, p.sysctl.get()},     {"uart", 0, p.uart[0].get()},
      {"uart", 1, p.uart[1].get()},      {"timer", 0, p.timer.get()},
      {"rtc", 0, p.rtc.get()},           {"watchdog", 0, p.watchdog.get()},
      {"flash", 0, p.flash.get()},       {"display", 0, p.display.get()},
      {"keyboard", 0, p.keyboard.get()},
  };
}

std::vector<BoardDevice> VirtBoard::devices() const {
  return {
      {"sysctl", "sysctl", virt::kSysctlBase, virt::kDeviceWindow},
      {"uart0", "uart", virt::kUart0Base, virt::kDeviceWindow},
      {"uart1", "uart", virt::kUart1Base, virt::kDeviceWindow},
      {"timer", "timer", virt::kTimerBase, virt::kDeviceWindow},
      {"rtc", "rtc", virt::kRtcBase, virt::kDeviceWindow},
      {"watchdog", "watchdog", virt::kWatchdogBase, virt::kDeviceWindow},
      {"flash-control", "flash", virt::kFlashControlBase, virt::kDeviceWindow},
      {"keyboard", "keyboard", virt::kKeyboardBase, virt::kDeviceWindow},
      {"flash", "flash-array", virt::kFlashBase, virt::kFlashSize},
      {"display", "display", virt::kDisplayBase, virt::kDisplaySize},
      {"icu", "icu", virt::kIcuBase, virt::kIcuSize},
  };
}

IcuDevice& VirtBoard::icu() {
  return parts_->icu;
}
UartDevice& VirtBoard::uart(unsigned index) {
  if (index >= 2) {  // a programming error, never guest-reachable
    std::fprintf(stderr, "cr16-system: internal error: virt has UARTs 0 and 1, not UART %u\n",
                 index);
    std::abort();
  }
  return *parts_->uart[index];
}
TimerDevice& VirtBoard::timer() {
  return *parts_->timer;
}
RtcDevice& VirtBoard::rtc() {
  return *parts_->rtc;
}
SysctlDevice& VirtBoard::sysctl() {
  return *parts_->sysctl;
}
WatchdogDevice& VirtBoard::watchdog() {
  return *parts_->watchdog;
}
FlashDevice& VirtBoard::flash() {
  return *parts_->flash;
}
DisplayDevice& VirtBoard::display() {
  return *parts_->display;
}
KeyboardDevice& VirtBoard::keyboard() {
  return *parts_->keyboard;
}

}  // namespace cr16
