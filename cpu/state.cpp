// The CPU state description and the register dump.
#include "cpu/state.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace cr16 {
namespace {

constexpr uint64_t kMask16 = 0xFFFFu;
constexpr uint64_t kMask24 = 0xFFFFFFu;
constexpr uint64_t kMask24Even = 0xFFFFFEu;
constexpr uint64_t kMask32 = 0xFFFFFFFFu;

/// Register r[index] as its own named field, so monitors show r0..sp and
/// each gets its own width.
constexpr StateField register_field(const char* name, unsigned index, uint64_t mask) {
  StateField field;
  field.name = name;
  field.kind = FieldKind::kU32;
  field.offset = static_cast<uint32_t>(offsetof(CpuState, r) + index * sizeof(uint32_t));
  field.element_size = sizeof(uint32_t);
  field.valid_mask = mask;
  return field;
}

constexpr StateField kCpuFields[] = {
    register_field("r0", 0, kMask16),
    register_field("r1", 1, kMask16),
    register_field("r2", 2, kMask16),
    register_field("r3", 3, kMask16),
    register_field("r4", 4, kMask16),
    register_field("r5", 5, kMask16),
    register_field("r6", 6, kMask16),
    register_field("r7", 7, kMask16),
    register_field("r8", 8, kMask16),
    register_field("r9", 9, kMask16),
    register_field("r10", 10, kMask16),
    register_field("r11", 11, kMask16),
    register_field("r12", 12, kMask32),
    register_field("r13", 13, kMask32),
    register_field("ra", 14, kMask32),
    register_field("sp", 15, kMask32),
    CR16_STATE_FIELD(CpuState, pc).mask(kMask24Even),
    CR16_STATE_FIELD(CpuState, psr).mask(psr::kImplemented),
    CR16_STATE_FIELD(CpuState, cfg).mask(cfg::kImplemented),
    CR16_STATE_FIELD(CpuState, isp).mask(kMask24Even),
    CR16_STATE_FIELD(CpuState, banked_sp).mask(kMask32),
    CR16_STATE_FIELD(CpuState, intbase).mask(kMask24Even),
    CR16_STATE_FIELD(CpuState, dbs).mask(kMask16),
    CR16_STATE_FIELD(CpuState, dsr).mask(kMask16),
    CR16_STATE_FIELD(CpuState, dcr).mask(kMask32),
    CR16_STATE_FIELD(CpuState, car0).mask(kMask24),
    CR16_STATE_FIELD(CpuState, car1).mask(kMask24),
    CR16_STATE_FIELD(CpuState, halted).mask(1),
    CR16_STATE_FIELD(CpuState, events_pending).mask(event::kAll),
    CR16_STATE_FIELD(CpuState, icount),
};

Error out_of_range(const char* field, uint64_t value) {
  char text[128];
  std::snprintf(text, sizeof text, "cpu: %s = 0x%" PRIx64 " is out of range", field, value);
  return Error(text);
}

/// The invariants the interpreter relies on, checked on a loaded candidate
/// before it is committed. The engine already refused bits outside each
/// field's mask; this repeats the checks so the description alone is the
/// contract (a hand-built candidate gets the same answer).
Error validate_cpu_state(void* object) {
  const auto* state = static_cast<const CpuState*>(object);
  static constexpr const char* kLowNames[12] = {"r0", "r1", "r2", "r3", "r4",  "r5",
                                                "r6", "r7", "r8", "r9", "r10", "r11"};
  for (unsigned i = 0; i < 12; ++i) {
    if (state->r[i] > kMask16) return out_of_range(kLowNames[i], state->r[i]);
  }
  if (state->pc & ~kMask24Even) return out_of_range("pc", state->pc);
  if (state->psr & ~psr::kImplemented) return out_of_range("psr", state->psr);
  if (state->cfg & ~cfg::kImplemented) return out_of_range("cfg", state->cfg);
  if (state->isp & ~kMask24Even) return out_of_range("isp", state->isp);
  if (state->intbase & ~kMask24Even) return out_of_range("intbase", state->intbase);
  if (state->car0 & ~kMask24) return out_of_range("car0", state->car0);
  if (state->car1 & ~kMask24) return out_of_range("car1", state->car1);
  if (state->halted > 1) return out_of_range("halted", state->halted);
  if (state->events_pending & ~event::kAll) {
    return out_of_range("events_pending", state->events_pending);
  }
  return Error();
}

constexpr StateDescription kCpuDescription = {
    .name = "cpu",
    .version = 1,
    .minimum_version = 1,
    .object_size = sizeof(CpuState),
    .fields = kCpuFields,
    .post_load = validate_cpu_state,
};

}  // namespace

const StateDescription& cpu_state_description() {
  return kCpuDescription;
}

std::string format_cpu_state(const CpuState& s) {
  char text[512];
  std::snprintf(text, sizeof text,
                "r0=%04x r1=%04x r2=%04x r3=%04x r4=%04x r5=%04x r6=%04x r7=%04x\n"
                "r8=%04x r9=%04x r10=%04x r11=%04x r12=%08x r13=%08x ra=%08x sp=%08x\n"
                "pc=%06x psr=%04x cfg=%04x isp=%06x usp=%08x intbase=%06x",
                s.r[0], s.r[1], s.r[2], s.r[3], s.r[4], s.r[5], s.r[6], s.r[7], s.r[8], s.r[9],
                s.r[10], s.r[11], s.r[12], s.r[13], s.r[14], s.r[15], s.pc, s.psr, s.cfg, s.isp,
                s.user_sp(), s.intbase);
  return text;
}

}  // namespace cr16
