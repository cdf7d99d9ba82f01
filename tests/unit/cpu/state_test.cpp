// The CPU state description (util/state.h types): names, masks, coverage of
// every byte of CpuState, the validating post_load, round trips, and the Cpu
// as a Stateful object (state_loaded drops translations and a panic).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "cpu/cpu.h"
#include "cpu/state.h"
#include "cpu_fixture.h"

namespace cr16 {
namespace {

TEST(CpuStateDescription, HasNamedFieldsForEveryRegister) {
  const StateDescription& d = cpu_state_description();
  EXPECT_STREQ(d.name, "cpu");
  EXPECT_EQ(d.version, 1);
  EXPECT_EQ(d.minimum_version, 1);
  EXPECT_EQ(d.object_size, sizeof(CpuState));
  EXPECT_NE(d.post_load, nullptr);
  for (const char* name :
       {"r0", "r11", "r12", "ra", "sp", "pc", "psr", "cfg", "isp", "banked_sp", "intbase", "dbs",
        "dsr", "dcr", "car0", "car1", "halted", "events_pending", "icount"}) {
    EXPECT_NE(state_field_find(d, name), nullptr) << name;
  }
  EXPECT_EQ(state_field_find(d, "nonsense"), nullptr);
  EXPECT_EQ(state_field_find(d, "icount")->kind, FieldKind::kU64);
}

TEST(CpuStateDescription, CoversEveryByteOfCpuState) {
  const Error error = state_check_coverage(cpu_state_description());
  EXPECT_TRUE(error.ok()) << error.message();
}

TEST(CpuStateDescription, RoundTripsEveryField) {
  CpuState a;
  a.r[3] = 0x1234;
  a.r[13] = 0xDEADBEEF;
  a.pc = 0xABCDE0;
  a.psr = psr::kE | psr::kZ;
  a.intbase = 0x400;
  a.icount = 0x123456789ABCull;
  a.events_pending = event::kNmi;
  CpuState b;
  b.psr = 0;
  const StateDescription& d = cpu_state_description();
  for (const StateField& field : d.fields) {
    ASSERT_TRUE(state_field_set(field, &b, state_field_get(field, &a)).ok()) << field.name;
  }
  EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
  EXPECT_TRUE(d.post_load(&b).ok());
}

TEST(CpuStateDescription, MasksRejectOutOfRangeValues) {
  const StateDescription& d = cpu_state_description();
  CpuState s;
  EXPECT_FALSE(state_field_set(*state_field_find(d, "r0"), &s, 0x10000).ok());
  EXPECT_FALSE(state_field_set(*state_field_find(d, "pc"), &s, 0x1000000).ok());
  EXPECT_FALSE(state_field_set(*state_field_find(d, "pc"), &s, 0x1001).ok());
  EXPECT_FALSE(state_field_set(*state_field_find(d, "psr"), &s, 0x0010).ok());
  EXPECT_FALSE(state_field_set(*state_field_find(d, "halted"), &s, 2).ok());
  EXPECT_FALSE(state_field_set(*state_field_find(d, "events_pending"), &s, 0x80).ok());
  EXPECT_TRUE(state_field_set(*state_field_find(d, "r12"), &s, 0xFFFFFFFF).ok());
  EXPECT_EQ(s.pc, 0u);
}

TEST(CpuStateDescription, PostLoadRefusesBrokenCandidates) {
  const StateDescription& d = cpu_state_description();
  struct Case {
    const char* field;
    void (*corrupt)(CpuState&);
  };
  const Case cases[] = {
      {"r5", [](CpuState& s) { s.r[5] = 0x10000; }},
      {"pc", [](CpuState& s) { s.pc = 0x1001; }},
      {"psr", [](CpuState& s) { s.psr = 0x8000; }},
      {"cfg", [](CpuState& s) { s.cfg = 0x0001; }},
      {"isp", [](CpuState& s) { s.isp = 0x1000000; }},
      {"intbase", [](CpuState& s) { s.intbase = 0x201; }},
      {"car1", [](CpuState& s) { s.car1 = 0x1000000; }},
      {"halted", [](CpuState& s) { s.halted = 7; }},
      {"events_pending", [](CpuState& s) { s.events_pending = 0x40; }},
  };
  for (const Case& c : cases) {
    CpuState candidate;
    c.corrupt(candidate);
    const Error error = d.post_load(&candidate);
    ASSERT_FALSE(error.ok()) << c.field;
    EXPECT_NE(error.message().find(c.field), std::string::npos) << error.message();
  }
  CpuState good;
  EXPECT_TRUE(d.post_load(&good).ok());
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

namespace cr16::test {
namespace {

using CpuStateful = CpuFixture;

TEST_F(CpuStateful, IsItsOwnStateSection) {
  Stateful& stateful = cpu;
  EXPECT_EQ(&stateful.state_description(), &cpu_state_description());
  EXPECT_EQ(stateful.state_data(), static_cast<void*>(&cpu.state()));
}

TEST_F(CpuStateful, InstructionCountIsState) {
  exec({0x2C00, 0x2C00, 0x2C00}, 3);
  EXPECT_EQ(cpu.state().icount, 3u);
  EXPECT_EQ(cpu.instruction_count(), 3u);
  cpu.state().icount = 1000;  // as a loaded snapshot would set it
  cpu.run(1);
  EXPECT_EQ(cpu.instruction_count(), 1001u);
}

TEST_F(CpuStateful, StateLoadedDropsTranslationsAndContinuesFromTheLoadedState) {
  // addw $1, r1 ; br *-2 (a loop), run a little, then "load" a state whose
  // PC points at code that was rewritten behind the bus's back.
  exec({0x3211, 0x18E0, 0xFFFF}, 4);
  ASSERT_EQ(r(1), 2u);
  const CpuState saved = cpu.state();
  bus.load_words(kCode, {0x3251, 0x18E0, 0xFFFF});  // addw $5, r1 (no notification)
  cpu.state() = saved;
  static_cast<Stateful&>(cpu).state_loaded();
  EXPECT_GE(cpu.engine().statistics().flushes, 1u);
  cpu.run(1);
  EXPECT_EQ(r(1), 7u);  // the new instruction ran: nothing stale was kept
}

TEST_F(CpuStateful, StateLoadedClearsAGuestPanic) {
  cpu.state().isp = 4;  // the next exception cannot push its frame
  exec({0x00C8});       // excp bpt
  ASSERT_TRUE(cpu.panicked());
  CpuState fresh = cpu.state();
  fresh.isp = kIsp;
  fresh.pc = kCode;
  cpu.state() = fresh;
  static_cast<Stateful&>(cpu).state_loaded();
  EXPECT_FALSE(cpu.panicked());
  EXPECT_TRUE(cpu.panic_message().empty());
  EXPECT_EQ(cpu.run(1), StopReason::kBudget);
  EXPECT_EQ(cpu.state().pc, handler(vector::kBpt));
}

}  // namespace
}  // namespace cr16::test
