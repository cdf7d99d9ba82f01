// Every kind of virt device, built on its own (no board, no CPU) around a
// manual clock that counts what devices do with it, with both UARTs as
// sections uart.0 and uart.1: for the state-engine tests and the state
// fuzzer. fingerprint() captures everything a load may change, so a
// refused load can be shown to have changed nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "hw/address_space.h"
#include "hw/chardev.h"
#include "hw/display.h"
#include "hw/flash.h"
#include "hw/icu.h"
#include "hw/keyboard.h"
#include "hw/manual_device_clock.h"
#include "hw/rtc.h"
#include "hw/sysctl.h"
#include "hw/timer.h"
#include "hw/uart.h"
#include "hw/virt_map.h"
#include "hw/watchdog.h"
#include "util/state.h"

namespace cr16::test {

/// A manual clock that counts arm() and cancel() calls: re-arming after a
/// load shows up even when the deadlines end up the same.
class CountingClock : public ManualDeviceClock {
 public:
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override {
    ++arms;
    return ManualDeviceClock::arm(deadline_ns, std::move(callback));
  }
  void cancel(TimerHandle handle) override {
    ++cancels;
    ManualDeviceClock::cancel(handle);
  }
  uint64_t arms = 0, cancels = 0;
};

/// Accepts half of what it is given (so TX FIFOs keep some bytes), counts
/// frontend_ready() calls.
class HalfSinkBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override {
    written += bytes.size() / 2;
    return bytes.size() / 2;
  }
  void attach(CharFrontend* frontend_in) override { frontend = frontend_in; }
  void frontend_ready() override { ++ready_calls; }
  CharFrontend* frontend = nullptr;
  uint64_t written = 0;
  uint64_t ready_calls = 0;
};

struct VirtDevices {
  VirtDevices()
      : sysctl(SysctlConfig{virt::kRamMinSize, virt::kSysCpuModelCr16cPlus, "CR16C+"}),
        uart0("uart0", clock, &serial0, IrqLine(&icu, virt::kIrqUart0Rx),
              IrqLine(&icu, virt::kIrqUart0Tx)),
        uart1("uart1", clock, &serial1, IrqLine(&icu, virt::kIrqUart1Rx),
              IrqLine(&icu, virt::kIrqUart1Tx)),
        timer(clock, {IrqLine(&icu, virt::kIrqTimer0), IrqLine(&icu, virt::kIrqTimer1)}),
        rtc(clock, 1'700'000'000, IrqLine(&icu, virt::kIrqRtc)),
        watchdog(clock),
        display(clock, memory, IrqLine(&icu, virt::kIrqDisplay)),
        keyboard(IrqLine(&icu, virt::kIrqKeyboard)) {
    icu.set_irq_output([this](bool level) {
      irq = level;
      ++irq_updates;
    });
    icu.set_nmi_output([this] { ++nmis; });
    watchdog.set_expiry_handler([this] { ++watchdog_expiries; });
    flash = std::move(
        FlashDevice::create(memory, virt::kFlashBase, "", IrqLine(&icu, virt::kIrqFlash)).value());
  }

  /// The machine's section list, in the order a board would give it.
  std::vector<StateSection> sections() {
    return {{"icu", 0, &icu},           {"sysctl", 0, &sysctl},    {"uart", 0, &uart0},
            {"uart", 1, &uart1},        {"timer", 0, &timer},      {"rtc", 0, &rtc},
            {"watchdog", 0, &watchdog}, {"flash", 0, flash.get()}, {"display", 0, &display},
            {"keyboard", 0, &keyboard}};
  }

  /// Every device's state bytes plus what state_loaded() would touch: the
  /// clock's deadlines and counters, the interrupt output, the backends.
  std::vector<uint8_t> fingerprint() {
    std::vector<uint8_t> bytes;
    auto append = [&](const void* data, size_t size) {
      const auto* p = static_cast<const uint8_t*>(data);
      bytes.insert(bytes.end(), p, p + size);
    };
    for (const StateSection& section : sections()) {
      append(section.object->state_data(), section.object->state_description().object_size);
    }
    const uint64_t counters[] = {clock.arms,
                                 clock.cancels,
                                 clock.armed_count(),
                                 static_cast<uint64_t>(clock.next_deadline()),
                                 irq,
                                 irq_updates,
                                 nmis,
                                 watchdog_expiries,
                                 serial0.written,
                                 serial0.ready_calls,
                                 serial1.written,
                                 serial1.ready_calls};
    append(counters, sizeof counters);
    return bytes;
  }

  CountingClock clock;
  HalfSinkBackend serial0, serial1;
  IcuDevice icu;
  SysctlDevice sysctl;
  UartDevice uart0, uart1;
  TimerDevice timer;
  RtcDevice rtc;
  WatchdogDevice watchdog;
  AddressSpace memory;
  std::unique_ptr<FlashDevice> flash;
  DisplayDevice display;
  KeyboardDevice keyboard;
  uint64_t irq = 0, irq_updates = 0, nmis = 0, watchdog_expiries = 0;
};

}  // namespace cr16::test
