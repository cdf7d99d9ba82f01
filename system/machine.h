// The machine lifecycle of cr16-system: builds the loop, the virtual clock,
// the character devices, the board (from the registry) and the monitors from
// the options, loads the images, and runs the one main loop (CPU slices
// between loop iterations) until the guest powers off, the user quits
// (Ctrl-A x, SIGINT, SIGTERM, a monitor's quit), the guest panics or
// semihosting exits. Every front end drives it through MachineControl.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpu/cpu.h"
#include "system/machine_control.h"
#include "system/options.h"
#include "util/error.h"

namespace cr16 {
class Board;
class VirtualClock;
namespace io {
class Loop;
}
}  // namespace cr16

namespace cr16::system {

class Machine {
 public:
  /// Builds everything `options` describes. Errors (a missing or bad image,
  /// a -serial that cannot be opened...) are one line naming the culprit.
  static Expected<std::unique_ptr<Machine>> create(const Options& options);
  ~Machine();

  /// Runs until the end; returns the process exit status: the guest's
  /// power-off or semihosting exit code, 0 after a user quit, 134 after a
  /// guest panic (without -no-shutdown).
  int run();

  /// Guest instructions executed so far (all resets included).
  uint64_t instruction_count() const;

  /// The API front ends (monitors, QMP, the gdbstub, migration) use.
  MachineControl& control();
  /// The main loop (front ends add their watches to it).
  io::Loop& loop();
  /// The board and the virtual clock (migration's sections: the clock's
  /// "clock" section first, then the board's state_sections()).
  Board& board();
  VirtualClock& clock();

  /// What a host call the guest made (semihosting's `excp svc`) asks for.
  struct HostCall {
    enum class Result : uint8_t {
      kHandled,     // done: execution continues after the excp
      kNotHandled,  // not a host call: the CPU takes the SVC trap
      kWait,        // would block: wait until `fd` is ready, then run the excp again
    };
    Result result = Result::kHandled;
    int fd = -1;
    short poll_events = 0;  // POLLIN and/or POLLOUT (POLLERR/POLLHUP also wake)

    static HostCall handled() { return {Result::kHandled}; }
    static HostCall not_handled() { return {Result::kNotHandled}; }
    static HostCall wait(int fd, short poll_events) { return {Result::kWait, fd, poll_events}; }
  };
  using HostCallHandler = std::function<HostCall(Cpu& cpu)>;
  /// Replaces what `excp svc` does (semihosting installs one; nullptr: the
  /// CPU takes the SVC trap). A kWait answer blocks the vCPU, not the loop:
  /// the VM stays "running", a watch on the fd resumes the CPU, which runs
  /// the excp again; meanwhile io, timers, the monitor, stop, quit, Ctrl-C
  /// and SIGTERM keep working. A reset drops the wait.
  void set_host_call_handler(HostCallHandler handler);
  /// True while the vCPU waits for a host fd (kWait).
  bool vcpu_blocked() const;

  /// The guest cannot continue (what the CPU's kGuestPanic stop and the
  /// board's panic event lead to): one line on stderr, run state
  /// guest-panicked, a GUEST_PANICKED event, and the process ends with
  /// status 134 — or stays paused under -no-shutdown.
  void guest_panicked(const std::string& why);

  /// Process exit status of a guest panic.
  static constexpr int kGuestPanicExitStatus = 134;

 private:
  struct Impl;
  explicit Machine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cr16::system
