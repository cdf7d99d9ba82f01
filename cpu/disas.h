// CR16 disassembler producing exactly the text of `cr16-elf-objdump -d`.
//
// The text is what objdump prints after the address and byte columns for a
// file without symbols: mnemonic, a tab, then the operands, e.g.
// "addw\t$0x1:s,r0", "beq\t*+0x22:s", "loadw\t0x4:m(r1,r0),r2".
// objdump's own quirks are reproduced on purpose so that our output can be
// diffed against it; the most visible ones:
//  - branch targets are printed as absolute addresses (address + offset,
//    masked to 24 bits) after "*+" or "*-" (the sign of the offset);
//    beq0/bne0 print their offset, not the target;
//  - abs20 operands are printed as encoded (no 0xF00000 remap);
//  - the index register of rindex8 forms is read from word0 bit 6 and the
//    disp14 of rpindex forms with objdump's bit gathering;
//  - loadm/loadmp/storm/stormp print a second operand that objdump takes from
//    the previous instruction; we print "r0" (what objdump shows when that
//    slot was a zeroed register operand, as in binutils' own tests);
//  - an undefined encoding prints "illegal " (2 bytes), and the 3-word `b`
//    with a non-zero ope nibble, which the CPU treats as undefined, is still
//    printed as the branch objdump shows.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "cpu/decode.h"

namespace cr16 {

/// objdump-identical text of one decoded instruction located at `address`
/// (used for branch targets). Pure function.
std::string disassemble(const isa::Decoded& decoded, uint32_t address);

/// Result of disassembling from bytes.
struct Disassembly {
  std::string text;     // as disassemble()
  uint32_t size_bytes;  // 2, 4 or 6 (2 for "illegal ")
};

/// Decodes and disassembles the instruction at the start of `bytes`
/// (little-endian words; missing bytes read as zero, like objdump past the
/// end of a section).
Disassembly disassemble_bytes(std::span<const uint8_t> bytes, uint32_t address);

}  // namespace cr16
