#include "hw/sc14441_icu.h"

#include <cstddef>

#include "hw/sc14441_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

using namespace sc14441;

constexpr StateField kIcuFields[] = {
    CR16_STATE_FIELD(Sc14441IcuState, pending).mask(kIcuSourceMask),
    CR16_STATE_FIELD(Sc14441IcuState, priority).mask(0x7777),
    CR16_STATE_FIELD(Sc14441IcuState, pc_start).mask(0xFFFF),
};

// The masks keep every field within its register; nothing else to check.
Error validate_icu(void*) {
  return Error();
}

const StateDescription kIcuDescription = {
    "sc14441-icu", 1, 1, sizeof(Sc14441IcuState), kIcuFields, {}, validate_icu};

}  // namespace

Sc14441Icu::Sc14441Icu() = default;

void Sc14441Icu::set_irq_output(std::function<void(bool)> output) {
  irq_output_ = std::move(output);
  update_output();
}

void Sc14441Icu::request(unsigned source) {
  if (source >= kIcuSources) return;
  state_.pending |= 1u << source;
  update_output();
}

void Sc14441Icu::clear_request(unsigned source) {
  if (source >= kIcuSources) return;
  state_.pending &= ~(1u << source);
  update_output();
}

void Sc14441Icu::reset() {
  state_ = Sc14441IcuState{};
  update_output();
}

// Sources 0-3 sit in INT3, 4-7 in INT2, 8-11 in INT1, 12-14 in INT0, four
// bits apart from bit 0.
unsigned Sc14441Icu::priority_of(unsigned source) const {
  if (source >= kIcuSources) return 0;
  return (state_.priority[3 - source / 4] >> (4 * (source % 4))) & 7;
}

int Sc14441Icu::best_source() const {
  int best = -1;
  unsigned best_priority = 0;
  for (unsigned source = 0; source < kIcuSources; ++source) {
    if (!(state_.pending & (1u << source))) continue;
    const unsigned priority = priority_of(source);
    if (priority > best_priority) {  // strict: ties keep the lower source
      best_priority = priority;
      best = static_cast<int>(source);
    }
  }
  return best;
}

void Sc14441Icu::update_output() {
  if (irq_output_) irq_output_(irq_requested());
}

uint16_t Sc14441Icu::read_reg(uint32_t reg, bool) {
  switch (reg) {
    case kSetIntPendingReg:
    case kResetIntPendingReg:
      return static_cast<uint16_t>(state_.pending);
    case kPcStartReg:
      return static_cast<uint16_t>(state_.pc_start);
    default:
      if (reg >= kInt0PriorityReg && reg < kInt0PriorityReg + 8) {
        return static_cast<uint16_t>(state_.priority[(reg - kInt0PriorityReg) / 2]);
      }
      return 0;
  }
}

void Sc14441Icu::write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) {
  switch (reg) {
    case kSetIntPendingReg:
      state_.pending |= value & kIcuSourceMask;
      break;
    case kResetIntPendingReg:
      state_.pending &= ~uint32_t{value};
      break;
    case kPcStartReg:
      state_.pc_start = merge(static_cast<uint16_t>(state_.pc_start), value, byte_mask);
      return;
    default:
      if (reg >= kInt0PriorityReg && reg < kInt0PriorityReg + 8) {
        uint32_t& priority = state_.priority[(reg - kInt0PriorityReg) / 2];
        priority = merge(static_cast<uint16_t>(priority), value, byte_mask) & 0x7777;
        break;
      }
      return;
  }
  update_output();
}

uint32_t Sc14441Icu::Acknowledge::sfr_read(uint32_t address, AccessSize, bool peek) {
  if (address != kIntaAddress) return 0;
  const int source = icu_.best_source();
  if (source < 0) {
    if (!peek) log_printf(LogCategory::kGuestErrors, "sc14441-icu: INTA with nothing pending");
    return 0;
  }
  if (!peek) icu_.clear_request(static_cast<unsigned>(source));
  return kVectorBase + static_cast<uint32_t>(source);
}

const StateDescription& sc14441_icu_state_description() {
  return kIcuDescription;
}

const StateDescription& Sc14441Icu::state_description() const {
  return kIcuDescription;
}

}  // namespace cr16
