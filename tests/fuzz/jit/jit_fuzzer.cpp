// Fuzzes the JIT against the interpreter: the input is a register file, PSR
// flags, run slices and code; both engines run it on their own flat-RAM bus
// (tests/unit/cpu/test_bus.h, with an MMIO window and a bus-error hole) and
// any difference in CPU state after a slice, or in memory at the end, traps
// so libFuzzer records the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "cpu/jit/jit_engine.h"
#include "test_bus.h"

namespace {

using namespace cr16;

constexpr uint32_t kCode = 0x1000;
constexpr uint32_t kIntbase = 0x200;
constexpr uint32_t kHandlers = 0x4000;
constexpr uint32_t kIsp = 0x9000;
constexpr uint32_t kSp = 0x8000;
constexpr uint16_t kBranchToSelf = 0x18E0;  // br . (second word 0)
constexpr uint16_t kRetx = 0x0003;
constexpr size_t kHeaderBytes = 40;  // registers, PSR, slices
constexpr size_t kMaxCodeWords = 512;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

struct Machine {
  explicit Machine(bool jit) : cpu(bus, CpuModel::kCr16cPlus) {
    if (jit) {
      // A small code cache, so long inputs also exercise flushes; every
      // block translated before its first run (no interpreted warm-up).
      cpu.set_engine(std::make_unique<jit::JitEngine>(cpu, size_t{128} << 10, 0));
    } else {
      Expected<std::unique_ptr<ExecutionEngine>> engine =
          make_engine(EngineKind::kInterpreter, cpu);
      cpu.set_engine(std::move(*engine));
    }
    for (uint32_t v = 0; v < 64; ++v) {
      bus.poke32(kIntbase + 4 * v, (kHandlers + 0x10 * v) >> 1);
      bus.poke16(kHandlers + 0x10 * v, kBranchToSelf);
      bus.poke16(kHandlers + 0x10 * v + 2, 0);
    }
    // IAD (a bad data address) returns to the next instruction.
    bus.poke16(kHandlers + 0x10 * 12, kRetx);
  }

  /// Back to the state after construction: memory pages that differ from
  /// `pristine` are restored (host side), the CPU is reset (which drops
  /// every translation).
  void restore(const std::vector<uint8_t>& pristine) {
    auto& memory = const_cast<std::vector<uint8_t>&>(bus.memory());
    for (size_t page = 0; page < memory.size(); page += kPageSize) {
      if (std::memcmp(&memory[page], &pristine[page], kPageSize) != 0) {
        std::memcpy(&memory[page], &pristine[page], kPageSize);
      }
    }
    cpu.set_irq_line(false);
    cpu.state() = CpuState{};
    cpu.reset(kCode);
    cpu.state().intbase = kIntbase;
    cpu.state().isp = kIsp;
    cpu.state().r[kRegSp] = kSp;
    cpu.set_cfg(cfg::kEd);
    bus.acknowledges = 0;
  }

  test::TestBus bus;
  Cpu cpu;
};

uint16_t word_at(const uint8_t* data, size_t size, size_t offset) {
  if (offset + 1 >= size) return 0;
  return static_cast<uint16_t>(data[offset] | (data[offset + 1] << 8));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kHeaderBytes + 2) return -1;
  std::vector<uint16_t> code;
  for (size_t offset = kHeaderBytes; offset + 1 < size && code.size() < kMaxCodeWords;
       offset += 2) {
    code.push_back(word_at(data, size, offset));
  }
  code.push_back(kBranchToSelf);
  code.push_back(0);
  const auto code_bytes = static_cast<uint32_t>(2 * code.size());
  // Each register: a 16-bit value, an address in the code (stores rewrite
  // translated code), near the stack, or in the MMIO window / bus-error hole.
  uint32_t registers[16];
  for (unsigned i = 0; i < 16; ++i) {
    const uint16_t v = word_at(data, size, 2 * i);
    switch (v & 3) {
      case 0:
        registers[i] = v;
        break;
      case 1:
        registers[i] = kCode + (v >> 2) % code_bytes;
        break;
      case 2:
        registers[i] = kSp - (v >> 2) % 256;
        break;
      default:
        registers[i] = test::TestBus::kMmioStart + ((v >> 2) << 4);
        break;
    }
  }
  const uint16_t flags = word_at(data, size, 32) &
                         (psr::kC | psr::kF | psr::kL | psr::kN | psr::kZ | psr::kE | psr::kI);
  // Two machines for the whole campaign (16 MiB each), restored per input.
  static Machine* const jit = new Machine(true);
  static Machine* const interp = new Machine(false);
  static const std::vector<uint8_t> pristine = jit->bus.memory();
  for (Machine* m : {jit, interp}) {
    m->restore(pristine);
    m->bus.load_words(kCode, code);
    for (unsigned i = 0; i < 16; ++i) {
      m->cpu.state().r[i] = i >= 12 ? registers[i] : registers[i] & 0xFFFF;
    }
    m->cpu.state().psr |= flags;
    m->cpu.state().pc = kCode;
  }
  // Six slices: budget and whether the interrupt line is raised.
  for (unsigned slice = 0; slice < 6; ++slice) {
    const uint8_t control = data[34 + slice];
    const uint64_t budget = 1 + (control & 0x7F) * 4;
    const bool irq = (control & 0x80) != 0;
    StopReason reasons[2];
    int index = 0;
    for (Machine* m : {jit, interp}) {
      m->cpu.set_irq_line(irq);
      reasons[index++] = m->cpu.run(budget);
    }
    check(reasons[0] == reasons[1]);
    check(std::memcmp(&jit->cpu.state(), &interp->cpu.state(), sizeof(CpuState)) == 0);
    if (jit->cpu.panicked()) break;
  }
  check(jit->bus.memory() == interp->bus.memory());
  check(jit->bus.acknowledges == interp->bus.acknowledges);
  return 0;
}
