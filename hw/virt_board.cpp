#include "hw/virt_board.h"

#include <ctime>
#include <optional>

#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "util/log.h"

namespace cr16 {
namespace {

/// The reserved display window: reads 0, ignores writes (docs/virt.md 10).
class ReservedWindow : public MmioDevice {
 public:
  uint32_t read(uint32_t offset, AccessSize size) override { return 0; }
  void write(uint32_t offset, AccessSize size, uint32_t value) override {
    log_printf(LogCategory::kUnimp, "display: write at offset 0x%03x ignored (not implemented)",
               offset);
  }
};

}  // namespace

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
  ReservedWindow display;

  std::function<void(int)> poweroff_handler;
  std::function<void()> reset_request_handler;
  bool in_slice = false;
  std::optional<int> pending_poweroff;
  bool pending_reset_request = false;
  uint32_t next_reset_cause = virt::kResetCausePowerOn;
};

VirtBoard::VirtBoard() = default;
VirtBoard::~VirtBoard() = default;

Expected<std::unique_ptr<VirtBoard>> VirtBoard::create(const VirtConfig& config,
                                                       DeviceClock& clock) {
  if (config.ram_bytes < virt::kRamMinSize || config.ram_bytes > virt::kRamMaxSize ||
      config.ram_bytes % kPageSize != 0) {
    return Error("virt: RAM size " + std::to_string(config.ram_bytes) +
                 " bytes is not a multiple of 4 KiB between 64 KiB and 14 MiB");
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
  p.rtc = std::make_unique<RtcDevice>(clock, static_cast<uint32_t>(std::time(nullptr)),
                                      IrqLine(&p.icu, virt::kIrqRtc));
  p.watchdog = std::make_unique<WatchdogDevice>(clock);
  auto flash = FlashDevice::create(p.memory, virt::kFlashBase, config.pflash_path,
                                   IrqLine(&p.icu, virt::kIrqFlash), config.pflash_create);
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
      {"display", virt::kDisplayBase, virt::kDisplaySize, &p.display},
      {"icu", virt::kIcuBase, virt::kIcuSize, &p.icu},
  };
  for (const Window& window : windows) {
    if (Error error = p.memory.add_mmio(window.name, window.base, window.size, window.device);
        !error.ok()) {
      return error;
    }
  }

  VirtBoard* self = board.get();
  p.sysctl->set_poweroff_handler([self](int code) {
    Parts& parts = *self->parts_;
    if (parts.in_slice) {
      parts.pending_poweroff = code;
      parts.cpu->request_exit();
    } else if (parts.poweroff_handler) {
      parts.poweroff_handler(code);
    }
  });
  p.sysctl->set_reset_handler([self] {
    self->parts_->next_reset_cause = virt::kResetCauseSoftware;
    self->request_reset();
  });
  p.watchdog->set_expiry_handler([self] {
    self->parts_->next_reset_cause = virt::kResetCauseWatchdog;
    self->request_reset();
  });

  p.cpu->reset(virt::kFlashBase);
  return board;
}

void VirtBoard::request_reset() {
  Parts& p = *parts_;
  if (p.in_slice) {
    p.pending_reset_request = true;
    p.cpu->request_exit();
    return;
  }
  if (p.reset_request_handler) {
    p.reset_request_handler();
  } else {
    reset(virt::kFlashBase);
  }
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

void VirtBoard::reset(uint32_t reset_pc) {
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
  p.pending_reset_request = false;
  p.cpu->reset(reset_pc);
}

void VirtBoard::set_poweroff_handler(std::function<void(int)> handler) {
  parts_->poweroff_handler = std::move(handler);
}

void VirtBoard::set_reset_request_handler(std::function<void()> handler) {
  parts_->reset_request_handler = std::move(handler);
}

StopReason VirtBoard::run_slice(uint64_t budget) {
  Parts& p = *parts_;
  p.in_slice = true;
  StopReason reason = p.cpu->run(budget);
  p.in_slice = false;
  if (p.pending_poweroff) {
    int code = *p.pending_poweroff;
    p.pending_poweroff.reset();
    p.pending_reset_request = false;
    if (p.poweroff_handler) p.poweroff_handler(code);
    return reason;
  }
  if (p.pending_reset_request) {
    p.pending_reset_request = false;
    request_reset();
  }
  return reason;
}

std::vector<StatefulDevice*> VirtBoard::stateful_devices() {
  Parts& p = *parts_;
  return {&p.icu,        p.sysctl.get(), p.uart[0].get(),  p.uart[1].get(),
          p.timer.get(), p.rtc.get(),    p.watchdog.get(), p.flash.get()};
}

IcuDevice& VirtBoard::icu() {
  return parts_->icu;
}
UartDevice& VirtBoard::uart(unsigned index) {
  return *parts_->uart[index & 1];
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

}  // namespace cr16
