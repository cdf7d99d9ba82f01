#include "hw/keyboard.h"

#include "hw/virt_map.h"
#include "util/log.h"

namespace cr16 {
namespace {

constexpr uint32_t kFifoSize = virt::kKbdFifoSize;
static_assert(sizeof(KeyboardState::fifo) == kFifoSize);

constexpr StateField kKeyboardFields[] = {
    CR16_STATE_FIELD(KeyboardState, fifo),
    CR16_STATE_FIELD(KeyboardState, head).mask(kFifoSize - 1),
    CR16_STATE_FIELD(KeyboardState, count).mask(0x3F),
    CR16_STATE_FIELD(KeyboardState, status_sticky).mask(virt::kKbdStatusOverflow),
    CR16_STATE_FIELD(KeyboardState, ctrl).mask(virt::kKbdCtrlIe),
};

// The head indexes the ring and the count bounds the bytes read from it.
Error validate_keyboard(void* object) {
  const auto* state = static_cast<const KeyboardState*>(object);
  if (state->head >= kFifoSize) return Error("head outside the FIFO");
  if (state->count > kFifoSize) return Error("count larger than the FIFO");
  if (state->status_sticky & ~virt::kKbdStatusOverflow) return Error("status_sticky: bad bits");
  if (state->ctrl & ~virt::kKbdCtrlIe) return Error("ctrl: bad bits");
  return Error();
}

const StateDescription kKeyboardDescription = {
    "keyboard", 1, 1, sizeof(KeyboardState), kKeyboardFields, {}, validate_keyboard};

}  // namespace

KeyboardDevice::KeyboardDevice(IrqLine line) : RegisterDevice("keyboard"), line_(line) {
  update_line();
}

void KeyboardDevice::reset() {
  state_ = KeyboardState{};
  update_line();
}

bool KeyboardDevice::push_scancodes(std::span<const uint8_t> codes) {
  if (codes.size() > kFifoSize - state_.count) {
    state_.status_sticky |= virt::kKbdStatusOverflow;
    log_printf(LogCategory::kGuestErrors, "keyboard: FIFO full, %zu scancode bytes dropped",
               codes.size());
    return false;
  }
  for (uint8_t code : codes) {
    state_.fifo[(state_.head + state_.count) % kFifoSize] = code;
    ++state_.count;
  }
  update_line();
  return true;
}

uint32_t KeyboardDevice::status() const {
  uint32_t value = state_.status_sticky;
  if (state_.count > 0) value |= virt::kKbdStatusNotEmpty;
  value |= state_.count << virt::kKbdStatusLevelShift;
  return value;
}

void KeyboardDevice::update_line() {
  line_.set((state_.ctrl & virt::kKbdCtrlIe) && state_.count > 0);
}

uint32_t KeyboardDevice::read_register(uint32_t reg, bool side_effects) {
  switch (reg) {
    case virt::kKbdData: {
      if (state_.count == 0) return 0;
      const uint8_t code = state_.fifo[state_.head % kFifoSize];
      if (side_effects) {
        state_.head = (state_.head + 1) % kFifoSize;
        --state_.count;
        update_line();
      }
      return code;
    }
    case virt::kKbdStatus:
      return status();
    case virt::kKbdCtrl:
      return state_.ctrl;
    case virt::kKbdFifoDepth:
      return kFifoSize;
    default:
      log_bad_register("read", reg);
      return 0;
  }
}

void KeyboardDevice::write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) {
  switch (reg) {
    case virt::kKbdData:
    case virt::kKbdFifoDepth:
      return;  // read-only
    case virt::kKbdStatus:
      state_.status_sticky &= ~(value & virt::kKbdStatusOverflow);
      return;
    case virt::kKbdCtrl:
      state_.ctrl = merge(state_.ctrl, value, byte_mask) & virt::kKbdCtrlIe;
      update_line();
      return;
    default:
      log_bad_register("write", reg);
      return;
  }
}

const StateDescription& keyboard_state_description() {
  return kKeyboardDescription;
}

const StateDescription& KeyboardDevice::state_description() const {
  return kKeyboardDescription;
}

void KeyboardDevice::state_loaded() {
  update_line();
}

}  // namespace cr16
