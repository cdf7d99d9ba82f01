// Decoding CR16 instruction words into a table entry plus operand values.
//
// Precedence: an encoding may satisfy several table entries (70 overlapping
// pairs). Like binutils' cr16_match_opcode and the GNU simulator, the entry
// LATEST in the table wins. decode() is a fast lookup built once from the
// table; decode_reference() is the plain reverse scan it is tested against.
// Encodings no entry claims, and the 3-word `b` (word0 0x0010) with a
// non-zero ope nibble (word1[15:12]), decode to kInvalidEntry (UND).
// The entry depends only on word0 and word1[15:12], and a 1-word
// instruction never depends on word1 (tested), so a fetcher may decode a
// 1-word instruction whose following word is not readable with w1 = 0.
//
// Meaning of Operand::value per OperandType (all displacements in bytes):
//   kImm4/5/6/16/32   the field sign-extended (shift counts, imm16/imm32).
//   kUimm3/4/5/16/20/32  the field zero-extended.
//   kUimm3_1          field + 1 (register count of push/pop/loadm..., 1..8).
//   kUimm4_1          the ALU imm4: field, except 9 means -1. (0xB never
//                     reaches here: it selects the imm16 entry.)
//   kCc               condition code 0..15 (14 = always, "br").
//   kDispe9, kDisps17, kDisps25
//                     branch displacement RELATIVE to the instruction's own
//                     address, sign applied: target = (pc + value) & 0xFFFFFF.
//                     disps17/disps25 keep the sign in bit 0 of the field:
//                     value = (field & ~1) - (field & 1) * 2^16 (resp. 2^24).
//   kDisps5           beq0/bne0: value = 2 * word0[7:4] + 2 (2..32), relative
//                     to the instruction's address like the branches. (binutils
//                     reads 5 bits, including opcode bit word0[8], so objdump
//                     shows bne0 offsets 32 too large; the disassembler does
//                     the same, the decoder does not.)
//   kAbs20            absolute address; fields above 0xEFFFF are remapped to
//                     0xF00000 | field (PRM 2.5).
//   kAbs24            absolute 24-bit address.
//   kRra              reg = 14 (ra); value 0 (bal (ra),disp: link in ra).
//   kRbaseDisps20     reg = 16-bit base register r0..r15, value = disp20
//                     zero-extended (0..0xFFFFF).
//   kRbaseDispe20     as above but the negative form: value = the 20-bit field
//                     sign-extended (the assembler stores -disp there).
//   kRpbaseDisps0     reg = base pair code, value 0.
//   kRpbaseDisps4     reg = base pair code, value = field (0..13 bytes).
//   kRpbaseDispe4     reg = base pair code, value = 2 * field (word/dword).
//   kRpbaseDisps16    reg = base pair code, value = field zero-extended.
//   kRpbaseDisps20    reg = base pair code, value = field zero-extended.
//   kRpbaseDispe20    reg = base pair code, value = 20-bit field sign-extended.
//   kRindex7Abs20, kRindex8Abs20
//                     index = 0 for r12, 1 for r13; value = abs20 field
//                     zero-extended (address = index register + value).
//                     rindex7 takes the index bit from word0[7], rindex8 from
//                     word0[8].
//   kRpindexDisps0/14/20
//                     index = 0 for r12, 1 for r13; reg = base PAIR CODE in
//                     the kRegp sense, already mapped from the 3-bit field
//                     (0..7 -> 0,2,4,6,8,10,3,5, i.e. (r1,r0) ... (r6,r5));
//                     value = displacement zero-extended (disp14 gathered
//                     from word1[3:0], word0[5:4], word1[15:14], word1[13:8]).
//   kRegr             reg = register code 0..15 (12..15 = low halves of
//                     r12, r13, ra, sp for 16-bit operations).
//   kRegp             reg = pair code: n < 12 is (r(n+1), rn); 12..15 are
//                     r12, r13, ra, sp.
//   kPregr, kPregrp   reg = processor register code (see cr16-isa-notes 1).
//
// One deliberate difference from binutils' table: in the 2-word load/store
// `rpindex_disps14` forms, binutils places the data register at W bit 20
// (word0[7:4]), which overlaps the opcode and displacement bits; the
// instruction keeps it in word1[7:4] (as the store-immediate and bit forms do
// with their shift-4 operand). decode() reads it from word1[7:4]. The
// disassembler still prints what objdump prints (see disas.h).
#pragma once

#include <cstdint>

#include "cpu/isa.h"

namespace cr16::isa {

/// Entry index meaning "no entry": the encoding is undefined (UND).
inline constexpr uint16_t kInvalidEntry = 0xFFFF;

/// One decoded operand; see the file comment for `value` per type.
struct Operand {
  OperandType type = OperandType::kNone;
  uint8_t reg = 0;    // register / pair / processor-register / base code
  uint8_t index = 0;  // rindex/rpindex: 0 = r12, 1 = r13; else 0
  int32_t value = 0;
};

/// A decoded instruction.
struct Decoded {
  uint16_t entry = kInvalidEntry;      // index into table(); kInvalidEntry = UND
  Mnemonic mnemonic = Mnemonic::kNop;  // meaningless when entry is invalid
  uint8_t size_words = 1;              // 1..3 (1 for invalid)
  uint8_t operand_count = 0;
  Operand operands[4];            // in the table's operand order
  uint16_t words[3] = {0, 0, 0};  // the raw words given to decode()
  /// push/pop/popret only: RA is pushed/popped too (word0 bit 7 set, or the
  /// "RA only" form 0x011E/0x021E/0x031E, whose only operand is regr ra).
  bool with_ra = false;

  /// True when the encoding is assigned to a table entry.
  bool valid() const { return entry != kInvalidEntry; }
};

/// Decodes the instruction whose words are w0, w1, w2 (w1 and w2 may be
/// garbage when the instruction is shorter). Pure and thread-safe; the lookup
/// tables are built on first use.
Decoded decode(uint16_t w0, uint16_t w1, uint16_t w2);

/// Returns the winning entry index for the words (kInvalidEntry if none),
/// using the fast lookup. Only word0 and word1[15:12] matter.
uint16_t find_entry(uint16_t w0, uint16_t w1);

/// Reference implementation of find_entry: scans the table from the end and
/// returns the first (i.e. last in table order) entry that matches,
/// applying the same UND rule for the 3-word `b`. Slow; for tests.
uint16_t find_entry_reference(uint16_t w0, uint16_t w1);

/// Fills a Decoded for a known entry (no matching is done). Used by decode()
/// and by tests that build encodings per entry.
Decoded decode_entry(uint16_t entry, uint16_t w0, uint16_t w1, uint16_t w2);

}  // namespace cr16::isa
