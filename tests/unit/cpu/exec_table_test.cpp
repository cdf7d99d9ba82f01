// Every instruction-table entry executes: for each of the 336 entries, random
// encodings that decode to it run through the predecoder and the run loop
// without being treated as undefined, retire exactly one instruction and
// leave the PC at the next instruction unless the table says the
// instruction ends its block. Entries shadowed by later
// ones (never produced by the decoder) are checked through the predecoder.
#include <random>
#include <set>

#include "cpu/exec.h"
#include "cpu/isa_random.h"
#include "cpu_fixture.h"

namespace cr16::test {
namespace {

using isa::Mnemonic;

/// Entries that may legitimately raise UND in supervisor mode: excp with a
/// reserved vector, lprd/sprd with a code naming no 32-bit register.
bool may_raise_und(Mnemonic m) {
  return m == Mnemonic::kExcp || m == Mnemonic::kLprd || m == Mnemonic::kSprd;
}

class ExecTable : public CpuFixture {
 protected:
  void randomize_registers(std::mt19937_64& rng) {
    CpuState& s = cpu.state();
    for (unsigned i = 0; i < 12; ++i) s.r[i] = static_cast<uint32_t>(rng() & 0x0F);
    s.r[12] = 0x1000 + static_cast<uint32_t>(rng() & 0xFE);
    s.r[13] = 0x2000 + static_cast<uint32_t>(rng() & 0xFE);
    s.r[kRegRa] = 0x1800;
    s.r[kRegSp] = kSp;
    s.isp = kIsp;
    s.intbase = kIntbase;
    s.halted = 0;
    install_vectors();
    s.psr = static_cast<uint16_t>(psr::kE |
                                  (rng() & (psr::kC | psr::kZ | psr::kN | psr::kF | psr::kL)));
    cpu.set_cfg(cfg::kEd);
    cpu.set_irq_line(false);
  }
};

TEST_F(ExecTable, EveryEntryExecutes) {
  std::mt19937_64 rng(1234);
  const auto entries = isa::table();
  unsigned executed = 0, predecoded_only = 0;
  for (uint16_t index = 0; index < entries.size(); ++index) {
    const isa::Entry& entry = entries[index];
    if (!isa::entry_reachable(index)) {
      const uint32_t w = entry.value();
      const isa::Decoded d =
          isa::decode_entry(index, static_cast<uint16_t>(w >> 16), static_cast<uint16_t>(w), 0);
      Op op;
      exec::predecode_instruction(d, kCode, &op);
      EXPECT_NE(op.handler, &exec::op_undefined) << "entry " << index;
      ++predecoded_only;
      continue;
    }
    for (int round = 0; round < 8; ++round) {
      const auto encoding = isa::random_encoding(rng, index);
      ASSERT_TRUE(encoding.has_value());
      const isa::Decoded d =
          isa::decode(encoding->words[0], encoding->words[1], encoding->words[2]);
      ASSERT_EQ(d.entry, index);
      Op op;
      exec::predecode_instruction(d, kCode, &op);
      ASSERT_NE(op.handler, &exec::op_undefined)
          << "entry " << index << " " << isa::mnemonic_name(entry.mnemonic);

      randomize_registers(rng);
      const uint64_t before = cpu.instruction_count();
      const StopReason reason =
          exec({encoding->words[0], encoding->words[1], encoding->words[2]}, 1);
      EXPECT_EQ(cpu.instruction_count(), before + 1) << "entry " << index;
      const uint32_t pc = cpu.state().pc;
      const std::string what = std::string(isa::mnemonic_name(entry.mnemonic)) + " entry " +
                               std::to_string(index) + " words " +
                               std::to_string(encoding->words[0]);
      if (!may_raise_und(entry.mnemonic)) {
        EXPECT_NE(pc, handler(vector::kUnd)) << what;
      }
      if (entry.mnemonic == Mnemonic::kWait || entry.mnemonic == Mnemonic::kEiwait) {
        EXPECT_EQ(reason, StopReason::kHalted) << what;
        EXPECT_EQ(pc, kCode + 2) << what;
      } else if (!entry.ends_block()) {
        EXPECT_TRUE(pc == kCode + 2u * entry.size_words || pc == handler(vector::kIad) ||
                    (may_raise_und(entry.mnemonic) && pc == handler(vector::kUnd)))
            << what << " pc " << std::hex << pc;
      }
    }
    ++executed;
  }
  EXPECT_EQ(executed + predecoded_only, isa::kEntryCount);
  EXPECT_GT(executed, 300u);
}

TEST_F(ExecTable, EveryMnemonicHasAHandler) {
  std::set<Mnemonic> covered;
  const auto entries = isa::table();
  for (uint16_t index = 0; index < entries.size(); ++index) {
    const uint32_t w = entries[index].value();
    const isa::Decoded d =
        isa::decode_entry(index, static_cast<uint16_t>(w >> 16), static_cast<uint16_t>(w), 0);
    Op op;
    exec::predecode_instruction(d, kCode, &op);
    if (op.handler != &exec::op_undefined) covered.insert(entries[index].mnemonic);
  }
  EXPECT_EQ(covered.size(), isa::kMnemonicCount);
}

}  // namespace
}  // namespace cr16::test
