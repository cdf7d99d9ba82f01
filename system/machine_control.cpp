// The MachineControl implementation of Machine (see machine_control.h).
#include <algorithm>
#include <bit>
#include <string>

#include "system/machine_impl.h"

namespace cr16::system {

namespace {

struct CauseName {
  ShutdownCause cause;
  const char* name;
  bool guest;
};

constexpr CauseName kCauseNames[] = {
    {ShutdownCause::kNone, "none", false},
    {ShutdownCause::kHostError, "host-error", false},
    {ShutdownCause::kHostQmpQuit, "host-qmp-quit", false},
    {ShutdownCause::kHostQmpSystemReset, "host-qmp-system-reset", false},
    {ShutdownCause::kHostSignal, "host-signal", false},
    {ShutdownCause::kHostUi, "host-ui", false},
    {ShutdownCause::kGuestShutdown, "guest-shutdown", true},
    {ShutdownCause::kGuestReset, "guest-reset", true},
    {ShutdownCause::kGuestPanic, "guest-panic", true},
};

// The register's width: its storage, or for 32-bit storage the bytes its
// valid bits need (r0-r11 are 16-bit, pc 24-bit).
unsigned register_bits(const StateField& field) {
  if (field.kind == FieldKind::kU8) return 8;
  if (field.kind == FieldKind::kU16) return 16;
  if (field.kind != FieldKind::kU32) return 64;
  unsigned used = 64 - static_cast<unsigned>(std::countl_zero(field.valid_mask & 0xFFFFFFFFu));
  return std::max(8u, (used + 7) / 8 * 8);
}

}  // namespace

const char* shutdown_cause_name(ShutdownCause cause) {
  for (const CauseName& entry : kCauseNames) {
    if (entry.cause == cause) return entry.name;
  }
  return "none";
}

bool shutdown_cause_is_guest(ShutdownCause cause) {
  for (const CauseName& entry : kCauseNames) {
    if (entry.cause == cause) return entry.guest;
  }
  return false;
}

std::string Machine::Impl::machine_name() const {
  return board_type->name;
}

CpuModel Machine::Impl::cpu_model() const {
  return board->cpu().model();
}

AcceleratorInfo Machine::Impl::accelerator() const {
  AcceleratorInfo info;
  info.kind = engine_kind;
  if (engine_kind != EngineKind::kInterpreter) info.statistics = board->cpu().engine().statistics();
  return info;
}

Error Machine::Impl::vm_stop(RunState reason) {
  if (!state_machine.running()) return Error();
  if (!run_state_transition_allowed(RunState::kRunning, reason)) {
    return Error(std::string("cannot stop the VM in state '") + run_state_name(reason) + "'");
  }
  board->cpu().request_exit();  // when called from inside a slice
  clock.pause();
  return state_machine.set(reason);
}

Error Machine::Impl::vm_start() {
  const RunState state = state_machine.state();
  if (state == RunState::kRunning) return Error();
  if (!run_state_transition_allowed(state, RunState::kRunning)) {
    return Error(std::string("the VM cannot run from state '") + run_state_name(state) + "'");
  }
  clock.resume();
  loop->wakeup();
  return state_machine.set(RunState::kRunning);
}

Error Machine::Impl::stop() {
  return vm_stop(RunState::kPaused);
}

Error Machine::Impl::cont() {
  switch (state_machine.state()) {
    case RunState::kInMigrate:
      return Error("the incoming migration has not finished");
    case RunState::kFinishMigrate:
      return Error("a migration is sending its last pass (migrate_cancel to run again)");
    case RunState::kShutdown:
    case RunState::kInternalError:
      return Error("Resetting the Virtual Machine is required");
    default:
      return vm_start();
  }
}

Error Machine::Impl::reset() {
  do_reset(ShutdownCause::kHostQmpSystemReset);
  return Error();
}

Error Machine::Impl::powerdown() {
  board->request_powerdown();
  emit({MachineEvent::Kind::kPowerdown, ShutdownCause::kNone, ""});
  return Error();
}

void Machine::Impl::quit(ShutdownCause cause) {
  request_quit(0, cause);
}

Expected<StopReason> Machine::Impl::step(uint64_t instructions) {
  if (state_machine.running()) return Error("the VM is running: stop it before stepping");
  if (vcpu_blocked) return Error("the CPU is waiting for host I/O");
  if (quit_requested) return Error("the emulator is quitting");
  if (instructions == 0) return StopReason::kBudget;
  clock.resume();
  clock.begin_slice();
  StopReason reason = board->run_slice(instructions);
  clock.end_slice();
  clock.run_due_timers();
  clock.pause();
  return reason;
}

Error Machine::Impl::read_memory(uint32_t address, std::span<uint8_t> out) {
  // The debugger's view: memory as it is, device registers through their
  // side-effect-free peek (a UART's data register is read, not popped).
  return board->cpu().debug_read_block(address, out.data(), out.size());
}

Error Machine::Impl::write_memory(uint32_t address, std::span<const uint8_t> data) {
  return board->memory().write_bytes(address, data, LoaderWrite::kAsGuest);
}

std::vector<RegisterValue> Machine::Impl::registers() {
  std::vector<RegisterValue> values;
  const CpuState& state = board->cpu().state();
  for (const StateField& field : cpu_state_description().fields) {
    values.push_back({field.name, state_field_get(field, &state), register_bits(field)});
  }
  return values;
}

Expected<uint64_t> Machine::Impl::read_register(std::string_view name) {
  const StateField* field = state_field_find(cpu_state_description(), name);
  if (field == nullptr) return Error("unknown register '" + std::string(name) + "'");
  return state_field_get(*field, &board->cpu().state());
}

Error Machine::Impl::write_register(std::string_view name, uint64_t value) {
  const StateField* field = state_field_find(cpu_state_description(), name);
  if (field == nullptr) return Error("unknown register '" + std::string(name) + "'");
  Cpu& cpu = board->cpu();
  // Check the value on a copy: a refused value changes nothing.
  CpuState candidate = cpu.state();
  if (Error error = state_field_set(*field, &candidate, value); !error.ok()) {
    return error.with_context(field->name);
  }
  if (name == "psr") {
    cpu.set_psr(static_cast<uint16_t>(value));  // banks the stack pointer on a U change
  } else if (name == "cfg") {
    cpu.set_cfg(static_cast<uint16_t>(value));  // drops predecoded code on an SR change
  } else {
    cpu.state() = candidate;
  }
  return Error();
}

MachineControl::ListenerId Machine::Impl::add_state_listener(StateListener listener) {
  ListenerId id = next_listener_id++;
  state_listeners.add(id, std::move(listener));
  return id;
}

MachineControl::ListenerId Machine::Impl::add_event_listener(EventListener listener) {
  ListenerId id = next_listener_id++;
  event_listeners.add(id, std::move(listener));
  return id;
}

void Machine::Impl::remove_listener(ListenerId id) {
  state_listeners.remove(id);
  event_listeners.remove(id);
}

}  // namespace cr16::system
