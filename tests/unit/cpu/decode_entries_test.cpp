// Every table entry decodes: encodings built from each entry's match bits
// with random operand fields decode back to that entry, and operand values
// follow the field layouts documented in decode.h.
#include <gtest/gtest.h>

#include <random>

#include "cpu/decode.h"
#include "cpu/isa_random.h"

namespace cr16::isa {
namespace {

TEST(DecodeEntries, EveryReachableEntryDecodesBackFromRandomEncodings) {
  std::mt19937_64 rng(336);
  unsigned reachable = 0;
  for (uint16_t index = 0; index < table().size(); ++index) {
    if (!entry_reachable(index)) continue;
    ++reachable;
    for (int sample = 0; sample < 64; ++sample) {
      const auto encoding = random_encoding(rng, index);
      ASSERT_TRUE(encoding.has_value());
      const Entry& entry = table()[index];
      // Random trailing words must not change the decoding of short forms.
      uint16_t words[3] = {encoding->words[0], encoding->words[1], encoding->words[2]};
      for (unsigned w = encoding->size_words; w < 3; ++w) words[w] = static_cast<uint16_t>(rng());
      if (encoding->size_words == 1) words[1] = static_cast<uint16_t>(rng());
      const Decoded decoded = decode(words[0], words[1], words[2]);
      ASSERT_EQ(decoded.entry, index) << std::hex << words[0] << " " << words[1];
      EXPECT_EQ(decoded.size_words, entry.size_words);
      EXPECT_EQ(decoded.operand_count, entry.operand_count);
      for (unsigned i = 0; i < entry.operand_count; ++i) {
        EXPECT_EQ(decoded.operands[i].type, entry.operands[i].type);
      }
      EXPECT_TRUE(entry.matches((uint32_t{encoding->words[0]} << 16) | encoding->words[1]));
    }
  }
  // 336 entries minus those no encoding can select (the 3-operand
  // push/pop/popret forms and the duplicate imm16 logic entries).
  EXPECT_EQ(reachable, 327u);
}

TEST(DecodeEntries, UnreachableEntriesAreShadowedByLaterEntries) {
  for (uint16_t index = 0; index < table().size(); ++index) {
    if (entry_reachable(index)) continue;
    const Entry& entry = table()[index];
    const bool three_operand_reglist =
        (entry.flags & flags::kRegList) != 0 && entry.operand_count == 3;
    const bool unsigned_logic_duplicate =
        entry.size_words == 2 && entry.operands[0].type == OperandType::kUimm16;
    EXPECT_TRUE(three_operand_reglist || unsigned_logic_duplicate)
        << index << " " << mnemonic_name(entry.mnemonic);
  }
}

TEST(DecodeEntries, OneWordInstructionsNeverDependOnTheNextWord) {
  for (uint32_t w0 = 0; w0 < 65536; ++w0) {
    const uint16_t first = find_entry(static_cast<uint16_t>(w0), 0);
    bool one_word = first != kInvalidEntry && table()[first].size_words == 1;
    for (uint32_t ope = 1; ope < 16 && !one_word; ++ope) {
      const uint16_t e = find_entry(static_cast<uint16_t>(w0), static_cast<uint16_t>(ope << 12));
      one_word = e != kInvalidEntry && table()[e].size_words == 1;
    }
    if (!one_word) continue;
    for (uint32_t ope = 0; ope < 16; ++ope) {
      ASSERT_EQ(find_entry(static_cast<uint16_t>(w0), static_cast<uint16_t>(ope << 12)), first)
          << std::hex << w0;
    }
  }
}

// Hand-checked field layouts (cr16-isa-notes section 2).
TEST(DecodeFields, Imm4NineMeansMinusOne) {
  const Decoded d = decode(0x3291, 0, 0);  // addw $-1,r1
  EXPECT_EQ(d.mnemonic, Mnemonic::kAddw);
  EXPECT_EQ(d.operands[0].value, -1);
  EXPECT_EQ(d.operands[1].reg, 1);
  EXPECT_EQ(decode(0x32A1, 0, 0).operands[0].value, 10);
}

TEST(DecodeFields, Imm16IsSignExtendedUimm20And32AreNot) {
  EXPECT_EQ(decode(0x54B2, 0xFFFE, 0).operands[0].value, -2);  // movd $-2,(r3,r2)
  const Decoded movd20 = decode(0x0573, 0x4567, 0);            // movd $0x34567,(r8,r7)
  EXPECT_EQ(movd20.mnemonic, Mnemonic::kMovd);
  EXPECT_EQ(movd20.operands[0].value, 0x34567);
  EXPECT_EQ(movd20.operands[1].reg, 7);
  const Decoded movd32 = decode(0x0074, 0x1234, 0x5678);  // movd $0x12345678,(r5,r4)
  EXPECT_EQ(movd32.operands[0].value, 0x12345678);
  EXPECT_EQ(movd32.operands[1].reg, 4);
}

TEST(DecodeFields, BranchDisplacements) {
  // 1-word: 0001 dddd cccc dddd, disp = 2 * sext8.
  EXPECT_EQ(decode(0x1101, 0, 0).operands[1].value, 0x22);
  const Decoded back = decode(0x1F0F, 0, 0);  // disp8 = 0xFF -> -2
  EXPECT_EQ(back.operands[0].value, 0);
  EXPECT_EQ(back.operands[1].value, -2);
  // 2-word: sign in bit 0 of word1.
  EXPECT_EQ(decode(0x1800, 0x0112, 0).operands[1].value, 0x112);
  EXPECT_EQ(decode(0x1800, 0xFFFF, 0).operands[1].value, -2);
  EXPECT_EQ(decode(0x1800, 0x0001, 0).operands[1].value, -0x10000);
  // 3-word: word1[3:0] = bits 23..20, word1[11:8] = 19..16, sign in bit 0.
  const Decoded far = decode(0x0010, 0x0AEE, 0x4568);
  EXPECT_EQ(far.operands[0].value, 14);  // cond in word1[7:4]
  EXPECT_EQ(far.operands[1].value, 0xEA4568);
  EXPECT_EQ(decode(0x0010, 0x0F0F, 0xFFFF).operands[1].value, -2);
  // bal (ra): word0 low byte = bits 23..16.
  const Decoded bal = decode(0xC00F, 0xF122, 0);
  EXPECT_EQ(bal.mnemonic, Mnemonic::kBal);
  EXPECT_EQ(bal.operands[0].reg, 14);
  EXPECT_EQ(bal.operands[1].value, 0xFF122);
  // beq0b: 2 * d + 2.
  const Decoded beq0 = decode(0x0C31, 0, 0);
  EXPECT_EQ(beq0.mnemonic, Mnemonic::kBeq0b);
  EXPECT_EQ(beq0.operands[0].reg, 1);
  EXPECT_EQ(beq0.operands[1].value, 8);
  // bne0b: word0 bit 8 is an opcode bit, not part of the displacement.
  const Decoded bne0 = decode(0x0D31, 0, 0);
  EXPECT_EQ(bne0.mnemonic, Mnemonic::kBne0b);
  EXPECT_EQ(bne0.operands[1].value, 8);
  // bal (r1,r0),disp24: 3 words, pair in word1[7:4].
  const Decoded bal_rp = decode(0x0010, 0x2000, 0x0122);
  EXPECT_EQ(bal_rp.mnemonic, Mnemonic::kBal);
  EXPECT_EQ(bal_rp.operands[0].reg, 0);
  EXPECT_EQ(bal_rp.operands[1].value, 0x122);
}

TEST(DecodeFields, AbsoluteAddresses) {
  const Decoded low = decode(0x880A, 0xBCDE, 0);  // loadb 0xabcde,r0
  EXPECT_EQ(low.mnemonic, Mnemonic::kLoadb);
  EXPECT_EQ(low.operands[0].value, 0xABCDE);
  const Decoded high = decode(0x881F, 0x0000, 0);  // abs20 0xF0000 -> 0xFF0000
  EXPECT_EQ(high.operands[0].value, 0xFF0000);
  EXPECT_EQ(high.operands[1].reg, 1);
  const Decoded abs24 = decode(0x0012, 0x7F10, 0xFFFF);  // loadb 0xfffff:l,r1
  EXPECT_EQ(abs24.mnemonic, Mnemonic::kLoadb);
  EXPECT_EQ(abs24.size_words, 3);
  EXPECT_EQ(abs24.operands[0].value, 0x0FFFFF);
  EXPECT_EQ(abs24.operands[1].reg, 1);
  EXPECT_EQ(decode(0x0012, 0x7A1F, 0x1234).operands[0].value, 0xFA1234);
}

TEST(DecodeFields, LoadStoreDisp4ScalingAndPairs) {
  const Decoded loadw = decode(0x9321, 0, 0);  // loadw 6(r2,r1)... disp4 3 scaled x2
  EXPECT_EQ(loadw.mnemonic, Mnemonic::kLoadw);
  EXPECT_EQ(loadw.operands[0].type, OperandType::kRpbaseDispe4);
  EXPECT_EQ(loadw.operands[0].value, 6);
  EXPECT_EQ(loadw.operands[0].reg, 1);
  EXPECT_EQ(loadw.operands[1].reg, 2);
  const Decoded loadb = decode(0xB321, 0, 0);
  EXPECT_EQ(loadb.operands[0].type, OperandType::kRpbaseDisps4);
  EXPECT_EQ(loadb.operands[0].value, 3);
}

TEST(DecodeFields, IndexModes) {
  // loadb [r13]0x1234,r5: rindex8 index bit is word0 bit 8.
  const Decoded r13 = decode(0x8B50, 0x1234, 0);
  EXPECT_EQ(r13.operands[0].index, 1);
  EXPECT_EQ(r13.operands[0].value, 0x1234);
  EXPECT_EQ(r13.operands[1].reg, 5);
  EXPECT_EQ(decode(0x8A50, 0x1234, 0).operands[0].index, 0);
  // cbitb $3,[r13]0x1234: rindex7 index bit is word0 bit 7.
  const Decoded cbitb = decode(0x68B0, 0x1234, 0);
  EXPECT_EQ(cbitb.operands[0].value, 3);
  EXPECT_EQ(cbitb.operands[1].index, 1);
  // cbitb $3,[r12]0xa7a(r4,r3): rrp field 6 maps to pair code 3.
  const Decoded rrp = decode(0x6AB6, 0x4A3A, 0);
  EXPECT_EQ(rrp.mnemonic, Mnemonic::kCbitb);
  EXPECT_EQ(rrp.operands[0].value, 3);
  EXPECT_EQ(rrp.operands[1].index, 0);
  EXPECT_EQ(rrp.operands[1].reg, 3);
  EXPECT_EQ(rrp.operands[1].value, 0xA7A);
  // disp20 rrp form: cbitb $3,[r12]0xabcde:l(r4,r3)
  const Decoded far = decode(0x0010, 0x6A36, 0xBCDE);
  EXPECT_EQ(far.operands[1].value, 0xABCDE);
  EXPECT_EQ(far.operands[1].reg, 3);
  EXPECT_EQ(far.operands[1].index, 0);
  // loadb [r12]disp14(rp),rX keeps the data register in word1[7:4].
  const Decoded disp14 = decode(0x8640, 0x0050, 0);
  EXPECT_EQ(disp14.mnemonic, Mnemonic::kLoadb);
  EXPECT_EQ(disp14.operands[0].type, OperandType::kRpindexDisps14);
  EXPECT_EQ(disp14.operands[1].reg, 5);
}

TEST(DecodeFields, NegativeDisp20Forms) {
  // loadb -disp20(r1),r2: ope 4 on escape word 0x0018.
  const Decoded d = decode(0x0018, 0x4F21, 0xFFFF);
  EXPECT_EQ(d.mnemonic, Mnemonic::kLoadb);
  EXPECT_EQ(d.operands[0].type, OperandType::kRbaseDispe20);
  EXPECT_EQ(d.operands[0].value, -1);
  EXPECT_EQ(d.operands[0].reg, 1);
  EXPECT_EQ(d.operands[1].reg, 2);
  const Decoded positive = decode(0x0012, 0x4F21, 0xFFFF);
  EXPECT_EQ(positive.operands[0].type, OperandType::kRbaseDisps20);
  EXPECT_EQ(positive.operands[0].value, 0xFFFFF);
}

TEST(DecodeFields, RegisterListsAndProcessorRegisters) {
  const Decoded push = decode(0x0187, 0, 0);  // push $0x1,r7,RA
  EXPECT_EQ(push.operands[0].value, 1);
  EXPECT_EQ(push.operands[1].reg, 7);
  EXPECT_TRUE(push.with_ra);
  const Decoded loadm = decode(0x00A7, 0, 0);
  EXPECT_EQ(loadm.mnemonic, Mnemonic::kLoadm);
  EXPECT_EQ(loadm.operands[0].value, 8);
  const Decoded lpr = decode(0x0014, 0x0091, 0);  // lpr r1,psr
  EXPECT_EQ(lpr.mnemonic, Mnemonic::kLpr);
  EXPECT_EQ(lpr.operands[0].reg, 1);
  EXPECT_EQ(lpr.operands[1].reg, 9);
  const Decoded excp = decode(0x00C5, 0, 0);
  EXPECT_EQ(excp.mnemonic, Mnemonic::kExcp);
  EXPECT_EQ(excp.operands[0].value, 5);
}

}  // namespace
}  // namespace cr16::isa
