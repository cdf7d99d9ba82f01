// Machine's insides, shared by machine.cpp (building, the main loop) and
// machine_control.cpp (the MachineControl implementation). Private to
// system/: nothing outside includes it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hw/board.h"
#include "hw/virtual_clock.h"
#include "io/loop.h"
#include "system/chardev/common.h"
#include "system/chardev/mux.h"
#include "system/chardev/socket.h"
#include "system/elf_loader.h"
#include "system/gdbstub/server.h"
#include "system/machine.h"
#include "system/migration_control.h"
#include "system/monitor/events.h"
#include "system/monitor/hmp.h"
#include "system/monitor/qmp_server.h"
#include "system/run_state.h"
#include "system/semihosting.h"
#include "system/snapshot_control.h"
#include "ui/display_hub.h"

namespace cr16::system {

struct Machine::Impl final : public MachineControl {
  /// Instructions per slice when no virtual deadline is closer: about 30 µs
  /// at interpreter speed, short enough for responsive io.
  static constexpr uint64_t kSliceInstructions = 20000;
  /// How far a paced CPU may run ahead of the host clock before it sleeps.
  static constexpr int64_t kAlignSlackNs = 1'000'000;

  Options options;
  const BoardType* board_type = nullptr;
  std::unique_ptr<io::Loop> loop;
  VirtualClock clock;

  // Character devices. Backends are owned here or by their multiplexer.
  std::vector<std::unique_ptr<CharBackend>> backends;
  std::vector<std::unique_ptr<MuxCharDevice>> muxes;
  std::vector<ChannelCharBackend*> buffered;  // drained at exit
  std::vector<SocketCharBackend*> sockets;    // wait=on servers hold the start
  std::vector<CharBackend*> serial_ports;     // what each UART attaches to
  std::vector<CharBackend*> monitor_backends;
  std::vector<std::unique_ptr<monitor::HmpSession>> monitors;
  // -chardev, -mon and -qmp (machine_consoles.cpp).
  struct NamedChardev {
    std::string id;
    std::vector<CharBackend*> ports;  // one attachment point per user, handed out in order
    size_t next = 0;
  };
  struct ChardevRecord {  // what query-chardev reports
    std::string label;
    SerialSpec spec;
    CharBackend* backend = nullptr;
    monitor::QmpServer* qmp_server = nullptr;
    bool has_frontend = false;
  };
  struct ControlMonitor {  // QMP on a backend, started with the HMP sessions
    CharBackend* backend = nullptr;
    std::string label;
    bool pretty = false;
  };
  std::vector<NamedChardev> chardevs;
  std::vector<ChardevRecord> chardev_records;
  std::vector<ControlMonitor> qmp_backends;
  std::vector<std::unique_ptr<monitor::QmpServer>> qmp_servers;
  std::vector<std::unique_ptr<monitor::QmpCharFrontend>> qmp_frontends;

  std::unique_ptr<Board> board;
  EngineKind engine_kind = EngineKind::kInterpreter;  // -accel, set when the board is built
  // The user interface (machine_ui*.cpp): the hub between the board's
  // display/keyboard and the front ends (-display sdl, -vnc).
  std::unique_ptr<ui::DisplayHub> display_hub;
  std::vector<std::unique_ptr<ui::Frontend>> ui_frontends;
  ui::VncServer* vnc = nullptr;                       // one of ui_frontends (query-vnc)
  std::unique_ptr<SnapshotControl> snapshot_control;  // savevm/loadvm (issue 10)
  std::unique_ptr<Semihosting> semihosting;
  std::optional<LoadImage> kernel;
  std::vector<uint8_t> bios_image;
  std::optional<uint32_t> entry_pc;  // from -bios ELF / -kernel; else the flash base
  bool semihosting_on = false;
  SemihostingAccess semihosting_access = SemihostingAccess::kConsole;

  RunStateMachine state_machine{RunState::kPrelaunch};
  bool quit_requested = false;
  int exit_code = 0;
  int signal_fd = -1;
  io::Loop::WatchId signal_watch = 0;

  // The vCPU waiting on a host fd (HostCall::kWait).
  HostCallHandler host_call_handler;
  bool vcpu_blocked = false;
  io::Loop::WatchId block_watch = 0;

  ListenerId next_listener_id = 1;  // one id space for both lists
  ListenerList<RunState, RunState> state_listeners;
  ListenerList<const MachineEvent&> event_listeners;
  monitor::EventBus event_bus;  // QMP's view of the above, and of other services

  std::unique_ptr<gdbstub::GdbServer> gdb;  // the gdbstub (listening with -gdb/-s or gdbserver)
  // Live migration (system/migration_control.h): the service and the
  // machine as it sees it; the guest CPU throttle of auto-converge.
  std::unique_ptr<MigrationMachine> migration_machine;
  std::unique_ptr<MigrationControl> migration_control;
  unsigned cpu_throttle_percent = 0;  // the run loop sleeps this share of the time

  Impl();
  ~Impl() override;

  // ---- Building (machine.cpp)
  Error prepare_images();
  Error create_consoles(const ConsolePlan& plan);
  // machine_consoles.cpp
  Expected<CharBackend*> open_backend(const SerialSpec& spec, const std::string& label,
                                      unsigned ports, bool multiplex,
                                      std::vector<CharBackend*>* attach_points);
  Error create_chardevs();
  CharBackend* chardev_port(const std::string& id);
  void start_monitors();
  void stop_monitors();
  Error load_kernel();
  void install_signals();
  Error install_handlers();
  void create_snapshot_control();
  // machine_ui.cpp: the hub, then the front ends the options ask for.
  Error start_ui();
  Error start_sdl();  // machine_ui_sdl.cpp
  Error start_vnc();  // machine_ui_vnc.cpp
  /// What migration and snapshots save: the clock's "clock" section first
  /// (devices re-arm their deadlines against the restored time), then the
  /// board's.
  std::vector<StateSection> machine_sections();

  // ---- Running (machine.cpp)
  int run();
  void run_guest_slice();
  void idle_until_io_or_deadline();
  bool waiting_for_clients() const;
  void request_quit(int code, ShutdownCause cause);
  void do_reset(ShutdownCause cause);
  void block_vcpu(int fd, short poll_events);
  void unblock_vcpu();
  void enter_guest_panicked(const std::string& why);
  StopReason debug_step();
  void emit(const MachineEvent& event);

  // ---- MachineControl (machine_control.cpp)
  RunState run_state() const override { return state_machine.state(); }
  std::string machine_name() const override;
  CpuModel cpu_model() const override;
  Error vm_stop(RunState reason) override;
  Error vm_start() override;
  Error stop() override;
  Error cont() override;
  Error reset() override;
  Error powerdown() override;
  void quit(ShutdownCause cause) override;
  Expected<StopReason> step(uint64_t instructions) override;
  Error read_memory(uint32_t address, std::span<uint8_t> out) override;
  Error write_memory(uint32_t address, std::span<const uint8_t> data) override;
  std::vector<RegisterValue> registers() override;
  Expected<uint64_t> read_register(std::string_view name) override;
  Error write_register(std::string_view name, uint64_t value) override;
  ListenerId add_state_listener(StateListener listener) override;
  ListenerId add_event_listener(EventListener listener) override;
  void remove_listener(ListenerId id) override;
  monitor::EventBus& events() override { return event_bus; }
  // machine_consoles.cpp
  std::string vm_name() const override;
  std::vector<CharDeviceInfo> char_devices() const override;
  std::vector<RegionInfo> memory_regions() const override;
  std::vector<BoardDevice> devices() const override;
  std::vector<StateSection> state_sections() override;
  int64_t cpu_thread_id() const override;
  AcceleratorInfo accelerator() const override;
  Error inject_nmi() override;
  GdbServerControl* gdb_server() override { return gdb.get(); }
  MigrationControl* migration() override { return migration_control.get(); }

  // ---- Migration (migration_machine.cpp)
  /// The machine as migration sees it (MigrationMachine).
  struct MigrationAdapter;
  std::unique_ptr<MigrationMachine> make_migration_machine();
  SnapshotControl* snapshots() override { return snapshot_control.get(); }
  ui::DisplayHub* display() override { return display_hub.get(); }
  ui::VncServer* vnc_server() override { return vnc; }
};

}  // namespace cr16::system
