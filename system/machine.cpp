#include "system/machine.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "hw/flash.h"
#include "system/chardev/factory.h"
#include "system/firmware_search.h"
#include "system/machine_impl.h"
#include "util/log.h"

namespace cr16::system {

namespace {

constexpr uint64_t kMaxKernelFile = 64ull << 20;  // ELF files carry debug info

std::string hex_address(uint64_t address) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%06" PRIx64, address);
  return text;
}

// The CPU registers as semihosting sees them.
class CpuRegisters : public SemihostRegisters {
 public:
  explicit CpuRegisters(Cpu& cpu) : cpu_(cpu) {}
  uint16_t reg(unsigned index) const override {
    return static_cast<uint16_t>(cpu_.state().r[index]);
  }
  void set_reg(unsigned index, uint16_t value) override { cpu_.set_reg16(index, value); }
  uint32_t pc() const override { return cpu_.state().pc; }

 private:
  Cpu& cpu_;
};

// Guest memory for semihosting: plain RAM/ROM only; ROM refuses writes.
class BoardMemory : public SemihostMemory {
 public:
  explicit BoardMemory(AddressSpace& memory) : memory_(memory) {}
  bool read(uint32_t address, std::span<uint8_t> out) override {
    if (uint64_t{address} + out.size() > kAddressSpaceSize) return false;
    return memory_.read_bytes(address, out).ok();
  }
  bool write(uint32_t address, std::span<const uint8_t> in) override {
    if (uint64_t{address} + in.size() > kAddressSpaceSize) return false;
    return memory_.write_bytes(address, in).ok();
  }
  bool writable(uint32_t address, uint32_t length) override {
    return length == 0 || memory_.host_pointer(address, length) != nullptr;  // RAM only
  }

 private:
  AddressSpace& memory_;
};

// Flattens an ELF meant for the flash into a flash image starting at its base.
Expected<std::vector<uint8_t>> flatten_for_flash(const LoadImage& image,
                                                 const BoardLimits& limits) {
  const uint64_t flash_end = uint64_t{limits.flash_base} + limits.flash_size;
  for (const auto& segment : image.segments) {
    if (segment.address < limits.flash_base || segment.end() > flash_end) {
      return Error("-bios: " + image.name + ": segment at " + hex_address(segment.address) + "-" +
                   hex_address(segment.end() - 1) + " is outside the flash (" +
                   hex_address(limits.flash_base) + "-" + hex_address(flash_end - 1) +
                   "); a program for RAM is loaded with -kernel");
    }
  }
  uint64_t end = limits.flash_base;
  for (const auto& segment : image.segments) end = std::max(end, segment.end());
  std::vector<uint8_t> flash(static_cast<size_t>(end - limits.flash_base), 0xff);
  for (const auto& segment : image.segments) {
    size_t offset = segment.address - limits.flash_base;
    std::copy(segment.bytes.begin(), segment.bytes.end(), flash.begin() + offset);
    std::fill_n(flash.begin() + offset + segment.bytes.size(), segment.zero_fill, 0);
  }
  return flash;
}

}  // namespace

Machine::Impl::Impl() {
  state_machine.add_listener([this](RunState from, RunState to) {
    state_listeners.notify(from, to);
    // QEMU's STOP and RESUME: leaving and entering "running".
    if (from == RunState::kRunning && to != RunState::kRunning) event_bus.emit("STOP");
    if (to == RunState::kRunning && from != RunState::kRunning) event_bus.emit("RESUME");
  });
}

Machine::Impl::~Impl() {
  snapshot_control.reset();   // a save may still read guest memory: before the board goes
  migration_control.reset();  // its threads read guest memory: they end first
  gdb.reset();                // the debugger's breakpoints go while the CPU is there
  for (ChannelCharBackend* backend : buffered) backend->drain(500);
  stop_monitors();  // front ends detach first (QMP clients get what is queued)
  if (block_watch) loop->remove_watch(block_watch);
  vnc = nullptr;
  ui_frontends.clear();  // windows and viewers leave the hub, the hub the display,
  display_hub.reset();   // while the board's devices still exist
  board.reset();         // devices detach from their backends
  muxes.clear();
  backends.clear();
  if (signal_watch) loop->remove_watch(signal_watch);
  if (signal_fd >= 0) close(signal_fd);
}

Error Machine::Impl::prepare_images() {
  const BoardLimits& limits = board_type->limits;
  std::string bios_path = options.bios_path;
  if (bios_path.empty() && limits.default_firmware != nullptr &&
      (options.kernel_path.empty() || limits.firmware_is_boot_rom)) {
    Expected<std::string> found = find_firmware(limits.default_firmware, options.data_dirs);
    if (!found) return found.error();
    bios_path = *found;
  }
  if (!bios_path.empty()) {
    Expected<std::vector<uint8_t>> bytes = read_file(bios_path, kMaxKernelFile);
    if (!bytes) return bytes.error().with_context("-bios");
    if (looks_like_elf(*bytes)) {
      Expected<LoadImage> image = parse_elf(*bytes, bios_path);
      if (!image) return image.error().with_context("-bios");
      Expected<std::vector<uint8_t>> flash = flatten_for_flash(*image, limits);
      if (!flash) return flash.error();
      bios_image = std::move(*flash);
      entry_pc = image->entry;
    } else {
      if (bytes->size() > limits.flash_size) {
        return Error("-bios: " + bios_path + ": image too large for the " +
                     format_size(limits.flash_size) + " flash (" + std::to_string(bytes->size()) +
                     " bytes)");
      }
      if (bytes->empty()) return Error("-bios: " + bios_path + ": empty image");
      bios_image = std::move(*bytes);
    }
  }
  if (!options.kernel_path.empty()) {
    Expected<std::vector<uint8_t>> bytes = read_file(options.kernel_path, kMaxKernelFile);
    if (!bytes) return bytes.error().with_context("-kernel");
    Expected<LoadImage> image = looks_like_elf(*bytes) ? parse_elf(*bytes, options.kernel_path)
                                                       : parse_raw(*bytes, 0, options.kernel_path);
    if (!image) return image.error().with_context("-kernel");
    kernel = std::move(*image);
    entry_pc = kernel->entry;
  }
  // A simulator-BSP ELF gets console semihosting on its own; host files
  // need the user's -semihosting (anyone can forge the BSP's symbols).
  const bool simulator_bsp = kernel && uses_simulator_bsp(*kernel);
  semihosting_on =
      limits.semihosting && (options.semihosting == SemihostingMode::kOn ||
                             (options.semihosting == SemihostingMode::kAuto && simulator_bsp));
  semihosting_access = options.semihosting == SemihostingMode::kOn ? SemihostingAccess::kFull
                                                                   : SemihostingAccess::kConsole;
  return {};
}

Error Machine::Impl::load_kernel() {
  if (!kernel) return {};
  AddressSpace& memory = board->memory();
  Error fits = check_segments_fit(*kernel, [&memory](uint32_t address, uint32_t length) {
    return memory.range_is_memory(address, length);
  });
  if (!fits.ok()) return fits.with_context("-kernel");
  for (const auto& segment : kernel->segments) {
    Error error = memory.write_bytes(segment.address, segment.bytes, LoaderWrite::kBypassRom);
    if (error.ok() && segment.zero_fill > 0) {
      std::vector<uint8_t> zeros(segment.zero_fill, 0);
      error = memory.write_bytes(segment.address + static_cast<uint32_t>(segment.bytes.size()),
                                 zeros, LoaderWrite::kBypassRom);
    }
    if (!error.ok()) return error.with_context("-kernel: " + kernel->name);
  }
  return {};
}

Error Machine::Impl::install_handlers() {
  board->set_poweroff_handler([this](int code) {
    if (options.no_shutdown) {
      exit_code = code;
      emit({MachineEvent::Kind::kShutdown, ShutdownCause::kGuestShutdown, ""});
      (void)vm_stop(RunState::kShutdown);
      std::fprintf(stderr, "cr16-system: guest powered off (code %d); paused (-no-shutdown)\n",
                   code);
    } else {
      request_quit(code, ShutdownCause::kGuestShutdown);
    }
  });
  board->set_reset_request_handler([this] {
    if (options.no_reboot) {
      request_quit(0, ShutdownCause::kGuestReset);
    } else {
      do_reset(ShutdownCause::kGuestReset);
    }
  });
  board->set_panic_handler([this](const std::string& why) { enter_guest_panicked(why); });
  board->cpu().set_svc_hook([this](Cpu& cpu) {
    if (!host_call_handler) return SvcResult::kNotHandled;
    HostCall call = host_call_handler(cpu);
    switch (call.result) {
      case HostCall::Result::kHandled:
        return SvcResult::kHandled;
      case HostCall::Result::kNotHandled:
        return SvcResult::kNotHandled;
      case HostCall::Result::kWait:
        // The CPU stops with its PC on the excp and runs it again once the
        // watch below sees the fd ready.
        block_vcpu(call.fd, call.poll_events);
        return SvcResult::kRetry;
    }
    return SvcResult::kNotHandled;
  });
  if (semihosting_on) {
    SemihostingConfig config;
    config.access = semihosting_access;
    config.root = options.semihosting_root;
    Expected<std::unique_ptr<Semihosting>> created = Semihosting::create(config);
    if (!created) return created.error().with_context("-semihosting-config");
    semihosting = std::move(*created);
    host_call_handler = [this](Cpu& cpu) {
      CpuRegisters registers(cpu);
      BoardMemory memory(board->memory());
      SemihostOutcome outcome = semihosting->handle(registers, memory);
      if (outcome.exit_status) request_quit(*outcome.exit_status, ShutdownCause::kGuestShutdown);
      if (outcome.wait) return HostCall::wait(outcome.wait->fd, outcome.wait->events);
      return outcome.handled ? HostCall::handled() : HostCall::not_handled();
    };
  }
  const BoardLimits& limits = board_type->limits;
  const bool paced_board = limits.default_icount_shift >= 0;
  if (options.icount_shift || paced_board) {
    Cpu* cpu = &board->cpu();
    const unsigned shift =
        options.icount_shift.value_or(static_cast<unsigned>(limits.default_icount_shift));
    clock.use_instruction_count([cpu] { return cpu->instruction_count(); }, shift);
    clock.set_align(options.icount_align.value_or(paced_board));
  }
  return {};
}

std::vector<StateSection> Machine::Impl::machine_sections() {
  std::vector<StateSection> sections = {{"clock", 0, &clock}};
  for (StateSection& section : board->state_sections()) sections.push_back(std::move(section));
  return sections;
}

void Machine::Impl::create_snapshot_control() {
  SnapshotMachine machine;
  machine.control = this;
  machine.loop = loop.get();
  machine.memory = &board->memory();
  machine.machine_type = board_type->name;
  machine.sections = [this] { return machine_sections(); };
  machine.vm_clock_ns = [this] { return clock.now_ns(); };
  machine.memory_loaded = [this](const migration::RamBlock& block, uint32_t offset,
                                 uint32_t length) {
    // A loaded flash array is the new truth: it goes to the pflash image.
    for (const StateSection& section : board->state_sections()) {
      auto* flash = dynamic_cast<FlashDevice*>(section.object);
      if (flash != nullptr && block.base == flash->base()) flash->array_loaded(offset, length);
    }
  };
  machine.state_loaded = [this] { unblock_vcpu(); };
  std::vector<std::string> nodes;
  if (!options.pflash_path.empty()) nodes.push_back("pflash0");
  if (!options.snapshot_dir.empty()) nodes.push_back("snapshot-dir");
  snapshot_control = std::make_unique<SnapshotControl>(
      std::move(machine), snapshot_store_path(options.snapshot_dir, options.pflash_path),
      std::move(nodes));
}

void Machine::Impl::install_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return;
  signal_watch = loop->add_watch(signal_fd, io::kIn, [this](int fd, uint32_t) {
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      std::fprintf(stderr, "cr16-system: terminating on signal %u\n", info.ssi_signo);
      request_quit(0, ShutdownCause::kHostSignal);
    }
    return true;
  });
}

// ---------------------------------------------------------------------------

bool Machine::Impl::waiting_for_clients() const {
  return std::any_of(sockets.begin(), sockets.end(),
                     [](SocketCharBackend* socket) { return socket->waiting_for_client(); }) ||
         std::any_of(qmp_servers.begin(), qmp_servers.end(),
                     [](const auto& server) { return server->waiting_for_client(); });
}

void Machine::Impl::request_quit(int code, ShutdownCause cause) {
  exit_code = code;  // the last request wins (a signal after the guest's exit: 0)
  if (quit_requested) return;
  quit_requested = true;
  emit({MachineEvent::Kind::kShutdown, cause, ""});
  if (board) board->cpu().request_exit();
  loop->wakeup();
}

void Machine::Impl::do_reset(ShutdownCause cause) {
  unblock_vcpu();
  board->reset();
  emit({MachineEvent::Kind::kReset, cause, ""});
  const RunState state = state_machine.state();
  if (state != RunState::kRunning && state != RunState::kInMigrate &&
      state != RunState::kFinishMigrate) {
    (void)state_machine.set(RunState::kPrelaunch);
  }
}

void Machine::Impl::block_vcpu(int fd, short poll_events) {
  if (vcpu_blocked) return;
  uint32_t conditions = 0;
  if (poll_events & POLLIN) conditions |= io::kIn;
  if (poll_events & POLLOUT) conditions |= io::kOut;
  vcpu_blocked = true;
  block_watch = loop->add_watch(fd, conditions, [this](int, uint32_t) {
    block_watch = 0;  // returning false removes it
    vcpu_blocked = false;
    return false;
  });
}

void Machine::Impl::unblock_vcpu() {
  if (block_watch) loop->remove_watch(block_watch);
  block_watch = 0;
  vcpu_blocked = false;
}

void Machine::Impl::enter_guest_panicked(const std::string& why) {
  if (quit_requested) return;
  const bool keep = options.no_shutdown;
  std::fprintf(stderr, "cr16-system: guest panicked: %s%s\n", why.c_str(),
               keep ? "; paused (-no-shutdown)" : "");
  emit({MachineEvent::Kind::kGuestPanicked, ShutdownCause::kGuestPanic, why});
  if (state_machine.running()) {
    (void)vm_stop(RunState::kGuestPanicked);
  } else {
    (void)state_machine.set(RunState::kGuestPanicked);  // e.g. while single-stepping
  }
  if (!keep) request_quit(kGuestPanicExitStatus, ShutdownCause::kGuestPanic);
}

StopReason Machine::Impl::debug_step() {
  // The debugger's single step: one instruction of the stopped VM with
  // pending interrupts held, so a step never wanders into a handler and
  // stepping off a breakpoint is not taken over by one. Virtual time runs
  // for it as for a slice; a power-off or reset it asked for is taken by
  // the next slice (the CPU returns from it at once).
  if (vcpu_blocked || quit_requested) return StopReason::kBlocked;
  Cpu& cpu = board->cpu();
  clock.resume();
  clock.begin_slice();
  const StopReason reason = cpu.step(StepEvents::kHold);
  clock.end_slice();
  clock.run_due_timers();
  clock.pause();
  if (reason == StopReason::kGuestPanic) enter_guest_panicked(cpu.panic_message());
  return reason;
}

void Machine::Impl::emit(const MachineEvent& event) {
  event_listeners.notify(event);
  // The same event with QEMU's name and members, for QMP.
  auto with_cause = [&event] {
    return monitor::Value::dict()
        .set("guest", monitor::Value::boolean(shutdown_cause_is_guest(event.cause)))
        .set("reason", monitor::Value::string(shutdown_cause_name(event.cause)));
  };
  switch (event.kind) {
    case MachineEvent::Kind::kShutdown:
      event_bus.emit("SHUTDOWN", with_cause());
      break;
    case MachineEvent::Kind::kReset:
      event_bus.emit("RESET", with_cause());
      break;
    case MachineEvent::Kind::kPowerdown:
      event_bus.emit("POWERDOWN");
      break;
    case MachineEvent::Kind::kGuestPanicked:
      event_bus.emit(
          "GUEST_PANICKED",
          monitor::Value::dict()
              .set("action", monitor::Value::string(options.no_shutdown ? "pause" : "poweroff"))
              .set("info", monitor::Value::dict()
                               .set("type", monitor::Value::string("cr16"))
                               .set("message", monitor::Value::string(event.detail))));
      break;
  }
}

void Machine::Impl::idle_until_io_or_deadline() {
  clock.begin_idle();
  loop->run_once(clock.host_timeout_ns());
  clock.end_idle();
  clock.run_due_timers();
}

void Machine::Impl::run_guest_slice() {
  Cpu& cpu = board->cpu();
  // A paced CPU (-icount align=on) that got ahead of the host clock sleeps,
  // serving io (its input arrives meanwhile), until the host catches up.
  if (const int64_t ahead = clock.ahead_ns(); ahead > kAlignSlackNs) {
    loop->run_once(ahead);
    return;
  }
  clock.begin_slice();
  uint64_t budget = clock.slice_budget(kSliceInstructions);
  if (gdb) budget = gdb->slice_budget(budget);  // 1 while a debugger single-steps
  const uint64_t before = cpu.instruction_count();
  const int64_t slice_start = cpu_throttle_percent ? loop->now() : 0;
  const StopReason reason = board->run_slice(budget);
  clock.end_slice();
  clock.run_due_timers();
  // A breakpoint, watchpoint or finished step stops the VM for the debugger.
  if (gdb && !quit_requested) gdb->cpu_stopped(reason, cpu.instruction_count() - before);
  if (cpu_throttle_percent && state_machine.running() && !quit_requested) {
    // auto-converge: the guest gets (100 - p)% of the time; io runs meanwhile.
    const int64_t ran = loop->now() - slice_start;
    const int64_t until = loop->now() + ran * cpu_throttle_percent / (100 - cpu_throttle_percent);
    while (!quit_requested && state_machine.running() && cpu_throttle_percent &&
           loop->now() < until) {
      loop->run_once(until - loop->now());
    }
  }
  const bool sleeping = reason == StopReason::kHalted && cpu.instruction_count() == before;
  if (sleeping && state_machine.running() && !quit_requested) {
    // The guest sleeps: let time pass until a timer or io wakes it.
    idle_until_io_or_deadline();
  } else {
    loop->run_once(0);
  }
}

int Machine::Impl::run() {
  // A wait=on socket server holds the start until its first client.
  while (!quit_requested && waiting_for_clients()) loop->run_once(-1);
  if (!quit_requested && !options.start_paused && state_machine.state() == RunState::kPrelaunch) {
    (void)vm_start();
  }
  while (!quit_requested) {
    if (!state_machine.running()) {
      loop->run_once(-1);  // stopped: only io (the monitor, signals) can change that
    } else if (vcpu_blocked) {
      idle_until_io_or_deadline();
    } else {
      run_guest_slice();
    }
  }
  if (gdb) gdb->machine_exiting(exit_code);  // the debugger hears W or X
  return exit_code;
}

// ---------------------------------------------------------------------------

Expected<std::unique_ptr<Machine>> Machine::create(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->board_type =
      options.machine.empty() ? &default_board_type() : find_board_type(options.machine);
  if (impl->board_type == nullptr) return Error("-M: unknown machine '" + options.machine + "'");
  const BoardLimits& limits = impl->board_type->limits;
  Expected<std::unique_ptr<io::Loop>> loop = io::Loop::create(options.loop);
  if (!loop) return loop.error();
  impl->loop = std::move(*loop);
  if (Error error = impl->prepare_images(); !error.ok()) return error;
  ConsolePlan plan = plan_consoles(options, limits.serial_ports, impl->semihosting_on);
  if (Error error = impl->create_consoles(plan); !error.ok()) return error;

  BoardConfig config;
  config.ram_bytes = options.ram_bytes;
  config.cpu_model = options.cpu;
  config.bios_image = std::move(impl->bios_image);
  config.pflash_path = options.pflash_path;
  config.pflash_create = options.pflash_create;
  config.pflash_overlay = options.snapshot;
  config.mtd_path = options.mtd_path;
  config.mtd_overlay = options.snapshot;
  config.serial = impl->serial_ports;
  config.properties = options.machine_properties;
  Expected<std::unique_ptr<Board>> board = impl->board_type->create(config, impl->clock);
  if (!board) return board.error();
  impl->board = std::move(*board);
  Expected<std::unique_ptr<ExecutionEngine>> engine =
      make_engine(options.accel, impl->board->cpu());
  if (!engine) return engine.error().with_context("-accel");
  impl->board->cpu().set_engine(std::move(*engine));
  impl->engine_kind = options.accel;
  if (Error error = impl->load_kernel(); !error.ok()) return error;
  impl->install_signals();
  if (Error error = impl->install_handlers(); !error.ok()) return error;
  impl->board->set_reset_pc(impl->entry_pc.value_or(limits.flash_base));
  impl->board->reset();
  impl->migration_machine = impl->make_migration_machine();
  impl->migration_control =
      std::make_unique<MigrationControl>(*impl, *impl->migration_machine, options.tls_creds);
  impl->create_snapshot_control();
  if (!options.loadvm.empty()) {
    if (Error error = impl->snapshot_control->load_at_startup(options.loadvm); !error.ok()) {
      return error.with_context("-loadvm");
    }
  }
  if (Error error = impl->start_ui(); !error.ok()) return error;
  impl->start_monitors();
  Impl* raw = impl.get();
  impl->gdb = std::make_unique<gdbstub::GdbServer>(*impl->loop, *impl, impl->board->cpu(),
                                                   [raw] { return raw->debug_step(); });
  if (options.gdb) {
    if (Error error = impl->gdb->start(*options.gdb); !error.ok())
      return error.with_context("-gdb");
  }
  if (!options.incoming.empty()) {
    if (Error error = impl->migration_control->start_incoming(options.incoming); !error.ok()) {
      return error;
    }
  }
  return std::unique_ptr<Machine>(new Machine(std::move(impl)));
}

Machine::Machine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Machine::~Machine() = default;

int Machine::run() {
  return impl_->run();
}

uint64_t Machine::instruction_count() const {
  return impl_->board->cpu().instruction_count();
}

MachineControl& Machine::control() {
  return *impl_;
}

io::Loop& Machine::loop() {
  return *impl_->loop;
}

Board& Machine::board() {
  return *impl_->board;
}

VirtualClock& Machine::clock() {
  return impl_->clock;
}

void Machine::set_host_call_handler(HostCallHandler handler) {
  impl_->host_call_handler = std::move(handler);
}

bool Machine::vcpu_blocked() const {
  return impl_->vcpu_blocked;
}

void Machine::guest_panicked(const std::string& why) {
  impl_->enter_guest_panicked(why);
}

}  // namespace cr16::system
