// The traits column of the instruction table (isa.h: ends block,
// privileged, memory access kind, width, stack) checked against what the
// handlers do: every reachable entry runs on random encodings and register
// states on a bus that sends every data access through a recording slow
// path, once in supervisor and once in user mode.
#include <random>
#include <string>
#include <vector>

#include "cpu/decode.h"
#include "cpu/isa_random.h"
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

/// Every data access reaches read_slow/write_slow (all pages but the code
/// page have both debugger watch bits) and is recorded.
class RecordingBus : public TestBus {
 public:
  struct Access {
    uint32_t address;
    unsigned bytes;
    bool write;
  };

  BusStatus read_slow(uint32_t address, AccessSize size, uint32_t* value) override {
    if (recording) accesses.push_back({address, static_cast<unsigned>(size), false});
    return TestBus::read_slow(address, size, value);
  }
  BusStatus write_slow(uint32_t address, AccessSize size, uint32_t value) override {
    if (recording) accesses.push_back({address, static_cast<unsigned>(size), true});
    return TestBus::write_slow(address, size, value);
  }

  bool recording = false;
  std::vector<Access> accesses;
};

class TraitFixture : public ::testing::Test {
 public:
  /// Far from every address the random register states make.
  static constexpr uint32_t kCode = 0x7F000;
  static constexpr uint32_t kIntbase = CpuFixture::kIntbase;
  static constexpr uint32_t kIsp = CpuFixture::kIsp;
  static constexpr uint32_t kSp = CpuFixture::kSp;

  TraitFixture() : cpu(bus, CpuModel::kCr16cPlus) {
    for (uint32_t page = 0; page < kPageCount; ++page) {
      if (page != kCode >> kPageBits) {
        bus.set_page_watch(page, page_watch::kRead | page_watch::kWrite);
      }
    }
  }

  struct Outcome {
    bool exception = false;  // an exception was entered (frame pushed)
    bool und = false;        // ... and it was UND
    uint32_t pc = 0;
    uint16_t psr_before = 0, psr_after = 0;
    uint16_t cfg_before = 0, cfg_after = 0;
    bool halted = false;
    uint32_t sp = 0;
    std::vector<RecordingBus::Access> accesses;
  };

  /// Runs one instruction from a random register state (same seed, same
  /// state) in supervisor or user mode.
  Outcome run_one(const isa::Encoding& encoding, uint64_t seed, bool user) {
    std::mt19937_64 rng(seed);
    cpu.reset(kCode);
    CpuState& s = cpu.state();
    // Small values, zero half of the time (beq0/bne0 both ways).
    for (unsigned i = 0; i < 12; ++i)
      s.r[i] = (rng() & 1) ? 0 : static_cast<uint32_t>(rng() & 0x0F);
    s.r[12] = 0x1000 + static_cast<uint32_t>(rng() & 0xFE);
    s.r[13] = 0x2000 + static_cast<uint32_t>(rng() & 0xFE);
    s.r[kRegRa] = 0x1800;
    s.r[kRegSp] = kSp;
    s.banked_sp = kSp;
    s.isp = kIsp;
    s.intbase = kIntbase;
    cpu.set_cfg(cfg::kEd);
    s.psr = static_cast<uint16_t>(
        rng() & (psr::kE | psr::kC | psr::kZ | psr::kN | psr::kF | psr::kL | psr::kI));
    if (user) s.psr |= psr::kU;
    // A plausible exception frame for retx.
    bus.poke32(kIsp, (kCode + 0x100) >> 1);
    bus.poke16(kIsp + 4, psr::kE);
    for (uint32_t v = 0; v < 64; ++v) bus.poke32(kIntbase + 4 * v, (0x4000 + 0x10 * v) >> 1);
    bus.load_words(kCode, {encoding.words[0], encoding.words[1], encoding.words[2]});
    cpu.flush_code_cache();

    Outcome out;
    out.psr_before = s.psr;
    out.cfg_before = s.cfg;
    bus.accesses.clear();
    bus.recording = true;
    cpu.run(1);
    bus.recording = false;
    out.pc = s.pc;
    out.psr_after = s.psr;
    out.cfg_after = s.cfg;
    out.halted = cpu.halted();
    out.sp = kSp;
    out.exception = s.isp < kIsp;  // a frame was pushed (retx pops one: above)
    out.und = out.exception && s.pc == 0x4000 + 0x10 * vector::kUnd;
    out.accesses = bus.accesses;
    return out;
  }

  RecordingBus bus;
  Cpu cpu;
};

/// PSR bits that only block-ending instructions may change.
constexpr uint16_t kControlBits = psr::kE | psr::kI | psr::kU | psr::kT | psr::kP;

TEST_F(TraitFixture, ColumnsMatchWhatTheHandlersDo) {
  std::mt19937_64 rng(20240611);
  const auto entries = isa::table();
  unsigned checked = 0;
  for (uint16_t index = 0; index < entries.size(); ++index) {
    if (!isa::entry_reachable(index)) continue;
    const isa::Entry& entry = entries[index];
    const std::string what =
        std::string(isa::mnemonic_name(entry.mnemonic)) + " (entry " + std::to_string(index) + ")";
    const isa::MemoryAccess access = entry.memory_access();
    const bool may_load =
        access == isa::MemoryAccess::kLoad || access == isa::MemoryAccess::kLoadStore;
    const bool may_store =
        access == isa::MemoryAccess::kStore || access == isa::MemoryAccess::kLoadStore;
    bool saw_control_effect = false, saw_load = false, saw_store = false, saw_width = false;
    bool saw_user_without_und = false;
    for (int round = 0; round < 48; ++round) {
      const auto encoding = isa::random_encoding(rng, index);
      ASSERT_TRUE(encoding.has_value()) << what;
      const uint64_t seed = rng();
      const Outcome super = run_one(*encoding, seed, false);
      const Outcome user = run_one(*encoding, seed, true);

      // Privileged: UND in user mode, always; otherwise UND in user mode
      // only where supervisor mode raises it too (reserved excp vectors,
      // lprd/sprd codes naming no register).
      if (entry.privileged()) {
        EXPECT_TRUE(user.und) << what << " is privileged but ran in user mode";
      } else if (user.und) {
        EXPECT_TRUE(super.und) << what << " raised UND only in user mode: privileged?";
      } else {
        saw_user_without_und = true;
      }

      // Ends block: nothing may follow an instruction that transfers
      // control or changes PSR control bits, CFG or the run state.
      const uint32_t next = kCode + 2u * encoding->size_words;
      const bool control_effect = super.exception || super.pc != next || super.halted ||
                                  ((super.psr_before ^ super.psr_after) & kControlBits) ||
                                  super.cfg_before != super.cfg_after;
      if (control_effect) saw_control_effect = true;
      if (!super.exception && control_effect) {
        EXPECT_TRUE(entry.ends_block())
            << what << " changed control state: pc 0x" << std::hex << super.pc << " psr "
            << super.psr_before << "->" << super.psr_after;
      }

      // Memory access kind, width and stack, from the recorded accesses of
      // runs that took no exception (an exception pushes a frame).
      if (super.exception) continue;
      for (const RecordingBus::Access& a : super.accesses) {
        if (a.write) {
          saw_store = true;
          EXPECT_TRUE(may_store) << what << " wrote 0x" << std::hex << a.address;
        } else {
          saw_load = true;
          EXPECT_TRUE(may_load) << what << " read 0x" << std::hex << a.address;
        }
        EXPECT_LE(a.bytes, entry.access_bytes()) << what;
        if (a.bytes == entry.access_bytes()) saw_width = true;
        if (entry.stack_access()) {
          const bool near_sp = a.address + 64 >= kSp && a.address < kSp + 64;
          const bool near_isp = a.address >= kIsp && a.address < kIsp + 6;
          EXPECT_TRUE(near_sp || near_isp)
              << what << " stack access at 0x" << std::hex << a.address;
        }
      }
    }
    if (entry.ends_block()) {
      EXPECT_TRUE(saw_control_effect) << what << " is marked as ending a block but never did";
    }
    if (!entry.privileged()) {
      EXPECT_TRUE(saw_user_without_und) << what << " always raised UND in user mode";
    }
    if (may_load) {
      EXPECT_TRUE(saw_load) << what << " is marked as loading but never read";
    }
    if (may_store) {
      EXPECT_TRUE(saw_store) << what << " is marked as storing but never wrote";
    }
    if (access != isa::MemoryAccess::kNone) {
      EXPECT_TRUE(saw_width) << what << " never made a " << entry.access_bytes() << "-byte access";
    } else {
      EXPECT_EQ(entry.access_bytes(), 0u) << what;
    }
    ++checked;
  }
  EXPECT_GT(checked, 300u);
}

TEST(IsaTraits, EveryEntryOfAMnemonicSharesItsTraits) {
  // The traits describe the operation, not the encoding: all forms of one
  // mnemonic agree (a typo in one line of the table would differ).
  const auto entries = isa::table();
  for (const isa::Entry& entry : entries) {
    for (const isa::Entry& other : entries) {
      if (other.mnemonic == entry.mnemonic) {
        EXPECT_EQ(other.traits, entry.traits) << isa::mnemonic_name(entry.mnemonic);
      }
    }
  }
}

TEST(IsaTraits, WidthIsSetExactlyForMemoryInstructions) {
  for (const isa::Entry& entry : isa::table()) {
    const bool memory = entry.memory_access() != isa::MemoryAccess::kNone;
    const unsigned width = entry.access_bytes();
    EXPECT_EQ(memory, width != 0) << isa::mnemonic_name(entry.mnemonic);
    EXPECT_TRUE(width == 0 || width == 1 || width == 2 || width == 4)
        << isa::mnemonic_name(entry.mnemonic);
    if (entry.stack_access()) {
      EXPECT_TRUE(memory) << isa::mnemonic_name(entry.mnemonic);
    }
  }
}

}  // namespace
}  // namespace cr16::test
