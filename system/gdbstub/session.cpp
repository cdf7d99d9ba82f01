// GdbSession: framing (acknowledgements, retransmission, bad packets) and
// run control (resume, step, interrupt, stop replies). The packet handlers
// are in session_packets.cpp.
#include "system/gdbstub/session.h"

#include <cstdio>

#include "system/gdbstub/target.h"
#include "system/monitor/events.h"

namespace cr16::system::gdbstub {

namespace {

// States a VM passes through and leaves again on its own (a snapshot being
// written or loaded, a migration finishing): a debugger waiting for a stop
// keeps waiting through them.
bool transient(RunState state) {
  return state == RunState::kSaveVm || state == RunState::kRestoreVm ||
         state == RunState::kFinishMigrate;
}

bool stopped_state(RunState state) {
  return state != RunState::kRunning && !transient(state);
}

}  // namespace

GdbSession::GdbSession(MachineControl& control, Cpu& cpu, Hooks hooks)
    : control_(control), cpu_(cpu), hooks_(std::move(hooks)) {
  state_listener_ =
      control_.add_state_listener([this](RunState from, RunState to) { state_changed(from, to); });
  event_listener_ = control_.add_event_listener([this](const MachineEvent& event) {
    if (event.kind == MachineEvent::Kind::kGuestPanicked) guest_panicked_ = true;
    if (event.kind == MachineEvent::Kind::kReset) guest_panicked_ = false;
  });
  // A panic that ends the process (no -no-shutdown) is told as X when it
  // ends, not as a stop just before.
  bus_listener_ = control_.events().add([this](const monitor::Event& event) {
    if (event.name == "GUEST_PANICKED" && event.data.string_or("action", "") == "poweroff") {
      process_ending_ = true;
    }
  });
}

GdbSession::~GdbSession() {
  control_.remove_listener(state_listener_);
  control_.remove_listener(event_listener_);
  control_.events().remove(bus_listener_);
  remove_all_points();
}

// ---------------------------------------------------------------------------
// Framing

void GdbSession::receive(std::span<const uint8_t> bytes) {
  while (!closed_ && !released_) {
    std::optional<RspEvent> event = reader_.next(&bytes);
    if (!event) return;
    on_event(*event);
  }
}

void GdbSession::on_event(const RspEvent& event) {
  switch (event.kind) {
    case RspEvent::Kind::kPacket: {
      ++statistics_.packets;
      bad_in_row_ = 0;
      if (!no_ack_) hooks_.send("+");
      std::optional<std::string> reply = handle_packet(event.payload);
      if (reply && !closed_) send_packet(*reply);
      if (event.payload == "QStartNoAckMode") no_ack_ = true;  // after its OK went out acked
      if (close_after_reply_) close();
      break;
    }
    case RspEvent::Kind::kAck:
      retransmits_ = 0;
      break;
    case RspEvent::Kind::kNak:
      if (no_ack_ || last_packet_.empty()) break;
      if (++retransmits_ > kMaxRetransmits) {
        close();
        break;
      }
      ++statistics_.retransmits;
      hooks_.send(last_packet_);
      break;
    case RspEvent::Kind::kInterrupt:
      ++statistics_.interrupts;
      interrupt();
      break;
    case RspEvent::Kind::kBadChecksum:
      ++statistics_.bad_checksums;
      if (!no_ack_) hooks_.send("-");  // please send it again
      bad_packet();
      break;
    case RspEvent::Kind::kMalformed:
    case RspEvent::Kind::kTooLong:
      // It arrived intact, so sending it again would not help: take it and
      // say it cannot be done.
      ++statistics_.malformed;
      if (!no_ack_) hooks_.send("+");
      send_packet("E01");
      bad_packet();
      break;
  }
}

void GdbSession::bad_packet() {
  if (++bad_in_row_ >= kMaxBadPackets) close();
}

void GdbSession::send_packet(std::string_view payload) {
  last_packet_ = frame_packet(payload, /*run_length=*/true);
  retransmits_ = 0;
  hooks_.send(last_packet_);
}

void GdbSession::close() {
  if (closed_) return;
  closed_ = true;
  if (hooks_.close) hooks_.close();
}

// ---------------------------------------------------------------------------
// Run control

void GdbSession::attach() {
  if (!control_.running()) return;  // prelaunch (-S), paused...: already still
  stopping_ = true;
  (void)control_.vm_stop(RunState::kDebug);
  stopping_ = false;
  last_stop_ = StopInfo{};
}

void GdbSession::release() {
  released_ = true;  // nothing more from this peer is acted upon
  restore_step_over();
  remove_all_points();
  resume_ = Resume::kNone;
  if (control_.run_state() == RunState::kDebug) (void)control_.vm_start();
}

void GdbSession::remove_all_points() {
  for (const auto& [address, use] : breakpoints_) {
    if (!step_over_ || *step_over_ != address) cpu_.clear_breakpoint(address);
  }
  breakpoints_.clear();
  step_over_.reset();
  for (const Watch& watch : watchpoints_) {
    cpu_.clear_watchpoint(watch.address, watch.length, watch.kind);
  }
  watchpoints_.clear();
}

void GdbSession::restore_step_over() {
  if (!step_over_) return;
  const uint32_t address = *step_over_;
  step_over_.reset();
  if (breakpoints_.contains(address)) (void)cpu_.set_breakpoint(address);
}

uint64_t GdbSession::slice_budget(uint64_t budget) const {
  if (resume_ == Resume::kStep || step_over_) return budget < 1 ? budget : 1;
  return budget;
}

std::optional<StopInfo> GdbSession::step_held() {
  const uint32_t at = cpu_.state().pc;
  const bool lifted = breakpoints_.contains(at) && cpu_.breakpoint_at(at);
  if (lifted) cpu_.clear_breakpoint(at);
  const StopReason reason = hooks_.step ? hooks_.step() : cpu_.step(StepEvents::kHold);
  if (lifted && breakpoints_.contains(at)) (void)cpu_.set_breakpoint(at);
  StopInfo stop;
  switch (reason) {
    case StopReason::kWatchpoint:
      return watch_stop(cpu_.last_stop());
    case StopReason::kGuestPanic:
      stop.signal = signal_number::kAbort;
      return stop;
    case StopReason::kHalted:
    case StopReason::kBlocked:
      return std::nullopt;  // nothing executed: it waits for an interrupt or the host
    default:
      return stop;
  }
}

std::optional<std::string> GdbSession::resume(Resume how, std::optional<uint32_t> pc) {
  if (pc) {
    if (Error error = control_.write_register("pc", *pc); !error.ok()) return "E16";
  }
  const RunState state = control_.run_state();
  if (state != RunState::kRunning) {
    // The VM cannot run (powered off, crashed, an incoming migration): say
    // where it stands.
    const bool refused = state == RunState::kShutdown || state == RunState::kInternalError ||
                         state == RunState::kInMigrate || cpu_.panicked() ||
                         !run_state_transition_allowed(state, RunState::kRunning);
    if (refused) {
      last_stop_ = stop_for_state(state);
      return stop_reply(last_stop_);
    }
    // One instruction with pending interrupts held, on a stopped VM: a
    // single step (which then never wanders into an interrupt handler), or
    // the step off a breakpoint at PC before a continue (which an interrupt
    // taken first would bring straight back to the breakpoint).
    const uint32_t at = cpu_.state().pc;
    if (!cpu_.halted() && (how == Resume::kStep || breakpoints_.contains(at))) {
      std::optional<StopInfo> stepped = step_held();
      if (stepped && (how == Resume::kStep || stepped->cause != StopInfo::Cause::kNone ||
                      stepped->signal != signal_number::kTrap)) {
        last_stop_ = *stepped;
        return stop_reply(last_stop_);
      }
      if (!stepped && how == Resume::kStep && !cpu_.halted()) {
        // Blocked on the host (semihosting): nothing ran, say so as a stop.
        last_stop_ = StopInfo{};
        return stop_reply(last_stop_);
      }
    }
    if (Error error = control_.cont(); !error.ok()) {
      last_stop_ = stop_for_state(state);
      return stop_reply(last_stop_);
    }
  }
  resume_ = how;
  if (how == Resume::kStep) {
    // A sleeping CPU (or one running already): the machine runs one
    // instruction per slice until one executes. A breakpoint at PC is
    // lifted for it.
    const uint32_t at = cpu_.state().pc;
    if (!step_over_ && breakpoints_.contains(at) && cpu_.breakpoint_at(at)) {
      cpu_.clear_breakpoint(at);
      step_over_ = at;
    }
  }
  return std::nullopt;  // the stop reply comes when the VM stops
}

void GdbSession::interrupt() {
  if (resume_ == Resume::kNone) return;  // nothing is waiting for a stop
  StopInfo stop;
  stop.signal = signal_number::kInt;
  if (control_.running()) {
    report(stop);
  } else {
    resume_ = Resume::kNone;
    last_stop_ = stop_for_state(control_.run_state());
    send_packet(stop_reply(last_stop_));
  }
}

void GdbSession::cpu_stopped(StopReason reason, uint64_t executed) {
  if (released_ || !control_.running()) return;  // stopped meanwhile: reported there
  if (step_over_ && (executed > 0 || reason == StopReason::kWatchpoint)) restore_step_over();
  StopInfo stop;
  switch (reason) {
    case StopReason::kBreakpoint: {
      const uint32_t address = cpu_.last_stop().address;
      auto found = breakpoints_.find(address);
      if (found == breakpoints_.end()) return;  // not ours
      stop.cause = found->second.software ? StopInfo::Cause::kSwBreak : StopInfo::Cause::kHwBreak;
      report(stop);
      return;
    }
    case StopReason::kWatchpoint:
      if (watchpoints_.empty()) return;  // not ours
      report(watch_stop(cpu_.last_stop()));
      return;
    default:
      if (resume_ == Resume::kStep && executed > 0) report(stop);
      return;
  }
}

StopInfo GdbSession::watch_stop(const DebugStop& hit) {
  StopInfo stop;
  stop.watch_address = hit.address;
  stop.cause = hit.watch_kind == WatchKind::kWrite  ? StopInfo::Cause::kWatch
               : hit.watch_kind == WatchKind::kRead ? StopInfo::Cause::kReadWatch
                                                    : StopInfo::Cause::kAccessWatch;
  return stop;
}

void GdbSession::report(const StopInfo& stop) {
  restore_step_over();
  last_stop_ = stop;
  if (control_.running()) {
    stopping_ = true;
    (void)control_.vm_stop(RunState::kDebug);
    stopping_ = false;
  }
  if (resume_ != Resume::kNone) {
    resume_ = Resume::kNone;
    send_packet(stop_reply(stop));
  }
}

void GdbSession::state_changed(RunState from, RunState to) {
  if (stopping_ || closed_ || released_ || process_ending_) return;
  if (!stopped_state(to) || !(from == RunState::kRunning || transient(from))) return;
  // Stopped by someone else: a monitor's stop, a power-off kept by
  // -no-shutdown, a guest panic, a finished migration.
  restore_step_over();
  last_stop_ = stop_for_state(to);
  if (resume_ != Resume::kNone) {
    resume_ = Resume::kNone;
    send_packet(stop_reply(last_stop_));
  }
}

StopInfo GdbSession::stop_for_state(RunState state) const {
  StopInfo stop;
  switch (state) {
    case RunState::kPaused:
      stop.signal = signal_number::kInt;
      break;
    case RunState::kShutdown:
      stop.signal = signal_number::kQuit;
      break;
    case RunState::kGuestPanicked:
      stop.signal = signal_number::kAbort;
      break;
    default:
      stop.signal = signal_number::kTrap;
      break;
  }
  return stop;
}

void GdbSession::machine_exiting(int status) {
  if (closed_ || released_) return;
  StopInfo stop;
  if (guest_panicked_) {
    stop.kind = StopInfo::Kind::kTerminated;
    stop.signal = signal_number::kAbort;
  } else {
    stop.kind = StopInfo::Kind::kExited;
    stop.exit_code = static_cast<uint8_t>(status & 0xFF);
  }
  last_stop_ = stop;
  resume_ = Resume::kNone;
  send_packet(stop_reply(stop));
}

std::string GdbSession::stop_reply(const StopInfo& stop) {
  char text[64];
  switch (stop.kind) {
    case StopInfo::Kind::kExited:
      std::snprintf(text, sizeof text, "W%02x", stop.exit_code);
      return text;
    case StopInfo::Kind::kTerminated:
      std::snprintf(text, sizeof text, "X%02x", stop.signal);
      return text;
    case StopInfo::Kind::kSignal:
      break;
  }
  std::snprintf(text, sizeof text, "T%02x", stop.signal);
  std::string reply = text;
  switch (stop.cause) {
    case StopInfo::Cause::kSwBreak:
      if (peer_swbreak_) reply += "swbreak:;";
      break;
    case StopInfo::Cause::kHwBreak:
      if (peer_hwbreak_) reply += "hwbreak:;";
      break;
    case StopInfo::Cause::kWatch:
    case StopInfo::Cause::kReadWatch:
    case StopInfo::Cause::kAccessWatch: {
      const char* name = stop.cause == StopInfo::Cause::kWatch       ? "watch"
                         : stop.cause == StopInfo::Cause::kReadWatch ? "rwatch"
                                                                     : "awatch";
      std::snprintf(text, sizeof text, "%s:%x;", name, stop.watch_address);
      reply += text;
      break;
    }
    case StopInfo::Cause::kNone:
      break;
  }
  // Expedite sp and pc so a debugger can show where it stopped at once.
  for (unsigned number : {kGdbRegisterSp, kGdbRegisterPc}) {
    Expected<uint32_t> value = read_gdb_register(control_, number);
    if (!value) continue;
    std::snprintf(text, sizeof text, "%02x:", number);
    reply += text + encode_register_value(*value, gdb_registers()[number].bytes) + ";";
  }
  reply += "thread:01;";
  return reply;
}

}  // namespace cr16::system::gdbstub
