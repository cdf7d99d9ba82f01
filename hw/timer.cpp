#include "hw/timer.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kAll = 0xFFFFFFFFu;
constexpr uint32_t kCtrlBits =
    virt::kTimerChCtrlEnable | virt::kTimerChCtrlOneshot | virt::kTimerChCtrlIe;

constexpr size_t channel_field(unsigned channel, size_t member) {
  return offsetof(TimerState, channel) + channel * sizeof(TimerChannelState) + member;
}

#define CR16_TIMER_CHANNEL_FIELDS(c)                                                               \
  {"ch" #c "_load", LegacyFieldKind::kU32, channel_field(c, offsetof(TimerChannelState, load)), 1, \
   kAll},                                                                                          \
      {"ch" #c "_count", LegacyFieldKind::kU32,                                                    \
       channel_field(c, offsetof(TimerChannelState, count)), 1, kAll},                             \
      {"ch" #c "_ctrl", LegacyFieldKind::kU32,                                                     \
       channel_field(c, offsetof(TimerChannelState, ctrl)), 1, kCtrlBits},                         \
      {"ch" #c "_status", LegacyFieldKind::kU32,                                                   \
       channel_field(c, offsetof(TimerChannelState, status)), 1, virt::kTimerChStatusExpired},     \
      {"ch" #c "_sync_ns_lo", LegacyFieldKind::kU32,                                               \
       channel_field(c, offsetof(TimerChannelState, sync_ns_lo)), 1, kAll},                        \
  {                                                                                                \
    "ch" #c "_sync_ns_hi", LegacyFieldKind::kU32,                                                  \
        channel_field(c, offsetof(TimerChannelState, sync_ns_hi)), 1, kAll                         \
  }

constexpr std::array<LegacyStateField, 15> kTimerFields = {{
    {"epoch_ns_lo", LegacyFieldKind::kU32, offsetof(TimerState, epoch_ns_lo), 1, kAll},
    {"epoch_ns_hi", LegacyFieldKind::kU32, offsetof(TimerState, epoch_ns_hi), 1, kAll},
    {"now_hi_latch", LegacyFieldKind::kU32, offsetof(TimerState, now_hi_latch), 1, kAll},
    CR16_TIMER_CHANNEL_FIELDS(0),
    CR16_TIMER_CHANNEL_FIELDS(1),
}};
#undef CR16_TIMER_CHANNEL_FIELDS

const LegacyStateDescription kTimerDescription = {"timer", 1, 1, kTimerFields, nullptr};

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
  split_u64(clock_.now_ns(), &state_.epoch_ns_lo, &state_.epoch_ns_hi);
  for (unsigned c = 0; c < 2; ++c) update_line(c);
}

namespace {

/// Brings CHANNEL forward to NOW: its count, EXPIRED, a one-shot's enable.
/// True when it expired on the way. Touches nothing else (lines, deadlines),
/// so a debugger's peek can run it on a copy.
bool advance_channel(TimerChannelState& channel, int64_t now) {
  int64_t sync = join_u64(channel.sync_ns_lo, channel.sync_ns_hi);
  if (!(channel.ctrl & virt::kTimerChCtrlEnable) || now <= sync) {
    if (!(channel.ctrl & virt::kTimerChCtrlEnable))
      split_u64(now, &channel.sync_ns_lo, &channel.sync_ns_hi);
    return false;
  }
  uint64_t ticks = static_cast<uint64_t>(now - sync) / virt::kNsPerTick;
  sync += static_cast<int64_t>(ticks) * virt::kNsPerTick;
  split_u64(sync, &channel.sync_ns_lo, &channel.sync_ns_hi);
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
  int64_t deadline = join_u64(channel.sync_ns_lo, channel.sync_ns_hi) +
                     static_cast<int64_t>(count) * virt::kNsPerTick;
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
      int64_t epoch = join_u64(state_.epoch_ns_lo, state_.epoch_ns_hi);
      uint64_t micros = static_cast<uint64_t>(clock_.now_ns() - epoch) / virt::kNsPerTick;
      if (side_effects) state_.now_hi_latch = static_cast<uint32_t>(micros >> 32);
      return static_cast<uint32_t>(micros);
    }
    case virt::kTimerNowHi:
      return state_.now_hi_latch;
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
          split_u64(clock_.now_ns(), &channel.sync_ns_lo, &channel.sync_ns_hi);
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

const LegacyStateDescription& TimerDevice::state_description() const {
  return kTimerDescription;
}

Error TimerDevice::post_load() {
  for (unsigned c = 0; c < 2; ++c) {
    rearm(c);
    update_line(c);
  }
  return Error();
}

}  // namespace cr16
