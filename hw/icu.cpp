#include "hw/icu.h"

#include <cstddef>

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

static_assert(virt::kIcuSourceCount == 32, "raw, enable and soft have one bit per source");

constexpr StateField kIcuFields[] = {
    CR16_STATE_FIELD(IcuState, raw),
    CR16_STATE_FIELD(IcuState, enable),
    CR16_STATE_FIELD(IcuState, soft),
    CR16_STATE_FIELD(IcuState, priority),  // eight 4-bit priorities per word: every bit used
    CR16_STATE_FIELD(IcuState, nmi_status).mask(virt::kIcuNmiStatusSw),
};

// Every value the masks let through is one the registers can hold, and
// current_vector() only shifts and masks them: nothing more to check.
Error validate_icu(void*) {
  return Error();
}

const StateDescription kIcuDescription = {"icu",      1,  1,           sizeof(IcuState),
                                          kIcuFields, {}, validate_icu};

}  // namespace

IcuDevice::IcuDevice() : RegisterDevice("icu") {}

void IcuDevice::set_irq_output(std::function<void(bool)> output) {
  irq_output_ = std::move(output);
  update_output();
}

void IcuDevice::set_nmi_output(std::function<void()> output) {
  nmi_output_ = std::move(output);
}

void IcuDevice::set_irq_level(unsigned source, bool level) {
  if (source >= virt::kIcuSourceCount) return;
  uint32_t bit = 1u << source;
  state_.raw = level ? (state_.raw | bit) : (state_.raw & ~bit);
  update_output();
}

void IcuDevice::reset() {
  state_ = IcuState{};
  update_output();
}

bool IcuDevice::irq_requested() const {
  return active() != 0;
}

uint32_t IcuDevice::current_vector() const {
  uint32_t candidates = active();
  if (candidates == 0) return virt::kSpuriousVector;
  unsigned best = 0;
  int best_priority = -1;
  for (unsigned source = 0; source < virt::kIcuSourceCount; ++source) {
    if (!(candidates & (1u << source))) continue;
    int priority = static_cast<int>((state_.priority[source / 8] >> (4 * (source % 8))) & 0xF);
    if (priority > best_priority) {  // strict: ties keep the lower source
      best_priority = priority;
      best = source;
    }
  }
  return virt::kIrqVectorBase + best;
}

void IcuDevice::update_output() {
  if (irq_output_) irq_output_(irq_requested());
}

uint32_t IcuDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kIcuIseAck:
    case virt::kIcuNmiAck:
    case virt::kIcuNmiTrigger:
      return 0;
    case virt::kIcuPending:
      return state_.raw | state_.soft;
    case virt::kIcuEnable:
    case virt::kIcuEnableSet:
    case virt::kIcuEnableClr:
      return state_.enable;
    case virt::kIcuSoftSet:
    case virt::kIcuSoftClr:
      return state_.soft;
    case virt::kIcuRaw:
      return state_.raw;
    case virt::kIcuActive:
      return active();
    case virt::kIcuIvct: {
      uint32_t vector = current_vector();
      if (side_effects && vector != virt::kSpuriousVector) {
        state_.soft &= ~(1u << (vector - virt::kIrqVectorBase));
        update_output();
      }
      if (side_effects && log_enabled(LogCategory::kTrace)) {
        log_printf(LogCategory::kTrace, "icu: IVCT read -> vector %u", vector);
      }
      return vector;
    }
    case virt::kIcuIvctPeek:
      return current_vector();
    case virt::kIcuNmiStatus:
      return state_.nmi_status;
    default:
      if (reg >= virt::kIcuPrio0 && reg < virt::kIcuPrio0 + 16) {
        return state_.priority[(reg - virt::kIcuPrio0) / 4];
      }
      log_bad_register("read", reg);
      return 0;
  }
}

void IcuDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kIcuEnable:
      state_.enable = merge(state_.enable, value, byte_mask);
      break;
    case virt::kIcuEnableSet:
      state_.enable |= value;
      break;
    case virt::kIcuEnableClr:
      state_.enable &= ~value;
      break;
    case virt::kIcuSoftSet:
      state_.soft |= value;
      break;
    case virt::kIcuSoftClr:
      state_.soft &= ~value;
      break;
    case virt::kIcuNmiStatus:
      state_.nmi_status &= ~(value & virt::kIcuNmiStatusSw);
      return;
    case virt::kIcuNmiTrigger:
      if (value & 1) {
        state_.nmi_status |= virt::kIcuNmiStatusSw;
        if (nmi_output_) nmi_output_();
      }
      return;
    case virt::kIcuIseAck:
    case virt::kIcuPending:
    case virt::kIcuRaw:
    case virt::kIcuActive:
    case virt::kIcuIvct:
    case virt::kIcuIvctPeek:
    case virt::kIcuNmiAck:
      log_printf(LogCategory::kGuestErrors, "icu: write to read-only register 0x%03x ignored", reg);
      return;
    default:
      if (reg >= virt::kIcuPrio0 && reg < virt::kIcuPrio0 + 16) {
        uint32_t& priority = state_.priority[(reg - virt::kIcuPrio0) / 4];
        priority = merge(priority, value, byte_mask);
        break;
      }
      log_bad_register("write", reg);
      return;
  }
  update_output();
}

const StateDescription& icu_state_description() {
  return kIcuDescription;
}

const StateDescription& IcuDevice::state_description() const {
  return kIcuDescription;
}

void IcuDevice::state_loaded() {
  update_output();
}

}  // namespace cr16
