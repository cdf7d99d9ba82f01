// Guest panics (an exception that cannot be taken stops the CPU until reset,
// with a one-line reason) and the SVC hook's retry (kBlocked: the excp runs
// again on the next run() and retires once).
#include <string>

#include "cpu/decode.h"
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

constexpr uint16_t kNop = 0x2C00;
constexpr uint16_t kExcpBpt = 0x00C8;
constexpr uint16_t kExcpSvc = 0x00C5;
constexpr uint16_t kAddw1R1 = 0x3211;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class Panic : public CpuFixture, public ::testing::WithParamInterface<CpuModel> {
 public:
  Panic() : CpuFixture(GetParam()) {}
};

TEST_P(Panic, IspThatWouldWrapBelowZero) {
  cpu.state().isp = 4;
  EXPECT_EQ(exec({kNop, kExcpBpt, kNop}, 10), StopReason::kGuestPanic);
  EXPECT_TRUE(cpu.panicked());
  const std::string& message = cpu.panic_message();
  EXPECT_TRUE(contains(message, "BPT")) << message;
  EXPECT_TRUE(contains(message, "vector 8")) << message;
  EXPECT_TRUE(contains(message, "wrap")) << message;
  EXPECT_TRUE(contains(message, "isp 0x000004")) << message;
  EXPECT_TRUE(contains(message, "intbase 0x000200")) << message;
  EXPECT_TRUE(contains(message, "pc 0x001002")) << message;
  EXPECT_FALSE(contains(message, "\n")) << message;
  // Nothing was changed: PC at the trapping instruction, ISP and PSR as they were.
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(cpu.state().isp, 4u);
  EXPECT_EQ(psr(), psr::kE);
}

TEST_P(Panic, FramePushedIntoADeviceWindow) {
  // The ISP points just above the device window: the frame would land in it.
  cpu.state().isp = TestBus::kMmioStart + 4;
  bus.poke32(TestBus::kMmioStart, 0x11111111);
  EXPECT_EQ(exec({kExcpBpt}, 10), StopReason::kGuestPanic);
  EXPECT_TRUE(contains(cpu.panic_message(), "is not RAM")) << cpu.panic_message();
  EXPECT_EQ(bus.peek32(TestBus::kMmioStart), 0x11111111u);  // nothing written there
}

TEST_P(Panic, FramePushedIntoABusErrorHole) {
  cpu.state().isp = TestBus::kBusErrorStart + 0x10;
  EXPECT_EQ(exec({kExcpBpt}, 10), StopReason::kGuestPanic);
  EXPECT_TRUE(contains(cpu.panic_message(), "is not RAM")) << cpu.panic_message();
}

TEST_P(Panic, DispatchEntryThatCannotBeRead) {
  cpu.state().intbase = TestBus::kBusErrorStart;  // CR16C would read data there as 0
  EXPECT_EQ(exec({kExcpBpt}, 10), StopReason::kGuestPanic);
  EXPECT_TRUE(contains(cpu.panic_message(), "dispatch entry")) << cpu.panic_message();
  EXPECT_EQ(cpu.state().isp, kIsp);  // not taken
}

TEST_P(Panic, StaysStoppedUntilReset) {
  cpu.state().isp = 0;
  EXPECT_EQ(exec({kExcpBpt}, 10), StopReason::kGuestPanic);
  const uint64_t count = cpu.instruction_count();
  EXPECT_EQ(cpu.run(100), StopReason::kGuestPanic);
  EXPECT_EQ(cpu.step(), StopReason::kGuestPanic);
  EXPECT_EQ(cpu.instruction_count(), count);
  cpu.reset(kCode);
  EXPECT_FALSE(cpu.panicked());
  EXPECT_TRUE(cpu.panic_message().empty());
  cpu.state().isp = kIsp;
  cpu.set_cfg(cfg::kEd);  // reset cleared it
  EXPECT_EQ(cpu.run(1), StopReason::kBudget);
  EXPECT_EQ(cpu.state().pc, handler(vector::kBpt));
}

TEST_P(Panic, InterruptEntryThatCannotPushItsFrame) {
  cpu.state().isp = 2;
  cpu.state().psr = psr::kE | psr::kI;
  cpu.set_irq_line(true);
  EXPECT_EQ(exec({kNop}, 10), StopReason::kGuestPanic);
  EXPECT_TRUE(contains(cpu.panic_message(), "INT (vector 16)")) << cpu.panic_message();
}

TEST_P(Panic, RunawayExceptionLoopStopsInsteadOfWrappingIntoDevices) {
  // The UND handler is itself undefined: every exception pushes another
  // frame. Before, the ISP wrapped from 0 into the device window (and could
  // hit a power-off register); now the CPU stops when the ISP runs out.
  uint16_t undefined = 0;
  for (uint32_t w = 0; w < 0x10000; ++w) {
    if (isa::find_entry(static_cast<uint16_t>(w), 0) == isa::kInvalidEntry &&
        isa::find_entry(static_cast<uint16_t>(w), 0xFFFF) == isa::kInvalidEntry) {
      undefined = static_cast<uint16_t>(w);
      break;
    }
  }
  bus.poke16(handler(vector::kUnd), undefined);
  cpu.state().isp = 0x60;
  EXPECT_EQ(exec({undefined}, 1000), StopReason::kGuestPanic);
  EXPECT_TRUE(contains(cpu.panic_message(), "UND")) << cpu.panic_message();
  EXPECT_TRUE(contains(cpu.panic_message(), "wrap")) << cpu.panic_message();
  EXPECT_EQ(cpu.state().isp, 0u);
  EXPECT_EQ(cpu.instruction_count(), 0x60u / 6 + 1);
}

INSTANTIATE_TEST_SUITE_P(BothModels, Panic,
                         ::testing::Values(CpuModel::kCr16c, CpuModel::kCr16cPlus),
                         [](const ::testing::TestParamInfo<CpuModel>& info) {
                           return std::string(cpu_model_name(info.param));
                         });

// ---- SVC retry.

using SvcRetry = CpuFixture;

TEST_F(SvcRetry, RetryBlocksWithPcAtTheExcpAndRunsItAgainLater) {
  int calls = 0;
  bool ready = false;
  cpu.set_svc_hook([&](Cpu& c) {
    ++calls;
    EXPECT_EQ(c.state().pc, kCode + 2);
    if (!ready) return SvcResult::kRetry;
    c.state().r[0] = 99;
    return SvcResult::kHandled;
  });
  EXPECT_EQ(exec({kAddw1R1, kExcpSvc, kAddw1R1, 0x18E0, 0x0000}, 100), StopReason::kBlocked);
  EXPECT_EQ(cpu.state().pc, kCode + 2);
  EXPECT_EQ(cpu.instruction_count(), 1u);  // the excp did not retire
  EXPECT_EQ(r(1), 1u);
  EXPECT_EQ(cpu.state().isp, kIsp);               // no trap
  EXPECT_EQ(cpu.run(100), StopReason::kBlocked);  // still not ready
  EXPECT_EQ(cpu.instruction_count(), 1u);
  ready = true;
  EXPECT_EQ(cpu.run(3), StopReason::kBudget);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(r(0), 99u);
  EXPECT_EQ(r(1), 2u);
  EXPECT_EQ(cpu.instruction_count(), 4u);  // addw, excp (once), addw, br
}

TEST_F(SvcRetry, NotHandledTakesTheTrap) {
  cpu.set_svc_hook([](Cpu&) { return SvcResult::kNotHandled; });
  exec({kExcpSvc});
  EXPECT_EQ(cpu.state().pc, handler(vector::kSvc));
}

TEST_F(SvcRetry, RetryInSingleStepDoesNotRetire) {
  cpu.set_svc_hook([](Cpu&) { return SvcResult::kRetry; });
  bus.load_words(kCode, {kExcpSvc});
  cpu.flush_code_cache();
  cpu.state().pc = kCode;
  EXPECT_EQ(cpu.step(), StopReason::kBlocked);
  EXPECT_EQ(cpu.instruction_count(), 0u);
  EXPECT_EQ(cpu.state().pc, kCode);
}

}  // namespace
}  // namespace cr16::test
