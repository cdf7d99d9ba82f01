#include "hw/virtual_clock.h"

#include <time.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstddef>
#include <string>

namespace cr16 {

namespace {

/// Loaded times are accepted below 2^62 ns (about 146 years), so adding a
/// period or a host delta to one can never overflow.
constexpr int64_t kMaxLoadedNs = int64_t{1} << 62;

Error check_clock_state(void* object) {
  const auto* state = static_cast<const VirtualClockState*>(object);
  if (state->now_ns < 0 || state->now_ns >= kMaxLoadedNs) {
    return Error("clock: now_ns " + std::to_string(state->now_ns) + " is outside [0, 2^62)");
  }
  return Error();
}

constexpr StateField kClockFields[] = {
    CR16_STATE_FIELD(VirtualClockState, now_ns),
};

}  // namespace

int64_t host_monotonic_ns() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

const StateDescription& virtual_clock_state_description() {
  static const StateDescription description{
      .name = "clock",
      .version = 1,
      .minimum_version = 1,
      .object_size = sizeof(VirtualClockState),
      .fields = kClockFields,
      .subsections = {},
      .post_load = check_clock_state,
  };
  return description;
}

VirtualClock::VirtualClock(HostSource host) : host_(std::move(host)) {}

VirtualClock::~VirtualClock() = default;

int64_t VirtualClock::now_ns() {
  if (instructions_) {
    if (!in_slice_) return icount_now_;
    return icount_now_ +
           static_cast<int64_t>((instructions_() - slice_start_instructions_) << shift_);
  }
  return running_ ? host_() - offset_ : frozen_;
}

DeviceClock::TimerHandle VirtualClock::arm(int64_t deadline_ns, std::function<void()> callback) {
  TimerHandle handle = next_handle_++;
  timers_.emplace(TimerKey{deadline_ns, handle}, std::move(callback));
  deadlines_.emplace(handle, deadline_ns);
  return handle;
}

void VirtualClock::cancel(TimerHandle handle) {
  auto it = deadlines_.find(handle);
  if (it == deadlines_.end()) return;
  timers_.erase(TimerKey{it->second, handle});
  deadlines_.erase(it);
}

void VirtualClock::use_instruction_count(std::function<uint64_t()> instructions, unsigned shift) {
  assert(instructions && shift < 32 && !in_slice_);
  int64_t now = now_ns();
  instructions_ = std::move(instructions);
  shift_ = shift;
  icount_now_ = now;
  anchor_alignment();
}

void VirtualClock::set_align(bool align) {
  assert(!align || instructions_);
  align_ = align;
  anchor_alignment();
}

void VirtualClock::anchor_alignment() {
  if (!align_) return;
  align_host_ = host_();
  align_virtual_ = now_ns();
}

int64_t VirtualClock::ahead_ns() {
  if (!align_ || !running_) return 0;
  const int64_t ahead = (now_ns() - align_virtual_) - (host_() - align_host_);
  if (ahead < -kMaxAlignLagNs) {
    anchor_alignment();
    return 0;
  }
  return ahead;
}

void VirtualClock::pause() {
  if (!running_) return;
  if (instructions_) {
    if (in_slice_) end_slice();
    idle_host_start_ = -1;
  } else {
    frozen_ = host_() - offset_;
  }
  running_ = false;
}

void VirtualClock::resume() {
  if (running_) return;
  if (!instructions_) offset_ = host_() - frozen_;
  running_ = true;
  anchor_alignment();
}

void VirtualClock::set_now(int64_t ns) {
  assert(ns >= 0);
  if (instructions_) {
    icount_now_ = ns;
    if (in_slice_) slice_start_instructions_ = instructions_();
    if (idle_host_start_ >= 0) idle_host_start_ = host_();
  } else if (running_) {
    offset_ = host_() - ns;
  } else {
    frozen_ = ns;
  }
  anchor_alignment();
}

void VirtualClock::begin_slice() {
  if (!instructions_ || in_slice_) return;
  slice_start_instructions_ = instructions_();
  in_slice_ = true;
}

void VirtualClock::end_slice() {
  if (!instructions_ || !in_slice_) return;
  icount_now_ += static_cast<int64_t>((instructions_() - slice_start_instructions_) << shift_);
  in_slice_ = false;
}

uint64_t VirtualClock::slice_budget(uint64_t limit) {
  if (align_) limit = std::min<uint64_t>(limit, (kAlignQuantumNs >> shift_) + 1);
  if (!instructions_ || timers_.empty()) return limit;
  int64_t delta = std::max<int64_t>(next_deadline() - now_ns(), 0);
  uint64_t instructions = (static_cast<uint64_t>(delta) >> shift_) + 1;
  return std::min(limit, instructions);
}

void VirtualClock::begin_idle() {
  if (!instructions_ || !running_) return;
  idle_host_start_ = host_();
}

void VirtualClock::end_idle() {
  if (idle_host_start_ < 0) return;
  int64_t elapsed = std::max<int64_t>(host_() - idle_host_start_, 0);
  idle_host_start_ = -1;
  if (!running_) return;
  if (timers_.empty()) {
    // Paced: an idle CPU's time passes as the host's does.
    if (align_) icount_now_ += elapsed;
    return;
  }
  // Follow host time, but never past the next deadline: the timer then
  // fires at exactly its virtual time, as it would have with instructions.
  int64_t until_deadline = std::max<int64_t>(next_deadline() - icount_now_, 0);
  icount_now_ += std::min(elapsed, until_deadline);
}

int64_t VirtualClock::next_deadline() const {
  return timers_.empty() ? INT64_MAX : timers_.begin()->first.first;
}

int64_t VirtualClock::host_timeout_ns() {
  if (!running_ || timers_.empty()) return -1;
  return std::max<int64_t>(next_deadline() - now_ns(), 0);
}

size_t VirtualClock::run_due_timers() {
  if (!running_) return 0;
  size_t ran = 0;
  // Timers armed by these callbacks wait for the next call, even when due:
  // a callback that re-arms in the past cannot keep this loop going.
  const TimerHandle armed_before = next_handle_;
  while (!timers_.empty()) {
    auto first = timers_.begin();
    if (first->first.first > now_ns() || first->first.second >= armed_before) break;
    std::function<void()> callback = std::move(first->second);
    deadlines_.erase(first->first.second);
    timers_.erase(first);
    callback();
    ++ran;
  }
  return ran;
}

const StateDescription& VirtualClock::state_description() const {
  return virtual_clock_state_description();
}

void* VirtualClock::state_data() {
  state_.now_ns = now_ns();
  return &state_;
}

void VirtualClock::state_loaded() {
  set_now(state_.now_ns);
}

}  // namespace cr16
