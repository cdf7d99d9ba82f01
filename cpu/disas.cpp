// objdump-exact CR16 disassembly. Operand fields are re-extracted from the
// raw words the way objdump reads them (which differs from the architectural
// values in decode.h for a few forms), then printed with objdump's notation.
#include "cpu/disas.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace cr16 {
namespace {

using isa::Entry;
using isa::Mnemonic;
using isa::OperandSpec;
using isa::OperandType;
namespace flags = isa::flags;

/// How objdump groups operand types for extraction and printing.
enum class ArgKind {
  kReg,
  kRegPair,
  kProcReg,
  kProcRegPair,
  kCondition,
  kImmediate,
  kConstant,
  kIndexAbs,
  kIndexPair,
  kRegBase,
  kRegDisp,
  kPairDisp,
  kNone
};

ArgKind arg_kind(OperandType type) {
  if (isa::is_immediate(type)) return ArgKind::kImmediate;
  switch (type) {
    case OperandType::kDisps5:
    case OperandType::kDisps17:
    case OperandType::kDisps25:
    case OperandType::kDispe9:
    case OperandType::kAbs20:
    case OperandType::kAbs24:
      return ArgKind::kConstant;
    case OperandType::kRra:
    case OperandType::kRegp:
      return ArgKind::kRegPair;
    case OperandType::kRbase:
      return ArgKind::kRegBase;
    case OperandType::kRbaseDisps20:
    case OperandType::kRbaseDispe20:
      return ArgKind::kRegDisp;
    case OperandType::kRpbaseDisps0:
    case OperandType::kRpbaseDispe4:
    case OperandType::kRpbaseDisps4:
    case OperandType::kRpbaseDisps16:
    case OperandType::kRpbaseDisps20:
    case OperandType::kRpbaseDispe20:
      return ArgKind::kPairDisp;
    case OperandType::kRindex7Abs20:
    case OperandType::kRindex8Abs20:
      return ArgKind::kIndexAbs;
    case OperandType::kRpindexDisps0:
    case OperandType::kRpindexDisps14:
    case OperandType::kRpindexDisps20:
      return ArgKind::kIndexPair;
    case OperandType::kRegr:
      return ArgKind::kReg;
    case OperandType::kPregr:
      return ArgKind::kProcReg;
    case OperandType::kPregrp:
      return ArgKind::kProcRegPair;
    case OperandType::kCc:
      return ArgKind::kCondition;
    default:  // kNone; the immediates are handled above
      break;
  }
  return ArgKind::kNone;
}

/// One operand as objdump sees it.
struct RawArg {
  ArgKind kind = ArgKind::kReg;  // a zeroed objdump argument is "r0"
  unsigned bits = 0;
  uint32_t reg = 0;
  uint32_t index = 0;
  uint64_t constant = 0;
};

const char* register_name(uint32_t code) {
  static constexpr const char* kNames[16] = {"r0", "r1", "r2",  "r3",  "r4",  "r5",  "r6",  "r7",
                                             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
  return kNames[code & 15];
}

const char* pair_name(uint32_t code) {
  static constexpr const char* kNames[16] = {
      "(r1,r0)", "(r2,r1)",  "(r3,r2)",   "(r4,r3)",   "(r5,r4)", "(r6,r5)", "(r7,r6)", "(r8,r7)",
      "(r9,r8)", "(r10,r9)", "(r11,r10)", "(r12,r11)", "(r12)",   "(r13)",   "(ra)",    "(sp)"};
  return kNames[code & 15];
}

const char* index_pair_name(uint32_t code) {
  static constexpr uint32_t kPairs[8] = {0, 2, 4, 6, 8, 10, 3, 5};
  return pair_name(kPairs[code & 7]);
}

const char* processor_register_name(uint32_t code) {
  static constexpr const char* kNames[16] = {
      "dbs", "dsr", "dcrl",     "dcrh",     "car0l", "car0h", "car1l", "car1h",
      "cfg", "psr", "intbasel", "intbaseh", "ispl",  "isph",  "uspl",  "usph"};
  return kNames[code & 15];
}

const char* processor_register_pair_name(uint32_t code) {
  switch (code) {
    case 0:
      return "dbs";
    case 1:
      return "dsr";
    case 2:
      return "dcr";
    case 4:
      return "car0";
    case 6:
      return "car1";
    case 8:
      return "cfg";
    case 9:
      return "psr";
    case 10:
      return "intbase";
    case 12:
      return "isp";
    case 14:
      return "usp";
    default:
      return "ILLEGAL REGISTER";
  }
}

const char* condition_name(uint32_t code) {
  static constexpr const char* kNames[16] = {"eq", "ne", "cs", "cc", "hi", "ls", "gt", "le",
                                             "fs", "fc", "lo", "hs", "lt", "ge", "r",  "???"};
  return kNames[code & 15];
}

const char* trap_name(uint64_t code) {
  switch (code) {
    case 5:
      return "svc";
    case 6:
      return "dvz";
    case 7:
      return "flg";
    case 8:
      return "bpt";
    case 9:
      return "trc";
    case 10:
      return "und";
    case 12:
      return "iad";
    case 14:
      return "dbg";
    case 15:
      return "ise";
    default:
      return "illegal";
  }
}

/// objdump's size suffix for constants printed with the instruction length.
const char* length_suffix(unsigned size_words) {
  switch (size_words) {
    case 1:
      return ":s";
    case 2:
      return ":m";
    case 3:
      return ":l";
    default:
      return "";
  }
}

const char* immediate_suffix(unsigned bits) {
  switch (bits) {
    case 4:
    case 5:
    case 6:
    case 8:
      return ":s";
    case 16:
    case 20:
      return ":m";
    case 24:
    case 32:
      return ":l";
    default:
      return "";
  }
}

bool is_word_sized_load_store(Mnemonic m) {
  return m == Mnemonic::kLoadw || m == Mnemonic::kLoadd || m == Mnemonic::kStorw ||
         m == Mnemonic::kStord;
}

/// Bits [offset, offset + width) of `value`.
uint64_t bits_of(uint64_t value, unsigned offset, unsigned width) {
  return (value >> offset) & ((width >= 64) ? ~0ull : ((1ull << width) - 1));
}

/// 20/24-bit constants of 3-word forms: word1[11:8] -> bits 19..16, word2 low.
uint64_t gather20(uint64_t low28) {
  return (low28 & 0xFFFF) | ((low28 >> 8) & 0xF0000);
}

RawArg extract(const Entry& entry, const OperandSpec& spec, uint64_t w48) {
  RawArg arg;
  arg.kind = arg_kind(spec.type);
  arg.bits = isa::operand_bits(spec.type);
  const unsigned shift = spec.shift;
  const unsigned size = entry.size_words;
  const bool wide = size == 3 && arg.bits >= 16;
  // Field at `shift` of W (32-bit) or of the 48-bit value for wide operands.
  const unsigned base = wide ? 0 : 16;
  auto field = [&](unsigned width) { return bits_of(w48, base + shift, width); };
  const uint32_t type = entry.type();

  switch (arg.kind) {
    case ArgKind::kReg:
    case ArgKind::kRegPair:
    case ArgKind::kProcReg:
    case ArgKind::kProcRegPair:
    case ArgKind::kCondition:
      arg.reg = static_cast<uint32_t>(field(arg.bits));
      break;
    case ArgKind::kImmediate:
      arg.constant = field(arg.bits);
      break;
    case ArgKind::kIndexAbs: {
      const bool byte_bit_op = type == flags::kBitOp &&
                               std::strlen(isa::mnemonic_name(entry.mnemonic)) > 4 &&
                               isa::mnemonic_name(entry.mnemonic)[4] == 'b';
      arg.index = static_cast<uint32_t>(bits_of(w48, byte_bit_op ? 39 : 38, 1));
      arg.constant = bits_of(w48, base, arg.bits);
      break;
    }
    case ArgKind::kIndexPair:
      arg.index = static_cast<uint32_t>(bits_of(w48, 35 - shift, 1));
      arg.reg = static_cast<uint32_t>(bits_of(w48, 32 - shift, 3));
      if (wide) {
        arg.constant = gather20(bits_of(w48, 0, shift + 12));
      } else if (size == 2) {
        const uint64_t p = bits_of(w48, 16, 22);
        arg.constant = (p & 0xF) | (((p >> 20) & 0x3) << 4) | (((p >> 14) & 0x3) << 6) |
                       (((p >> 7) & 0x1F) << 7);
      }
      break;
    case ArgKind::kRegBase:
      arg.reg = static_cast<uint32_t>(bits_of(w48, 48 - (wide ? 48 : 32) + shift, 4));
      break;
    case ArgKind::kRegDisp:
      arg.reg = static_cast<uint32_t>(bits_of(w48, 32 - shift, 4));
      arg.constant = gather20(bits_of(w48, wide ? 0 : 16, 28));
      break;
    case ArgKind::kPairDisp:
      arg.reg =
          static_cast<uint32_t>(size == 1 ? bits_of(w48, 32, 4) : bits_of(w48, 32 - shift, 4));
      if (wide) {
        arg.constant = gather20(bits_of(w48, 0, shift + 12));
      } else if (size == 2) {
        arg.constant = bits_of(w48, 16, 16);
      } else if (arg.bits != 0) {
        const uint64_t disp = bits_of(w48, 40, 4);
        arg.constant = is_word_sized_load_store(entry.mnemonic) ? disp * 2 : disp;
      }
      break;
    case ArgKind::kConstant: {
      const bool special = type == flags::kBranch || entry.mnemonic == Mnemonic::kBal ||
                           type == flags::kBitOp || type == flags::kLoadStore;
      if (special && arg.bits == 8) {
        const uint64_t p = bits_of(w48, 48 - shift, shift);
        arg.constant = ((p & 0xF00) >> 4) | (p & 0xF);
      } else if (special && arg.bits == 24 && size == 3) {
        const uint64_t p = bits_of(w48, 0, 32);
        arg.constant = (((p >> 16) & 0xF) << 20) | (((p >> 24) & 0xF) << 16) | (p & 0xFFFF);
      } else if (special && arg.bits == 24 && size == 2) {
        arg.constant = bits_of(w48, 16, 24);
      } else if (special && arg.bits == 24) {
        arg.constant = 0;
      } else {
        arg.constant = field(arg.bits);
      }
      break;
    }
    case ArgKind::kNone:
      break;
  }
  return arg;
}

void append_hex(std::string& out, uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, value);
  out += buffer;
}

void print_arg(std::string& out, const Entry& entry, const RawArg& arg, uint32_t address) {
  const uint32_t type = entry.type();
  char buffer[48];
  switch (arg.kind) {
    case ArgKind::kReg:
      out += register_name(arg.reg);
      break;
    case ArgKind::kRegPair:
      out += pair_name(arg.reg);
      break;
    case ArgKind::kProcReg:
      out += processor_register_name(arg.reg);
      break;
    case ArgKind::kProcRegPair:
      out += processor_register_pair_name(arg.reg);
      break;
    case ArgKind::kCondition:
      out += condition_name(arg.reg);
      out += '\t';
      break;
    case ArgKind::kImmediate:
      if (entry.mnemonic == Mnemonic::kExcp) {
        out += trap_name(arg.constant);
        break;
      }
      if ((type == flags::kArith || type == flags::kArithByte) && entry.size_words == 1 &&
          arg.constant == 9) {
        out += "$-1";
      } else if ((entry.flags & flags::kRegList) != 0) {
        out += '$';
        append_hex(out, arg.constant + 1);
      } else if (type == flags::kShift) {
        int64_t value = static_cast<int64_t>(arg.constant);
        if (arg.constant & (1ull << (arg.bits - 1))) value -= int64_t{1} << arg.bits;
        std::snprintf(buffer, sizeof buffer, "$%" PRId64, value);
        out += buffer;
      } else {
        out += '$';
        append_hex(out, arg.constant);
      }
      out += immediate_suffix(arg.bits);
      break;
    case ArgKind::kIndexAbs:
      out += arg.index ? "[r13]" : "[r12]";
      append_hex(out, arg.constant);
      out += length_suffix(entry.size_words);
      break;
    case ArgKind::kIndexPair:
      out += arg.index ? "[r13]" : "[r12]";
      append_hex(out, arg.constant);
      out += length_suffix(entry.size_words);
      out += index_pair_name(arg.reg);
      break;
    case ArgKind::kRegBase:
      out += '(';
      out += register_name(arg.reg);
      out += ')';
      break;
    case ArgKind::kRegDisp:
      append_hex(out, arg.constant);
      out += length_suffix(entry.size_words);
      out += '(';
      out += register_name(arg.reg);
      out += ')';
      break;
    case ArgKind::kPairDisp:
      append_hex(out, arg.constant);
      out += length_suffix(entry.size_words);
      out += pair_name(arg.reg);
      break;
    case ArgKind::kConstant: {
      uint64_t constant = arg.constant;
      bool negative = false;
      bool relative = false;
      if (type == flags::kBranch || entry.mnemonic == Mnemonic::kBal) {
        relative = true;
        uint64_t displacement = constant;
        const uint64_t mask = (1ull << arg.bits) - 1;
        if (arg.bits == 8) {
          displacement <<= 1;
          if (displacement & (1ull << arg.bits)) {
            negative = true;
            displacement = ~displacement + 1;
          }
        } else if (displacement & 1) {
          negative = true;
          displacement = ~displacement + 1;
        }
        constant = displacement & mask;
      } else if (type == flags::kBranchNeq) {
        constant = 2 * constant + 2;
      }
      if (type != flags::kBitOp && type != flags::kLoadStore) out += negative ? "*-" : "*+";
      const uint64_t target =
          (relative ? address : 0) + (negative ? ((0 - constant) & 0xFFFFFFEull) : constant);
      append_hex(out, target & 0xFFFFFF);
      out += length_suffix(entry.size_words);
      break;
    }
    case ArgKind::kNone:
      break;
  }
}

const char* cinv_text(Mnemonic m) {
  switch (m) {
    case Mnemonic::kCinvI:
      return "cinv    [i]";
    case Mnemonic::kCinvIU:
      return "cinv    [i,u]";
    case Mnemonic::kCinvD:
      return "cinv    [d]";
    case Mnemonic::kCinvDU:
      return "cinv    [d,u]";
    case Mnemonic::kCinvDI:
      return "cinv    [d,i]";
    case Mnemonic::kCinvDIU:
      return "cinv    [d,i,u]";
    default:
      return nullptr;
  }
}

/// The entry objdump prints for the words: the decoder's, except that the
/// 3-word branch with a non-zero ope (UND for the CPU) is shown as objdump
/// shows it.
uint16_t display_entry(const isa::Decoded& decoded) {
  if (decoded.valid()) return decoded.entry;
  const auto entries = isa::table();
  const uint32_t w = (static_cast<uint32_t>(decoded.words[0]) << 16) | decoded.words[1];
  for (size_t i = entries.size(); i-- > 0;) {
    if (entries[i].matches(w)) {
      return (entries[i].mnemonic == Mnemonic::kB && entries[i].size_words == 3)
                 ? static_cast<uint16_t>(i)
                 : isa::kInvalidEntry;
    }
  }
  return isa::kInvalidEntry;
}

}  // namespace

std::string disassemble(const isa::Decoded& decoded, uint32_t address) {
  const uint16_t index = display_entry(decoded);
  if (index == isa::kInvalidEntry) return "illegal ";
  const Entry& entry = isa::table()[index];
  const uint64_t w48 = (static_cast<uint64_t>(decoded.words[0]) << 32) |
                       (static_cast<uint64_t>(decoded.words[1]) << 16) | decoded.words[2];

  std::string out;
  const bool is_branch = entry.mnemonic == Mnemonic::kB;
  if (const char* cinv = cinv_text(entry.mnemonic)) {
    out += cinv;
  } else {
    out += isa::mnemonic_name(entry.mnemonic);
  }
  unsigned count = entry.operand_count;
  if (count != 0 && !is_branch) out += '\t';

  const bool register_list = (entry.flags & flags::kRegList) != 0;
  if (register_list && (decoded.words[0] & 0x80) != 0) ++count;

  const bool push_pop = entry.mnemonic == Mnemonic::kPush || entry.mnemonic == Mnemonic::kPop ||
                        entry.mnemonic == Mnemonic::kPopret;
  if (push_pop && count == 1) return out + "RA";

  for (unsigned i = 0; i < count; ++i) {
    if (entry.mnemonic == Mnemonic::kBal && i == 0 && entry.size_words == 2) {
      out += "(ra),";
      continue;
    }
    if (register_list && i == 2) {
      out += "RA";
    } else if (i < entry.operand_count) {
      print_arg(out, entry, extract(entry, entry.operands[i], w48), address);
    } else {
      print_arg(out, entry, RawArg{}, address);
    }
    if (i != count - 1 && !is_branch) out += ',';
  }
  return out;
}

Disassembly disassemble_bytes(std::span<const uint8_t> bytes, uint32_t address) {
  uint16_t words[3] = {0, 0, 0};
  for (size_t i = 0; i < 3; ++i) {
    const size_t at = 2 * i;
    if (at + 1 < bytes.size()) {
      words[i] = static_cast<uint16_t>(bytes[at] | (bytes[at + 1] << 8));
    }
  }
  const isa::Decoded decoded = isa::decode(words[0], words[1], words[2]);
  Disassembly result;
  result.text = disassemble(decoded, address);
  const uint16_t index = display_entry(decoded);
  result.size_bytes = index == isa::kInvalidEntry ? 2u : 2u * isa::table()[index].size_words;
  return result;
}

}  // namespace cr16
