// One debugger's session: the GDB Remote Serial Protocol on top of the
// framing layer (packet.h), acting on the machine through MachineControl
// and the CPU's debugger API (breakpoints, watchpoints, last_stop()). It
// knows no sockets: bytes come in through receive() and go out through a
// hook, so the packet dispatcher is fuzzed (tests/fuzz/rsp) and unit-tested
// without a network. The server (server.h) owns one per connected client.
// Machine thread only. See docs/gdb.md for the packets and their replies.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "system/gdbstub/packet.h"
#include "system/machine_control.h"

namespace cr16::system::gdbstub {

/// GDB's signal numbers for the stops we report.
namespace signal_number {
inline constexpr uint8_t kInt = 2;    // interrupted (Ctrl-C, a monitor's stop)
inline constexpr uint8_t kQuit = 3;   // the guest powered off (-no-shutdown keeps the VM)
inline constexpr uint8_t kAbort = 6;  // the guest panicked
inline constexpr uint8_t kTrap = 5;   // breakpoint, watchpoint, single step, debugger stop
}  // namespace signal_number

/// Why the target stopped, as a stop reply says it.
struct StopInfo {
  enum class Kind : uint8_t { kSignal, kExited, kTerminated };
  enum class Cause : uint8_t { kNone, kSwBreak, kHwBreak, kWatch, kReadWatch, kAccessWatch };
  Kind kind = Kind::kSignal;
  uint8_t signal = signal_number::kTrap;  // kSignal, kTerminated
  uint8_t exit_code = 0;                  // kExited
  Cause cause = Cause::kNone;
  uint32_t watch_address = 0;  // the watched range that was hit
};

class GdbSession {
 public:
  /// What the session needs from its owner.
  struct Hooks {
    /// Bytes for the peer (framed packets, acknowledgements). Never blocks.
    std::function<void(std::string_view bytes)> send;
    /// The session is over (`D`, or a peer that keeps sending garbage): the
    /// owner drops the connection once the output is flushed.
    std::function<void()> close;
    /// `k`: end the emulator.
    std::function<void()> kill;
    /// qRcmd: runs one monitor line and returns its output.
    std::function<std::string(std::string_view line)> monitor;
    /// Executes one instruction of the stopped VM with pending interrupts
    /// held (virtual time and board events as a slice would have them).
    /// Unset: Cpu::step(StepEvents::kHold) directly.
    std::function<StopReason()> step;
  };

  /// Counters for tests and `info` style reports.
  struct Statistics {
    uint64_t packets = 0;        // well-formed packets handled
    uint64_t bad_checksums = 0;  // NAKed
    uint64_t malformed = 0;      // bad encoding or over PacketSize
    uint64_t retransmits = 0;    // replies sent again after a NAK
    uint64_t interrupts = 0;     // Ctrl-C bytes
  };

  /// A session on `control` and its `cpu` (both must outlive it). Listens
  /// to run-state changes and machine events until destroyed.
  GdbSession(MachineControl& control, Cpu& cpu, Hooks hooks);
  /// Removes the breakpoints and watchpoints this session set.
  ~GdbSession();
  GdbSession(const GdbSession&) = delete;
  GdbSession& operator=(const GdbSession&) = delete;

  /// Bytes from the peer, in any split.
  void receive(std::span<const uint8_t> bytes);

  // ---- The machine's side (called by the server)

  /// A debugger connected: a running VM stops in `debug`.
  void attach();
  /// The debugger is gone (detached or disconnected): its breakpoints and
  /// watchpoints are removed, a VM it held in `debug` runs again, and
  /// nothing it still sends is acted upon.
  void release();
  /// The instructions the machine may run in its next slice: 1 while a
  /// single step of a sleeping CPU (or of a VM another front end runs) is
  /// in progress.
  uint64_t slice_budget(uint64_t budget) const;
  /// After every CPU slice of a running VM: a breakpoint, watchpoint or
  /// finished step stops the VM in `debug` and is reported.
  void cpu_stopped(StopReason reason, uint64_t executed);
  /// The process is about to end with `status`: W (exit code) or X (a
  /// guest panic) goes to the peer.
  void machine_exiting(int status);

  /// True once the session ended (`D`, `k`, too many bad packets).
  bool closed() const { return closed_; }
  const Statistics& statistics() const { return statistics_; }
  /// True after QStartNoAckMode.
  bool no_ack_mode() const { return no_ack_; }
  /// The last stop (what `?` answers).
  const StopInfo& last_stop() const { return last_stop_; }

  /// Bad packets in a row after which the peer is dropped.
  static constexpr unsigned kMaxBadPackets = 16;
  /// NAKs of one reply after which the peer is dropped.
  static constexpr unsigned kMaxRetransmits = 8;

 private:
  enum class Resume : uint8_t { kNone, kContinue, kStep };
  struct BreakpointUse {
    bool software = false;
    bool hardware = false;
  };
  struct Watch {
    uint32_t address;
    uint32_t length;
    WatchKind kind;
  };

  // Framing
  void on_event(const RspEvent& event);
  void send_packet(std::string_view payload);
  void bad_packet();
  void close();

  // Dispatch (session_packets.cpp)
  std::optional<std::string> handle_packet(std::string_view packet);
  std::string handle_query(std::string_view packet);
  std::string handle_v(std::string_view packet);
  std::string read_memory(std::string_view arguments);
  std::string write_memory(std::string_view arguments, bool binary);
  std::string read_register(std::string_view arguments);
  std::string write_register(std::string_view arguments);
  std::string breakpoint(std::string_view arguments, bool insert);
  std::string monitor_command(std::string_view hex);
  std::string features_read(std::string_view arguments);
  std::optional<std::string> resume_packet(char action, std::string_view arguments);
  std::optional<std::string> vcont(std::string_view actions);

  // Run control
  std::optional<std::string> resume(Resume how, std::optional<uint32_t> pc);
  std::optional<StopInfo> step_held();
  StopInfo watch_stop(const DebugStop& hit);
  void interrupt();
  void report(const StopInfo& stop);
  void restore_step_over();
  void state_changed(RunState from, RunState to);
  StopInfo stop_for_state(RunState state) const;
  std::string stop_reply(const StopInfo& stop);
  void remove_all_points();

  MachineControl& control_;
  Cpu& cpu_;
  Hooks hooks_;
  MachineControl::ListenerId state_listener_ = 0;
  MachineControl::ListenerId event_listener_ = 0;
  uint64_t bus_listener_ = 0;

  PacketReader reader_;
  bool no_ack_ = false;
  bool closed_ = false;
  bool close_after_reply_ = false;
  bool released_ = false;  // release() ran: the debugger is gone  // `D`: the OK goes out, then the
                           // connection closes
  std::string last_packet_;  // framed, for a NAK
  unsigned retransmits_ = 0;
  unsigned bad_in_row_ = 0;
  bool peer_swbreak_ = false;  // the peer said swbreak+ / hwbreak+ in qSupported
  bool peer_hwbreak_ = false;

  Resume resume_ = Resume::kNone;      // a c/s/vCont waiting for its stop reply
  std::optional<uint32_t> step_over_;  // breakpoint lifted to step off it
  bool stopping_ = false;              // inside our own vm_stop()
  bool guest_panicked_ = false;
  bool process_ending_ = false;  // a panic ends the process: X, not a stop
  StopInfo last_stop_;
  std::map<uint32_t, BreakpointUse> breakpoints_;
  std::vector<Watch> watchpoints_;
  Statistics statistics_;
};

}  // namespace cr16::system::gdbstub
