#include "hw/timer.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kCtrlBits =
    virt::kTimerChCtrlEnable | virt::kTimerChCtrlOneshot | virt::kTimerChCtrlIe;

constexpr StateField kChannelFields[] = {
    CR16_STATE_FIELD(TimerChannelState, load),
    CR16_STATE_FIELD(TimerChannelState, count),
    CR16_STATE_FIELD(TimerChannelState, ctrl).mask(kCtrlBits),
    CR16_STATE_FIELD(TimerChannelState, status).mask(virt::kTimerChStatusExpired),
    CR16_STATE_FIELD(TimerChannelState, sync_ns),
};

// sync_ns is added to up to 2^32 ticks and subtracted from "now": keep it
// in [0, 2^62). A running channel counts down from a non-zero count (it
// reloads or stops on reaching 0).
Error validate_channel(void* object) {
  const auto* channel = static_cast<const TimerChannelState*>(object);
  if (Error error = check_state_time("sync_ns", channel->sync_ns); !error.ok()) {
    return error;
  }
  if ((channel->ctrl & virt::kTimerChCtrlEnable) && channel->count == 0) {
    return Error("enabled with count 0");
  }
  return Error();
}

const StateDescription kChannelDescription = {
    "timer-channel", 1, 1, sizeof(TimerChannelState), kChannelFields, {}, validate_channel};

constexpr StateField kTimerFields[] = {
    CR16_STATE_FIELD(TimerState, epoch_ns),
    CR16_STATE_FIELD(TimerState, now_latch),
    CR16_STATE_STRUCT(TimerState, channel, kChannelDescription),
};

Error validate_timer(void* object) {
  const auto* state = static_cast<const TimerState*>(object);
  return check_state_time("epoch_ns", state->epoch_ns);
}

const StateDescription kTimerDescription = {
    "timer", 1, 1, sizeof(TimerState), kTimerFields, {}, validate_timer};

uint32_t reload_value(const TimerChannelState& channel) {
  return channel.load == 0 ? 1 : channel.load;
}

/// True when REG is in a channel's register block: gives the channel and
/// the register's offset within the block.
bool split_channel_register(uint32_t reg, unsigned* index, unsigned* channel_reg) {
  const uint32_t offset = reg - virt::kTimerChannelBase;
  if (reg < virt::kTimerChannelBase ||
      offset >= virt::kTimerChannelCount * virt::kTimerChannelStride) {
    return false;
  }
  *index = offset / virt::kTimerChannelStride;
  *channel_reg = offset % virt::kTimerChannelStride;
  return true;
}

}  // namespace

TimerDevice::TimerDevice(DeviceClock& clock, std::array<IrqLine, 2> lines)
    : RegisterDevice("timer"), clock_(clock), lines_(lines) {
  reset();
}

TimerDevice::~TimerDevice() {
  for (auto handle : deadlines_) clock_.cancel(handle);
}

void TimerDevice::reset() {
  for (auto& handle : deadlines_) {
    clock_.cancel(handle);
    handle = 0;
  }
  state_ = TimerState{};
  state_.epoch_ns = clock_.now_ns();
  for (unsigned c = 0; c < 2; ++c) update_line(c);
}

namespace {

/// Brings CHANNEL forward to NOW: its count, EXPIRED, a one-shot's enable.
/// True when it expired on the way. Touches nothing else (lines, deadlines),
/// so a debugger's peek can run it on a copy.
bool advance_channel(TimerChannelState& channel, int64_t now) {
  if (!(channel.ctrl & virt::kTimerChCtrlEnable)) {
    channel.sync_ns = now;
    return false;
  }
  if (now <= channel.sync_ns) return false;
  uint64_t ticks = static_cast<uint64_t>(now - channel.sync_ns) / virt::kNsPerTick;
  channel.sync_ns += static_cast<int64_t>(ticks) * virt::kNsPerTick;
  if (channel.count == 0) channel.count = reload_value(channel);  // only after a bad load
  if (ticks < channel.count) {
    channel.count -= static_cast<uint32_t>(ticks);
    return false;
  }
  channel.status |= virt::kTimerChStatusExpired;
  if (channel.ctrl & virt::kTimerChCtrlOneshot) {
    channel.count = 0;
    channel.ctrl &= ~virt::kTimerChCtrlEnable;
  } else {
    uint64_t reload = reload_value(channel);
    uint64_t past = ticks - channel.count;
    channel.count = static_cast<uint32_t>(reload - past % reload);
  }
  return true;
}

}  // namespace

void TimerDevice::sync_channel(unsigned index) {
  if (advance_channel(state_.channel[index], clock_.now_ns())) {
    update_line(index);  // the line follows EXPIRED as soon as a read observes it
  }
}

void TimerDevice::rearm(unsigned index) {
  clock_.cancel(deadlines_[index]);
  deadlines_[index] = 0;
  const TimerChannelState& channel = state_.channel[index];
  if (!(channel.ctrl & virt::kTimerChCtrlEnable)) return;
  uint32_t count = channel.count == 0 ? reload_value(channel) : channel.count;
  int64_t deadline = channel.sync_ns + static_cast<int64_t>(count) * virt::kNsPerTick;
  deadlines_[index] = clock_.arm(deadline, [this, index] { expire(index); });
}

void TimerDevice::expire(unsigned index) {
  deadlines_[index] = 0;
  sync_channel(index);
  rearm(index);
  update_line(index);
}

void TimerDevice::update_line(unsigned index) {
  const TimerChannelState& channel = state_.channel[index];
  lines_[index].set((channel.status & virt::kTimerChStatusExpired) &&
                    (channel.ctrl & virt::kTimerChCtrlIe));
}

uint32_t TimerDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kTimerNowLo: {
      uint64_t micros = static_cast<uint64_t>(clock_.now_ns() - state_.epoch_ns) / virt::kNsPerTick;
      if (side_effects) state_.now_latch = micros;
      return static_cast<uint32_t>(micros);
    }
    case virt::kTimerNowHi:
      return static_cast<uint32_t>(state_.now_latch >> 32);
    case virt::kTimerFreq:
      return virt::kTimerFreqHz;
    default:
      break;
  }
  if (unsigned index, channel_reg; split_channel_register(reg, &index, &channel_reg)) {
    // Without side effects (a debugger's peek, a read not including byte
    // 0) the channel is brought forward on a copy: same value, no state or
    // line change.
    TimerChannelState peeked = state_.channel[index];
    if (side_effects) {
      sync_channel(index);
    } else {
      advance_channel(peeked, clock_.now_ns());
    }
    const TimerChannelState& channel = side_effects ? state_.channel[index] : peeked;
    switch (channel_reg) {
      case virt::kTimerChLoad:
        return channel.load;
      case virt::kTimerChCount:
        return channel.count;
      case virt::kTimerChCtrl:
        return channel.ctrl;
      case virt::kTimerChStatus:
        return channel.status;
      default:
        break;
    }
  }
  log_bad_register("read", reg);
  return 0;
}

void TimerDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  if (unsigned index, channel_reg; split_channel_register(reg, &index, &channel_reg)) {
    sync_channel(index);
    TimerChannelState& channel = state_.channel[index];
    switch (channel_reg) {
      case virt::kTimerChLoad:
        channel.load = merge(channel.load, value, byte_mask);
        return;  // takes effect at the next reload
      case virt::kTimerChCount:
        return;  // read-only
      case virt::kTimerChCtrl: {
        bool was_enabled = channel.ctrl & virt::kTimerChCtrlEnable;
        channel.ctrl = merge(channel.ctrl, value, byte_mask) & kCtrlBits;
        if (!was_enabled && (channel.ctrl & virt::kTimerChCtrlEnable)) {
          channel.count = reload_value(channel);
          channel.sync_ns = clock_.now_ns();
        }
        rearm(index);
        update_line(index);
        return;
      }
      case virt::kTimerChStatus:
        channel.status &= ~(value & virt::kTimerChStatusExpired);
        update_line(index);
        return;
      default:
        break;
    }
  } else if (reg == virt::kTimerNowLo || reg == virt::kTimerNowHi || reg == virt::kTimerFreq) {
    return;  // read-only
  }
  log_bad_register("write", reg);
}

const StateDescription& timer_state_description() {
  return kTimerDescription;
}

const StateDescription& TimerDevice::state_description() const {
  return kTimerDescription;
}

void TimerDevice::state_loaded() {
  for (unsigned c = 0; c < 2; ++c) {
    rearm(c);
    update_line(c);
  }
}

}  // namespace cr16
