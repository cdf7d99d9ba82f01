// The CPU state description table and its small field accessors.
#include "cpu/state.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace cr16 {
namespace {

constexpr size_t reg_offset(unsigned index) {
  return offsetof(CpuState, r) + index * sizeof(uint32_t);
}

constexpr uint32_t kMask16 = 0xFFFFu;
constexpr uint32_t kMask24 = 0xFFFFFFu;
constexpr uint32_t kMask24Even = 0xFFFFFEu;
constexpr uint32_t kMask32 = 0xFFFFFFFFu;

constexpr std::array<LegacyStateField, 29> kCpuFields = {{
    {"r0", LegacyFieldKind::kU32, reg_offset(0), 1, kMask16},
    {"r1", LegacyFieldKind::kU32, reg_offset(1), 1, kMask16},
    {"r2", LegacyFieldKind::kU32, reg_offset(2), 1, kMask16},
    {"r3", LegacyFieldKind::kU32, reg_offset(3), 1, kMask16},
    {"r4", LegacyFieldKind::kU32, reg_offset(4), 1, kMask16},
    {"r5", LegacyFieldKind::kU32, reg_offset(5), 1, kMask16},
    {"r6", LegacyFieldKind::kU32, reg_offset(6), 1, kMask16},
    {"r7", LegacyFieldKind::kU32, reg_offset(7), 1, kMask16},
    {"r8", LegacyFieldKind::kU32, reg_offset(8), 1, kMask16},
    {"r9", LegacyFieldKind::kU32, reg_offset(9), 1, kMask16},
    {"r10", LegacyFieldKind::kU32, reg_offset(10), 1, kMask16},
    {"r11", LegacyFieldKind::kU32, reg_offset(11), 1, kMask16},
    {"r12", LegacyFieldKind::kU32, reg_offset(12), 1, kMask32},
    {"r13", LegacyFieldKind::kU32, reg_offset(13), 1, kMask32},
    {"ra", LegacyFieldKind::kU32, reg_offset(14), 1, kMask32},
    {"sp", LegacyFieldKind::kU32, reg_offset(15), 1, kMask32},
    {"pc", LegacyFieldKind::kU32, offsetof(CpuState, pc), 1, kMask24Even},
    {"psr", LegacyFieldKind::kU16, offsetof(CpuState, psr), 1, psr::kImplemented},
    {"cfg", LegacyFieldKind::kU16, offsetof(CpuState, cfg), 1, cfg::kImplemented},
    {"isp", LegacyFieldKind::kU32, offsetof(CpuState, isp), 1, kMask24Even},
    {"banked_sp", LegacyFieldKind::kU32, offsetof(CpuState, banked_sp), 1, kMask32},
    {"intbase", LegacyFieldKind::kU32, offsetof(CpuState, intbase), 1, kMask24Even},
    {"dbs", LegacyFieldKind::kU16, offsetof(CpuState, dbs), 1, kMask16},
    {"dsr", LegacyFieldKind::kU16, offsetof(CpuState, dsr), 1, kMask16},
    {"dcr", LegacyFieldKind::kU32, offsetof(CpuState, dcr), 1, kMask32},
    {"car0", LegacyFieldKind::kU32, offsetof(CpuState, car0), 1, kMask24},
    {"car1", LegacyFieldKind::kU32, offsetof(CpuState, car1), 1, kMask24},
    {"halted", LegacyFieldKind::kU8, offsetof(CpuState, halted), 1, 1},
    {"events_pending", LegacyFieldKind::kU8, offsetof(CpuState, events_pending), 1, event::kAll},
}};

Error validate_cpu_state(void* object) {
  auto* state = static_cast<CpuState*>(object);
  // Invariants the interpreter relies on; valid_mask already enforced widths.
  for (unsigned i = 0; i < 12; ++i) state->r[i] &= kMask16;
  state->pc &= kMask24Even;
  return Error();
}

}  // namespace

const LegacyStateDescription& cpu_state_description() {
  static const LegacyStateDescription description{
      "cpu", 1, 1, std::span<const LegacyStateField>(kCpuFields), validate_cpu_state};
  return description;
}

uint32_t legacy_state_field_get(const LegacyStateField& field, const void* object) {
  const auto* base = static_cast<const uint8_t*>(object) + field.offset;
  switch (field.kind) {
    case LegacyFieldKind::kU8:
      return *base;
    case LegacyFieldKind::kU16: {
      uint16_t v;
      std::memcpy(&v, base, sizeof v);
      return v;
    }
    case LegacyFieldKind::kU32: {
      uint32_t v;
      std::memcpy(&v, base, sizeof v);
      return v;
    }
  }
  return 0;
}

Error legacy_state_field_set(const LegacyStateField& field, void* object, uint32_t value) {
  if ((value & ~field.valid_mask) != 0) {
    char text[128];
    std::snprintf(text, sizeof text, "value 0x%" PRIx32 " out of range for %s (mask 0x%" PRIx32 ")",
                  value, field.name, field.valid_mask);
    return Error(text);
  }
  auto* base = static_cast<uint8_t*>(object) + field.offset;
  switch (field.kind) {
    case LegacyFieldKind::kU8:
      *base = static_cast<uint8_t>(value);
      break;
    case LegacyFieldKind::kU16: {
      auto v = static_cast<uint16_t>(value);
      std::memcpy(base, &v, sizeof v);
      break;
    }
    case LegacyFieldKind::kU32:
      std::memcpy(base, &value, sizeof value);
      break;
  }
  return Error();
}

const LegacyStateField* legacy_state_field_find(const LegacyStateDescription& description,
                                                std::string_view name) {
  for (const LegacyStateField& field : description.fields) {
    if (name == field.name) return &field;
  }
  return nullptr;
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
