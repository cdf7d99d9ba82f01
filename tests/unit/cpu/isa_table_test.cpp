// The instruction table carries binutils' facts: size, order, spot checks.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cpu/isa.h"

namespace cr16::isa {
namespace {

TEST(IsaTable, Has336EntriesAnd119Mnemonics) {
  const auto entries = table();
  ASSERT_EQ(entries.size(), 336u);
  std::set<Mnemonic> mnemonics;
  std::set<std::string> names;
  unsigned by_size[4] = {0, 0, 0, 0};
  for (const Entry& entry : entries) {
    mnemonics.insert(entry.mnemonic);
    names.insert(mnemonic_name(entry.mnemonic));
    ASSERT_GE(entry.size_words, 1);
    ASSERT_LE(entry.size_words, 3);
    ++by_size[entry.size_words];
  }
  EXPECT_EQ(mnemonics.size(), 119u);
  EXPECT_EQ(names.size(), 119u);
  EXPECT_EQ(by_size[1], 156u);
  EXPECT_EQ(by_size[2], 103u);
  EXPECT_EQ(by_size[3], 77u);
}

TEST(IsaTable, MnemonicNamesFollowBinutils) {
  EXPECT_STREQ(mnemonic_name(Mnemonic::kAndb), "andb");
  EXPECT_STREQ(mnemonic_name(Mnemonic::kCinvDIU), "cinv[d,i,u]");
  EXPECT_STREQ(mnemonic_name(Mnemonic::kEiwait), "eiwait");
  EXPECT_STREQ(mnemonic_name(Mnemonic::kB), "b");
}

TEST(IsaTable, SpotChecksAgainstBinutilsEntries) {
  const auto entries = table();
  // First entry: andb $imm4, reg.
  EXPECT_EQ(entries[0].mnemonic, Mnemonic::kAndb);
  EXPECT_EQ(entries[0].match, 0x20u);
  EXPECT_EQ(entries[0].match_bits, 24);
  EXPECT_EQ(entries[0].operands[0].type, OperandType::kUimm4_1);
  EXPECT_EQ(entries[0].operands[0].shift, 20);
  EXPECT_EQ(entries[0].operands[1].type, OperandType::kRegr);
  // Last entry: eiwait.
  EXPECT_EQ(entries[335].mnemonic, Mnemonic::kEiwait);
  EXPECT_EQ(entries[335].match, 0x0007u);
  EXPECT_EQ(entries[335].match_bits, 16);
  EXPECT_EQ(entries[335].operand_count, 0);
  // The three conditional branch forms.
  int branches = 0;
  for (const Entry& entry : entries) {
    if (entry.mnemonic != Mnemonic::kB) continue;
    ++branches;
    if (entry.size_words == 1) {
      EXPECT_EQ(entry.match, 0x1u);
      EXPECT_EQ(entry.match_bits, 28);
      EXPECT_EQ(entry.operands[1].type, OperandType::kDispe9);
    } else if (entry.size_words == 2) {
      EXPECT_EQ(entry.mask(), 0xFF0F0000u);
      EXPECT_EQ(entry.value(), 0x18000000u);
    } else {
      EXPECT_EQ(entry.match, 0x10u);
      EXPECT_EQ(entry.match_bits, 16);
      EXPECT_EQ(entry.operands[0].shift, 4);
      EXPECT_EQ(entry.operands[1].type, OperandType::kDisps25);
    }
  }
  EXPECT_EQ(branches, 3);
  // loadw (rp) disp16 form: opcode 0x9F, operand rpbase_disps16 at 0.
  bool found_loadw = false;
  for (const Entry& entry : entries) {
    if (entry.mnemonic == Mnemonic::kLoadw && entry.match == 0x9F && entry.match_bits == 24) {
      found_loadw = true;
      EXPECT_EQ(entry.size_words, 2);
      EXPECT_EQ(entry.operands[0].type, OperandType::kRpbaseDisps16);
      EXPECT_EQ(entry.operands[1].type, OperandType::kRegr);
      EXPECT_EQ(entry.operands[1].shift, 20);
    }
  }
  EXPECT_TRUE(found_loadw);
}

TEST(IsaTable, OperandCountsMatchOperandSlots) {
  for (const Entry& entry : table()) {
    for (unsigned i = 0; i < 4; ++i) {
      if (i < entry.operand_count) {
        EXPECT_NE(entry.operands[i].type, OperandType::kNone);
      } else {
        EXPECT_EQ(entry.operands[i].type, OperandType::kNone);
      }
    }
  }
}

TEST(IsaTable, OperandBitsFollowBinutilsOperandTable) {
  EXPECT_EQ(operand_bits(OperandType::kDisps17), 16u);
  EXPECT_EQ(operand_bits(OperandType::kDisps25), 24u);
  EXPECT_EQ(operand_bits(OperandType::kDispe9), 8u);
  EXPECT_EQ(operand_bits(OperandType::kRbaseDispe20), 21u);
  EXPECT_EQ(operand_bits(OperandType::kRpindexDisps14), 14u);
  EXPECT_EQ(operand_bits(OperandType::kRpbaseDisps0), 0u);
  EXPECT_STREQ(operand_type_name(OperandType::kRpindexDisps20), "rpindex_disps20");
}

}  // namespace
}  // namespace cr16::isa
