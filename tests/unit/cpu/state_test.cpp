// The CPU state description: names, versions, range checks, round trip.
#include <gtest/gtest.h>

#include "cpu/cpu.h"
#include "cpu/state.h"

namespace cr16 {
namespace {

TEST(CpuStateDescription, HasNamedVersionedFields) {
  const LegacyStateDescription& d = cpu_state_description();
  EXPECT_STREQ(d.section, "cpu");
  EXPECT_EQ(d.version, 1);
  for (const char* name :
       {"r0", "r11", "r12", "ra", "sp", "pc", "psr", "cfg", "isp", "banked_sp", "intbase", "dbs",
        "dsr", "dcr", "car0", "car1", "halted", "events_pending"}) {
    EXPECT_NE(legacy_state_field_find(d, name), nullptr) << name;
  }
  EXPECT_EQ(legacy_state_field_find(d, "nonsense"), nullptr);
}

TEST(CpuStateDescription, RoundTripsEveryField) {
  CpuState a;
  a.r[3] = 0x1234;
  a.r[13] = 0xDEADBEEF;
  a.pc = 0xABCDE0;
  a.psr = psr::kE | psr::kZ;
  a.intbase = 0x400;
  CpuState b;
  const LegacyStateDescription& d = cpu_state_description();
  for (const LegacyStateField& field : d.fields) {
    ASSERT_TRUE(legacy_state_field_set(field, &b, legacy_state_field_get(field, &a)).ok())
        << field.name;
  }
  EXPECT_EQ(b.r[3], 0x1234u);
  EXPECT_EQ(b.r[13], 0xDEADBEEFu);
  EXPECT_EQ(b.pc, 0xABCDE0u);
  EXPECT_EQ(b.psr, psr::kE | psr::kZ);
  EXPECT_EQ(b.intbase, 0x400u);
}

TEST(CpuStateDescription, RejectsOutOfRangeValues) {
  const LegacyStateDescription& d = cpu_state_description();
  CpuState s;
  EXPECT_FALSE(legacy_state_field_set(*legacy_state_field_find(d, "r0"), &s, 0x10000).ok());
  EXPECT_FALSE(legacy_state_field_set(*legacy_state_field_find(d, "pc"), &s, 0x1000001).ok());
  EXPECT_FALSE(legacy_state_field_set(*legacy_state_field_find(d, "pc"), &s, 0x1001).ok());
  EXPECT_FALSE(legacy_state_field_set(*legacy_state_field_find(d, "psr"), &s, 0x0010).ok());
  EXPECT_EQ(s.pc, 0u);
}

TEST(CpuModelNames, ParseAndPrint) {
  EXPECT_EQ(*parse_cpu_model("cr16c"), CpuModel::kCr16c);
  EXPECT_EQ(*parse_cpu_model("cr16cplus"), CpuModel::kCr16cPlus);
  auto bad = parse_cpu_model("arm");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("cr16cplus"), std::string::npos);
  EXPECT_STREQ(cpu_model_name(CpuModel::kCr16c), "cr16c");
}

TEST(CpuStateFormat, NamesRegisters) {
  CpuState s;
  s.pc = 0x1234;
  const std::string text = format_cpu_state(s);
  EXPECT_NE(text.find("pc=001234"), std::string::npos);
  EXPECT_NE(text.find("psr=0200"), std::string::npos);
}

}  // namespace
}  // namespace cr16
