// The fast decoder agrees with the reference reverse scan; precedence rules.
#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "cpu/decode.h"

namespace cr16::isa {
namespace {

bool entries_overlap(const Entry& a, const Entry& b) {
  return ((a.value() ^ b.value()) & a.mask() & b.mask()) == 0;
}

TEST(DecodePrecedence, FastLookupEqualsReverseScanForEveryWord0) {
  const uint16_t word1_samples[] = {0x0000, 0x1234, 0x2FFF, 0x3000, 0x4A5A, 0x5555, 0x6000, 0x7FFF,
                                    0x8001, 0x9999, 0xA000, 0xBCDE, 0xC0C0, 0xD00D, 0xEEEE, 0xFFFF};
  unsigned mismatches = 0;
  for (uint32_t w0 = 0; w0 < 65536; ++w0) {
    for (uint16_t w1 : word1_samples) {
      if (find_entry(static_cast<uint16_t>(w0), w1) !=
          find_entry_reference(static_cast<uint16_t>(w0), w1)) {
        ++mismatches;
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(DecodePrecedence, FastDecodeEqualsReverseScanOnRandomWords) {
  std::mt19937_64 rng(0xC16);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t bits = rng();
    const auto w0 = static_cast<uint16_t>(bits), w1 = static_cast<uint16_t>(bits >> 16),
               w2 = static_cast<uint16_t>(bits >> 32);
    const Decoded fast = decode(w0, w1, w2);
    const uint16_t reference = find_entry_reference(w0, w1);
    ASSERT_EQ(fast.entry, reference) << std::hex << w0 << " " << w1;
    if (reference != kInvalidEntry) {
      ASSERT_EQ(fast.size_words, table()[reference].size_words);
      ASSERT_EQ(fast.mnemonic, table()[reference].mnemonic);
    } else {
      ASSERT_EQ(fast.size_words, 1);
    }
  }
}

// The documented rule: overlapping entries exist (70 pairs, counting every
// pair of entries some 32-bit W satisfies both of), and the later entry in
// table order always wins. Any other overlap would be a table error.
TEST(DecodePrecedence, Exactly70OverlappingPairsAllResolvedByTableOrder) {
  const auto entries = table();
  std::vector<std::pair<unsigned, unsigned>> overlaps;
  for (unsigned i = 0; i < entries.size(); ++i) {
    for (unsigned j = i + 1; j < entries.size(); ++j) {
      if (entries_overlap(entries[i], entries[j])) overlaps.emplace_back(i, j);
    }
  }
  EXPECT_EQ(overlaps.size(), 70u);
  for (const auto& [earlier, later] : overlaps) {
    // A W that both match: the later entry's pattern with the earlier's fixed
    // bits filled in where the later leaves them free.
    const Entry& a = entries[earlier];
    const Entry& b = entries[later];
    const uint32_t w = b.value() | (a.value() & a.mask() & ~b.mask());
    ASSERT_TRUE(a.matches(w) && b.matches(w)) << earlier << " " << later;
    const uint16_t winner =
        find_entry_reference(static_cast<uint16_t>(w >> 16), static_cast<uint16_t>(w));
    // Something at least as late as `later` wins (a third entry may too).
    if (winner != kInvalidEntry) {
      EXPECT_GE(winner, later) << earlier << " " << later;
    }
  }
}

TEST(DecodePrecedence, LongBranchWithNonZeroOpeIsUndefined) {
  EXPECT_EQ(decode(0x0010, 0x0000, 0x0000).mnemonic, Mnemonic::kB);
  EXPECT_TRUE(decode(0x0010, 0x0E00, 0x0000).valid());
  EXPECT_FALSE(decode(0x0010, 0x1000, 0x0000).valid());
  EXPECT_FALSE(decode(0x0010, 0x3000, 0x0000).valid());
  // ope 2 is bal (rp),disp24 and 4..15 are the byte bit operations.
  EXPECT_EQ(decode(0x0010, 0x2000, 0x0000).mnemonic, Mnemonic::kBal);
  EXPECT_EQ(decode(0x0010, 0x4000, 0x0000).mnemonic, Mnemonic::kCbitb);
  EXPECT_EQ(decode(0x0010, 0xF000, 0x0000).mnemonic, Mnemonic::kTbitb);
}

TEST(DecodePrecedence, UnassignedEncodingsAreInvalid) {
  EXPECT_FALSE(decode(0x0000, 0x0000, 0x0000).valid());
  EXPECT_FALSE(decode(0x0001, 0x0000, 0x0000).valid());
  EXPECT_FALSE(decode(0x0002, 0x0000, 0x0000).valid());
  EXPECT_EQ(decode(0x0001, 0, 0).size_words, 1);
}

TEST(DecodePrecedence, EscapesSelectTheLongerForm) {
  // imm4 nibble 0xB escapes to the imm16 form: addw $0x1234,r1.
  const Decoded addw = decode(0x32B1, 0x1234, 0);
  EXPECT_EQ(addw.mnemonic, Mnemonic::kAddw);
  EXPECT_EQ(addw.size_words, 2);
  EXPECT_EQ(addw.operands[0].value, 0x1234);
  // nop is addub $0,r0's encoding and wins.
  EXPECT_EQ(decode(0x2C00, 0, 0).mnemonic, Mnemonic::kNop);
  // 1-word branch with disp8 = 0x80 escapes to the 2-word branch.
  const Decoded branch = decode(0x18C0, 0x0010, 0);
  EXPECT_EQ(branch.size_words, 2);
  EXPECT_EQ(branch.operands[0].value, 12);
  // loadw disp4 = 14 escapes to the (rrp) index form, 15 to disp16.
  EXPECT_EQ(decode(0x9E12, 0, 0).operands[0].type, OperandType::kRpindexDisps0);
  EXPECT_EQ(decode(0x9F12, 0x1234, 0).operands[0].type, OperandType::kRpbaseDisps16);
  // push $n,rX with bit 7 set is the 2-operand entry plus the RA flag.
  const Decoded push = decode(0x0187, 0, 0);
  EXPECT_EQ(push.mnemonic, Mnemonic::kPush);
  EXPECT_EQ(push.operand_count, 2);
  EXPECT_TRUE(push.with_ra);
  EXPECT_FALSE(decode(0x0107, 0, 0).with_ra);
  const Decoded ra_only = decode(0x011E, 0xFFFF, 0);
  EXPECT_EQ(ra_only.operand_count, 1);
  EXPECT_EQ(ra_only.operands[0].reg, 14);
  EXPECT_TRUE(ra_only.with_ra);
}

}  // namespace
}  // namespace cr16::isa
