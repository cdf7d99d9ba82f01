// Shared fixture for execution tests: a TestBus, a CPU reset at kCode, a
// 4-byte dispatch table at kIntbase whose vector v leads to kHandlers + 0x10*v
// (each handler is `br .` so a run stays put), an interrupt stack and a stack.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "test_bus.h"

namespace cr16::test {

class CpuFixture : public ::testing::Test {
 public:
  static constexpr uint32_t kCode = 0x1000;
  static constexpr uint32_t kIntbase = 0x200;
  static constexpr uint32_t kHandlers = 0x4000;
  static constexpr uint32_t kIsp = 0x9000;
  static constexpr uint32_t kSp = 0x8000;
  static constexpr uint16_t kBranchToSelf = 0x18E0;  // br . (2-word form: 0x18E0 0x0000)

  explicit CpuFixture(CpuModel model = CpuModel::kCr16cPlus) : cpu(bus, model) {
    use_test_engine(cpu);
    cpu.reset(kCode);
    CpuState& s = cpu.state();
    s.intbase = kIntbase;
    s.isp = kIsp;
    s.r[kRegSp] = kSp;
    cpu.set_cfg(cfg::kEd);
    install_vectors();
  }

  /// (Re)writes the dispatch table and the `br .` handlers.
  void install_vectors() {
    for (uint32_t v = 0; v < 64; ++v) {
      bus.poke32(kIntbase + 4 * v, handler(v) >> 1);
      bus.poke16(handler(v), kBranchToSelf);
      bus.poke16(handler(v) + 2, 0x0000);
    }
  }

  /// Installs the engine CR16_TEST_ENGINE names ("interp", "jit"; CTest
  /// runs the CPU suite once per engine), or keeps the default.
  static void use_test_engine(Cpu& cpu) {
    const char* name = std::getenv("CR16_TEST_ENGINE");
    if (name == nullptr || *name == 0) return;
    Expected<EngineKind> kind = parse_engine_kind(name);
    ASSERT_TRUE(kind.ok()) << kind.error().message();
    Expected<std::unique_ptr<ExecutionEngine>> engine = make_engine(*kind, cpu);
    ASSERT_TRUE(engine.ok()) << engine.error().message();
    cpu.set_engine(std::move(*engine));
  }

  static constexpr uint32_t handler(uint32_t vector) { return kHandlers + 0x10 * vector; }

  /// Places `words` at kCode, points PC there and runs `count` instructions.
  StopReason exec(const std::vector<uint16_t>& words, uint64_t count = 1) {
    bus.load_words(kCode, words);
    cpu.flush_code_cache();
    cpu.state().pc = kCode;
    return cpu.run(count);
  }

  uint16_t psr() const { return cpu.state().psr; }
  uint32_t& r(unsigned i) { return cpu.state().r[i]; }

  TestBus bus;
  Cpu cpu;
};

}  // namespace cr16::test
