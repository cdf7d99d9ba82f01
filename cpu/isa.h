// The CR16C/C+ instruction set as data: one table entry per encoding.
//
// The table carries the facts of binutils' `cr16_instruction[]` (same order,
// same match values, match widths, operand types and operand positions), so
// that decoding with "the last matching entry wins" gives exactly the
// instruction objdump and the GNU simulator see. The table feeds the decoder
// (decode.h), the disassembler (disas.h), the random instruction generator
// (isa_random.h) and the tests. See cpu/README.md for the precedence rule.
#pragma once

#include <cstdint>
#include <span>

namespace cr16::isa {

/// One value per distinct mnemonic of the table (119), in order of first
/// appearance. `b` covers all conditional branches (the condition is an
/// operand); the cinv variants are separate mnemonics, as in binutils.
enum class Mnemonic : uint8_t {
  kAndb,
  kAndw,
  kOrb,
  kOrw,
  kXorb,
  kXorw,
  kAddub,
  kAdduw,
  kAddb,
  kAddw,
  kAddcb,
  kAddcw,
  kSubb,
  kSubw,
  kSubcb,
  kSubcw,
  kCmpb,
  kCmpw,
  kMovb,
  kMovw,
  kMulb,
  kMulw,
  kMovxb,
  kMovzb,
  kMulsb,
  kMovxw,
  kMovzw,
  kMulsw,
  kMuluw,
  kMovd,
  kAddd,
  kSubd,
  kCmpd,
  kAndd,
  kOrd,
  kXord,
  kAshub,
  kAshud,
  kAshuw,
  kLshb,
  kLshd,
  kLshw,
  kB,
  kBeq0b,
  kBne0b,
  kBeq0w,
  kBne0w,
  kJeq,
  kJne,
  kJcs,
  kJcc,
  kJhi,
  kJls,
  kJgt,
  kJle,
  kJfs,
  kJfc,
  kJlo,
  kJhs,
  kJlt,
  kJge,
  kJump,
  kJusr,
  kSeq,
  kSne,
  kScs,
  kScc,
  kShi,
  kSls,
  kSgt,
  kSle,
  kSfs,
  kSfc,
  kSlo,
  kShs,
  kSlt,
  kSge,
  kMacqw,
  kMacuw,
  kMacsw,
  kBal,
  kJal,
  kPush,
  kPop,
  kPopret,
  kLoadm,
  kLoadmp,
  kStorm,
  kStormp,
  kLpr,
  kLprd,
  kSpr,
  kSprd,
  kExcp,
  kCbitb,
  kSbitb,
  kTbitb,
  kCbitw,
  kSbitw,
  kTbitw,
  kTbit,
  kLoadb,
  kLoadd,
  kLoadw,
  kStorb,
  kStord,
  kStorw,
  kCinvI,
  kCinvIU,
  kCinvD,
  kCinvDU,
  kCinvDI,
  kCinvDIU,
  kNop,
  kRetx,
  kDi,
  kEi,
  kWait,
  kEiwait,
};

/// Number of distinct mnemonics.
inline constexpr unsigned kMnemonicCount = 119;

/// The table name of a mnemonic, e.g. "andb", "cinv[d,i]".
const char* mnemonic_name(Mnemonic mnemonic);

/// Operand types, one per binutils operand type. The number in the name is
/// the field width in bits (disps17/disps25/dispe9 are the byte range of a
/// branch displacement; the stored field is one bit narrower or split).
enum class OperandType : uint8_t {
  kNone,
  // Signed immediates.
  kImm3,
  kImm4,
  kImm5,
  kImm6,
  kImm16,
  kImm20,
  kImm32,
  // Unsigned immediates. _1 variants: uimm3_1 stores count-1, uimm4_1 is the
  // ALU imm4 where 9 means -1 (and 0xB escapes to the imm16 form).
  kUimm3,
  kUimm3_1,
  kUimm4,
  kUimm4_1,
  kUimm5,
  kUimm16,
  kUimm20,
  kUimm32,
  // Branch displacements and beq0/bne0 offsets.
  kDisps5,
  kDisps17,
  kDisps25,
  kDispe9,
  // Absolute addresses.
  kAbs20,
  kAbs24,
  // Register relative.
  kRra,
  kRbase,
  kRbaseDisps20,
  kRbaseDispe20,
  // Register pair relative.
  kRpbaseDisps0,
  kRpbaseDispe4,
  kRpbaseDisps4,
  kRpbaseDisps16,
  kRpbaseDisps20,
  kRpbaseDispe20,
  // Index register (r12/r13) plus abs20.
  kRindex7Abs20,
  kRindex8Abs20,
  // Index register (r12/r13) plus a register pair base plus displacement.
  kRpindexDisps0,
  kRpindexDisps14,
  kRpindexDisps20,
  // Registers, processor registers and condition codes.
  kRegr,
  kRegp,
  kPregr,
  kPregrp,
  kCc,
};

/// True for the immediate operand types, signed and unsigned (kImm3 through
/// kUimm32, which the enum keeps contiguous).
constexpr bool is_immediate(OperandType type) {
  return type >= OperandType::kImm3 && type <= OperandType::kUimm32;
}

/// Bit width of an operand type's field as binutils counts it (0 for
/// kNone, kRpbaseDisps0, kRpindexDisps0; 21 for the dispe20 forms).
unsigned operand_bits(OperandType type);

/// Printable name of an operand type, e.g. "rpbase_disps16".
const char* operand_type_name(OperandType type);

/// Instruction classes and attribute bits of Entry::flags (binutils values).
namespace flags {
inline constexpr uint32_t kTypeMask = 0xF;
inline constexpr uint32_t kNoType = 0;
inline constexpr uint32_t kArith = 1;          // d-size ALU operations
inline constexpr uint32_t kLoadStore = 2;      // load/store, also store-immediate
inline constexpr uint32_t kBranch = 3;         // b<cond>
inline constexpr uint32_t kArithByte = 4;      // b/w-size ALU operations and moves
inline constexpr uint32_t kShift = 5;          // ashu/lsh
inline constexpr uint32_t kBranchNeq = 6;      // beq0/bne0
inline constexpr uint32_t kBitOp = 9;          // cbit/sbit/tbit
inline constexpr uint32_t kRegList = 1u << 4;  // push/pop/popret/loadm/storm family
inline constexpr uint32_t kRelaxable = 1u << 14;
}  // namespace flags

/// What an instruction does beyond its encoding (Entry::traits): facts the
/// execution engines, the debugger and the tests read from the table instead
/// of switching on mnemonics. tests/unit/cpu/isa_traits_test.cpp checks every
/// entry's traits against what its handler does.
namespace trait {
/// Nothing may follow it in a predecoded block: a control transfer, or an
/// instruction that changes PSR, CFG or the run state (di, ei, wait, lpr).
inline constexpr uint16_t kEndsBlock = 1u << 0;
/// Raises UND in user mode (PSR.U = 1).
inline constexpr uint16_t kPrivileged = 1u << 1;
/// Reads data memory.
inline constexpr uint16_t kLoad = 1u << 2;
/// Writes data memory.
inline constexpr uint16_t kStore = 1u << 3;
/// Its data accesses are stack accesses: through SP (push, pop, popret) or
/// ISP (retx).
inline constexpr uint16_t kStack = 1u << 4;
/// Bits 5-7: the widest single data access in bytes (1, 2 or 4); 0 when the
/// instruction has no data access. Multi-register instructions repeat it.
inline constexpr unsigned kWidthShift = 5;
inline constexpr uint16_t kWidthMask = 7u << kWidthShift;
inline constexpr uint16_t kByte = 1u << kWidthShift;
inline constexpr uint16_t kWord = 2u << kWidthShift;
inline constexpr uint16_t kDword = 4u << kWidthShift;
}  // namespace trait

/// The kind of data access an instruction makes (from Entry::traits).
enum class MemoryAccess : uint8_t { kNone, kLoad, kStore, kLoadStore };

/// One operand slot of an entry: its type and the position of the field's
/// least significant bit in W = (word0 << 16) | word1 (for 3-word
/// instructions, fields of 16 bits or more are placed in the 48-bit value
/// (word0 << 32) | (word1 << 16) | word2 instead).
struct OperandSpec {
  OperandType type;
  uint8_t shift;
};

/// One line of the instruction table = one encoding.
struct Entry {
  Mnemonic mnemonic;
  uint8_t size_words;     // 1..3
  uint32_t match;         // the fixed opcode bits, right-aligned
  uint8_t match_bits;     // number of low bits of W not covered by `match`
  uint32_t flags;         // flags::k* (type in the low 4 bits)
  uint16_t traits;        // trait::k*: what the instruction does
  uint8_t operand_count;  // 0..3
  OperandSpec operands[4];

  /// Mask over W = (word0 << 16) | word1 of the bits `match` fixes. The
  /// 2-word `b` (cond inside the opcode byte) uses 0xFF0F0000.
  uint32_t mask() const;
  /// `match` placed over W.
  uint32_t value() const { return match << match_bits; }
  /// True when the 32-bit W satisfies this entry's fixed bits.
  bool matches(uint32_t w) const { return (w & mask()) == value(); }
  /// Instruction class (flags & kTypeMask).
  uint32_t type() const { return flags & flags::kTypeMask; }

  /// Nothing may follow this instruction in a predecoded block.
  constexpr bool ends_block() const { return (traits & trait::kEndsBlock) != 0; }
  /// Raises UND in user mode.
  constexpr bool privileged() const { return (traits & trait::kPrivileged) != 0; }
  /// Loads, stores, both (read-modify-write, or several accesses) or neither.
  constexpr MemoryAccess memory_access() const {
    const bool load = (traits & trait::kLoad) != 0;
    const bool store = (traits & trait::kStore) != 0;
    return load ? (store ? MemoryAccess::kLoadStore : MemoryAccess::kLoad)
                : (store ? MemoryAccess::kStore : MemoryAccess::kNone);
  }
  /// The data accesses go through the stack pointer (SP or ISP).
  constexpr bool stack_access() const { return (traits & trait::kStack) != 0; }
  /// Widest single data access in bytes: 1, 2, 4, or 0 without data access.
  constexpr unsigned access_bytes() const {
    return (traits & trait::kWidthMask) >> trait::kWidthShift;
  }
};

/// The instruction table: exactly 336 entries in binutils order.
std::span<const Entry> table();

/// Number of table entries.
inline constexpr unsigned kEntryCount = 336;

}  // namespace cr16::isa
