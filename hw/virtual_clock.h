// Guest time as an object: the DeviceClock of a running machine. It keeps
// its own deadline-ordered timers, reads a time source (the host's monotonic
// clock, or with -icount the CPU's instruction count << shift), stands still
// while the VM is stopped, and describes its state (section "clock": the
// virtual now) so a loaded machine continues exactly where the source left
// off, whatever the destination's host clock reads. See docs/machine.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "hw/device_clock.h"
#include "util/state.h"

namespace cr16 {

/// What the clock saves (section "clock", version 1): the virtual time at
/// save time. Loading sets the clock to it (VirtualClock::set_now).
struct VirtualClockState {
  int64_t now_ns = 0;
};
static_assert(std::has_unique_object_representations_v<VirtualClockState>);

/// Nanoseconds of the host's monotonic clock (CLOCK_MONOTONIC).
int64_t host_monotonic_ns();

/// The machine's virtual clock. Virtual time starts at 0 and stopped; the
/// machine resumes it when the VM starts running. Machine thread only.
///
/// Two time sources:
///  - host time (the default): virtual time advances with the host clock
///    while running, by the same amount, and not at all while paused;
///  - instruction count (-icount N, use_instruction_count()): virtual time
///    advances by `instructions << N` ns for what the CPU executes between
///    begin_slice() and end_slice(), and, while the CPU is idle (between
///    begin_idle() and end_idle()), with host time up to the next deadline
///    (QEMU's sleep=on warp), so a sleeping guest's timers still fire.
class VirtualClock final : public DeviceClock, public Stateful {
 public:
  using HostSource = std::function<int64_t()>;

  /// `host` reads the host's monotonic time in ns (tests inject fake ones).
  explicit VirtualClock(HostSource host = host_monotonic_ns);
  ~VirtualClock() override;
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  // ---- DeviceClock
  /// The current virtual time in ns.
  int64_t now_ns() override;
  /// Arms a one-shot deadline; it fires from run_due_timers() once virtual
  /// time reaches it (a past deadline fires at the next call). Equal
  /// deadlines fire in arming order. Never returns 0.
  TimerHandle arm(int64_t deadline_ns, std::function<void()> callback) override;
  /// Cancels a deadline; unknown, fired and 0 handles are ignored.
  void cancel(TimerHandle handle) override;

  // ---- Source
  /// Switches to instruction-count time: `instructions` reads the CPU's
  /// retired-instruction counter (any origin: only differences within a
  /// slice are used), `shift` is -icount's N. Virtual time continues from
  /// its current value.
  void use_instruction_count(std::function<uint64_t()> instructions, unsigned shift);
  /// True with -icount.
  bool counts_instructions() const { return static_cast<bool>(instructions_); }
  /// -icount ...,align=on: keep instruction-count time in step with host
  /// time, so the CPU runs at a fixed rate of one instruction per 2^shift
  /// ns of real time. The machine asks ahead_ns() before each slice and
  /// sleeps (serving io) while virtual time is ahead. Idle time follows
  /// host time even with no deadline armed. Needs use_instruction_count().
  void set_align(bool align);
  bool aligned() const { return align_; }
  /// With align: how far virtual time is ahead of host time (ns; <= 0 when
  /// it is not). When it has fallen behind by more than kMaxAlignLagNs (the
  /// host was busy, the process was stopped) the comparison starts afresh
  /// instead of letting the guest race to catch up. 0 without align or
  /// while paused.
  int64_t ahead_ns();
  static constexpr int64_t kMaxAlignLagNs = 50'000'000;
  /// With align: the longest slice, in virtual ns (a paced CPU runs this
  /// much, then sleeps; it bounds how late host input is seen).
  static constexpr int64_t kAlignQuantumNs = 2'000'000;
  /// -icount's shift (0 without -icount).
  unsigned shift() const { return shift_; }

  // ---- Running and stopped
  /// Stops virtual time (the VM stopped); timers do not fire while paused.
  void pause();
  /// Lets virtual time run again from where it stopped.
  void resume();
  bool running() const { return running_; }

  /// Sets the current virtual time (loading a saved machine; tests). Later
  /// readings continue from it at the source's rate; armed timers keep their
  /// absolute deadlines. `ns` must not be negative.
  void set_now(int64_t ns);

  // ---- What the machine loop calls
  /// Brackets one CPU slice: with -icount, instructions retired in between
  /// become virtual time (readings inside the slice include them as they
  /// happen). No effect with host time.
  void begin_slice();
  void end_slice();
  /// With -icount: how many instructions the CPU may run, at most `limit`,
  /// so that the slice ends at or just past the next deadline (at least 1).
  /// With host time: `limit`.
  uint64_t slice_budget(uint64_t limit);
  /// Brackets a wait for io while the CPU sleeps or is blocked: with -icount
  /// virtual time then follows host time up to the next deadline (it never
  /// passes it). No effect with host time or while paused.
  void begin_idle();
  void end_idle();

  /// The earliest armed deadline, or INT64_MAX.
  int64_t next_deadline() const;
  /// How long the machine may sleep (host ns) before the next deadline is
  /// due: 0 when one is due, -1 when none is armed or the clock is paused.
  int64_t host_timeout_ns();
  /// Runs every timer whose deadline has been reached, in deadline order
  /// (each sees now_ns() at or past its deadline). A timer armed by one of
  /// these callbacks stops the run when it comes first; it and the timers
  /// behind it run at the next call. Returns how many ran. No-op while paused.
  size_t run_due_timers();
  /// Number of armed deadlines.
  size_t armed_count() const { return timers_.size(); }

  // ---- Stateful (section "clock")
  const StateDescription& state_description() const override;
  /// Refreshes the saved struct with the current virtual time and returns it.
  void* state_data() override;
  /// Sets the clock to the loaded virtual time.
  void state_loaded() override;

 private:
  using TimerKey = std::pair<int64_t, TimerHandle>;

  HostSource host_;
  bool running_ = false;
  // Host-time source: now = host() - offset_ while running, frozen_ while paused.
  int64_t offset_ = 0;
  int64_t frozen_ = 0;
  // Instruction-count source.
  std::function<uint64_t()> instructions_;
  unsigned shift_ = 0;
  int64_t icount_now_ = 0;  // virtual time at the start of the current slice
  bool in_slice_ = false;
  uint64_t slice_start_instructions_ = 0;
  int64_t idle_host_start_ = -1;  // -1: not idle
  // Alignment with host time: virtual and host readings taken together.
  bool align_ = false;
  int64_t align_host_ = 0;
  int64_t align_virtual_ = 0;
  void anchor_alignment();

  std::map<TimerKey, std::function<void()>> timers_;
  std::unordered_map<TimerHandle, int64_t> deadlines_;  // handle -> deadline
  TimerHandle next_handle_ = 1;

  VirtualClockState state_;
};

/// The description of VirtualClockState (section "clock", version 1); its
/// post_load accepts a virtual time in [0, 2^62).
const StateDescription& virtual_clock_state_description();

}  // namespace cr16
