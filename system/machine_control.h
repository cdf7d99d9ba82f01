// MachineControl: the one API every front end drives the VM through — the
// human monitor now, QMP and the gdbstub next, migration and snapshots after
// that. Run control (stop, cont, reset, powerdown, quit, step), guest memory
// and registers without side effects on devices, the run state, and
// notifications of state changes and machine events. See docs/machine.md.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "hw/board.h"
#include "system/run_state.h"
#include "util/error.h"

namespace cr16::ui {
class DisplayHub;  // the screen and keyboard (ui/display_hub.h, issue 11)
class VncServer;   // -vnc (ui/vnc_server.h)
}  // namespace cr16::ui

namespace cr16::system {

namespace monitor {
class EventBus;
}
// Services beside run control that front ends reach through the machine;
// each is declared by its own header and may be absent (nullptr).
class MigrationControl;  // live migration (migration/, issue 10)
class SnapshotControl;   // savevm/loadvm snapshots (issue 10)
class GdbServerControl;  // the gdbstub (system/gdbstub/, issue 9)

/// Why the machine shut down or reset, named as QEMU's SHUTDOWN and RESET
/// events name it.
enum class ShutdownCause : uint8_t {
  kNone,                // "none"
  kHostError,           // "host-error": the emulator cannot go on
  kHostQmpQuit,         // "host-qmp-quit": quit from a monitor
  kHostQmpSystemReset,  // "host-qmp-system-reset": system_reset from a monitor
  kHostSignal,          // "host-signal": SIGINT, SIGTERM
  kHostUi,              // "host-ui": Ctrl-A x
  kGuestShutdown,       // "guest-shutdown": the guest powered off
  kGuestReset,          // "guest-reset": the guest (or its watchdog) asked for a reset
  kGuestPanic,          // "guest-panic"
};

/// The QEMU name of a cause.
const char* shutdown_cause_name(ShutdownCause cause);
/// True for causes the guest brought about (QEMU's "guest" flag).
bool shutdown_cause_is_guest(ShutdownCause cause);

/// Something that happened to the machine, for front ends to report (QMP
/// events SHUTDOWN, RESET, POWERDOWN, GUEST_PANICKED).
struct MachineEvent {
  enum class Kind : uint8_t { kShutdown, kReset, kPowerdown, kGuestPanicked };
  Kind kind = Kind::kShutdown;
  ShutdownCause cause = ShutdownCause::kNone;
  std::string detail;  // kGuestPanicked: why, in one line
};

/// One CPU register as its state description names it.
struct RegisterValue {
  std::string name;  // "r0", "pc", "psr"
  uint64_t value = 0;
  unsigned bits = 32;  // significant bits (for formatting)
};

/// A character device as query-chardev and `info chardev` report it.
struct CharDeviceInfo {
  std::string label;           // "serial0", "monitor", "compat_monitor0", a -chardev id
  std::string filename;        // the backend as QEMU spells it: "stdio", "unix:/p,server=on",
                               // "disconnected:tcp:127.0.0.1:4444,server=on", ...
  bool frontend_open = false;  // a device or monitor is attached to it
};

/// What every front end calls. All methods run on the machine thread (front
/// ends live in the main loop), between CPU slices, so none races with the
/// guest.
/// What query-accelerators and info jit report.
struct AcceleratorInfo {
  EngineKind kind = EngineKind::kInterpreter;  // the engine in use
  EngineStatistics statistics;                 // zeros for the interpreter
};

class MachineControl {
 public:
  using ListenerId = uint64_t;
  using StateListener = std::function<void(RunState from, RunState to)>;
  using EventListener = std::function<void(const MachineEvent& event)>;

  virtual ~MachineControl() = default;

  // ---- Status
  /// The current run state.
  virtual RunState run_state() const = 0;
  bool running() const { return run_state() == RunState::kRunning; }
  /// The board type's name ("virt") and the CPU model.
  virtual std::string machine_name() const = 0;
  virtual CpuModel cpu_model() const = 0;

  // ---- Run control
  /// Stops a running VM in `reason` (paused, debug, finish-migrate,
  /// save-vm, ...): the CPU stops at the end of its current slice and
  /// virtual time stands still. A VM that is not running stays as it is.
  /// Tells the state listeners.
  virtual Error vm_stop(RunState reason) = 0;
  /// Starts a stopped VM (running; virtual time runs again). Error when the
  /// state may not go to running.
  virtual Error vm_start() = 0;
  /// The monitor's `stop`: vm_stop(kPaused).
  virtual Error stop() = 0;
  /// The monitor's `cont`: vm_start(), refused with a clear message where
  /// QEMU refuses it (a powered-off or crashed VM needs system_reset first;
  /// an incoming migration has not finished).
  virtual Error cont() = 0;
  /// system_reset: every device and the CPU to their reset state (RAM and
  /// flash kept). A stopped VM goes to prelaunch. Emits a RESET event.
  virtual Error reset() = 0;
  /// system_powerdown: asks the guest to power down (the board's power
  /// button). Emits a POWERDOWN event.
  virtual Error powerdown() = 0;
  /// quit: the process ends with status 0 once the current command returns.
  /// Emits a SHUTDOWN event with `cause`.
  virtual void quit(ShutdownCause cause = ShutdownCause::kHostQmpQuit) = 0;
  /// Executes up to `instructions` instructions of a stopped VM (virtual time
  /// runs meanwhile, due device timers fire after); the state does not
  /// change. Returns why the CPU stopped. Error while running.
  virtual Expected<StopReason> step(uint64_t instructions) = 0;

  // ---- Guest memory as a debugger sees it (no MMU on CR16: virtual and
  // physical addresses are the same).
  /// Copies guest memory at `address` into `out`, device registers included:
  /// they are peeked, so reading never changes a device (no FIFO pop, no
  /// interrupt acknowledge). An Error names the first address nothing
  /// answers (a hole, past 24 bits).
  virtual Error read_memory(uint32_t address, std::span<uint8_t> out) = 0;
  /// Writes guest RAM (not ROM or flash, not devices); predecoded code is
  /// dropped where it changed. Nothing is written on error.
  virtual Error write_memory(uint32_t address, std::span<const uint8_t> data) = 0;

  // ---- Registers, named by the CPU's state description
  /// Every register in description order.
  virtual std::vector<RegisterValue> registers() = 0;
  /// One register by name; Error for an unknown name.
  virtual Expected<uint64_t> read_register(std::string_view name) = 0;
  /// Sets a register (psr and cfg through the CPU's setters). Error for an
  /// unknown name or a value the register cannot hold.
  virtual Error write_register(std::string_view name, uint64_t value) = 0;

  // ---- Notifications
  /// Every run-state change (QMP STOP when leaving running, RESUME when
  /// entering it; migration waiting for a stop). Returns an id (never 0).
  virtual ListenerId add_state_listener(StateListener listener) = 0;
  /// Every machine event (SHUTDOWN, RESET, POWERDOWN, GUEST_PANICKED).
  virtual ListenerId add_event_listener(EventListener listener) = 0;
  /// Removes a listener added by either method; unknown ids are ignored.
  virtual void remove_listener(ListenerId id) = 0;
  /// The machine's asynchronous events as QMP reports them: STOP and RESUME
  /// for run-state changes, SHUTDOWN, RESET, POWERDOWN and GUEST_PANICKED
  /// with QEMU's members, plus whatever the other services emit.
  virtual monitor::EventBus& events() = 0;

  // ---- What monitors report (query-name, query-chardev, query-cpus-fast,
  // info mtree/qtree/irq/cpus) and inject-nmi. The defaults describe a
  // machine with nothing to show.
  /// The VM's name (-name); empty when none was given.
  virtual std::string vm_name() const { return {}; }
  /// Every character device: the serial ports' backends, the monitors',
  /// each -chardev.
  virtual std::vector<CharDeviceInfo> char_devices() const { return {}; }
  /// The guest memory map in mapping order (info mtree).
  virtual std::vector<RegionInfo> memory_regions() const { return {}; }
  /// The board's devices and their register windows (info qtree).
  virtual std::vector<BoardDevice> devices() const { return {}; }
  /// The CPU's and every device's state section (cpu.0, icu.0, ...), for
  /// read-only dumps (info qtree, info irq). The objects belong to the board.
  virtual std::vector<StateSection> state_sections() { return {}; }
  /// The id of the host thread that runs the vCPU (query-cpus-fast).
  virtual int64_t cpu_thread_id() const { return 0; }
  /// The CPU's execution engine (-accel) and its translation counters
  /// (query-accelerators, info jit). The default: the interpreter, no
  /// counters.
  virtual AcceleratorInfo accelerator() const { return {}; }
  /// Latches an NMI on the CPU (inject-nmi): taken at the next instruction
  /// boundary once the VM runs, whatever the interrupt masks say.
  virtual Error inject_nmi() { return Error("this feature or command is not currently supported"); }

  // ---- Other services (nullptr when this machine has none)
  virtual MigrationControl* migration() { return nullptr; }
  virtual SnapshotControl* snapshots() { return nullptr; }
  virtual GdbServerControl* gdb_server() { return nullptr; }
  /// The screen and keyboard (screendump, send-key); nullptr without a display.
  virtual ui::DisplayHub* display() { return nullptr; }
  /// The VNC server; nullptr without -vnc.
  virtual ui::VncServer* vnc_server() { return nullptr; }
};

}  // namespace cr16::system
