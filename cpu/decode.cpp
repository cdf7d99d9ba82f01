// Fast CR16 decoder: a per-word0 lookup built once from the instruction table.
#include "cpu/decode.h"

#include <array>
#include <memory>
#include <vector>

namespace cr16::isa {
namespace {

/// Index of the 3-word `b` entry (word0 0x0010), found once.
uint16_t long_branch_entry() {
  static const uint16_t index = [] {
    const auto entries = table();
    for (uint16_t i = 0; i < entries.size(); ++i) {
      if (entries[i].mnemonic == Mnemonic::kB && entries[i].size_words == 3) return i;
    }
    return kInvalidEntry;
  }();
  return index;
}

/// The PRM requires ope = 0 in the 3-word branch; binutils does not check it.
uint16_t apply_und_rules(uint16_t entry, uint16_t w1) {
  if (entry != kInvalidEntry && entry == long_branch_entry() && (w1 >> 12) != 0) {
    return kInvalidEntry;
  }
  return entry;
}

/// Lookup structure: for every word0, either the winning entry directly (it
/// does not depend on word1) or, for the few word0 values where entries with
/// match_bits < 16 compete, a row of 16 winners keyed by word1[15:12].
/// (No entry has fewer than 12 match bits, so word1[11:0] never matters.)
class DecodeTable {
 public:
  DecodeTable() : primary_(std::make_unique<uint16_t[]>(65536)) {
    // Entries that can match a word0 with high byte B, most precedent first
    // (later table entries win), so one short scan per word0 finds the
    // winner; this keeps building the table cheap at start-up.
    struct Candidate {
      uint32_t mask, value;
      uint16_t index;
      bool uses_word1;
    };
    std::array<std::vector<Candidate>, 256> by_high_byte;
    const auto entries = table();
    for (size_t i = entries.size(); i-- > 0;) {
      const Entry& entry = entries[i];
      const Candidate candidate{entry.mask(), entry.value(), static_cast<uint16_t>(i),
                                entry.match_bits < 16};
      for (uint32_t high = 0; high < 256; ++high) {
        if (((high << 24) ^ candidate.value) & candidate.mask & 0xFF000000u) continue;
        by_high_byte[high].push_back(candidate);
      }
    }
    auto winner = [&](uint32_t w0, uint32_t w1) -> uint16_t {
      const uint32_t w = (w0 << 16) | w1;
      for (const Candidate& candidate : by_high_byte[w0 >> 8]) {
        if ((w & candidate.mask) == candidate.value) {
          return apply_und_rules(candidate.index, static_cast<uint16_t>(w1));
        }
      }
      return kInvalidEntry;
    };
    for (uint32_t w0 = 0; w0 < 65536; ++w0) {
      bool depends_on_word1 = false;
      for (const Candidate& candidate : by_high_byte[w0 >> 8]) {
        if (candidate.uses_word1 &&
            (((w0 << 16) ^ candidate.value) & candidate.mask & 0xFFFF0000u) == 0) {
          depends_on_word1 = true;
          break;
        }
      }
      if (!depends_on_word1) {
        primary_[w0] = winner(w0, 0);
        continue;
      }
      std::array<uint16_t, 16> row{};
      for (uint32_t ope = 0; ope < 16; ++ope) row[ope] = winner(w0, ope << 12);
      primary_[w0] = static_cast<uint16_t>(kSecondaryFlag | rows_.size());
      rows_.push_back(row);
    }
  }

  uint16_t lookup(uint16_t w0, uint16_t w1) const {
    const uint16_t slot = primary_[w0];
    if (slot == kInvalidEntry || (slot & kSecondaryFlag) == 0) return slot;
    return rows_[slot & ~kSecondaryFlag][w1 >> 12];
  }

 private:
  // Entry indices are < 336, so bit 14 is free to mark "see rows_".
  static constexpr uint16_t kSecondaryFlag = 0x4000;
  std::unique_ptr<uint16_t[]> primary_;
  std::vector<std::array<uint16_t, 16>> rows_;
};

const DecodeTable& decode_table() {
  static const DecodeTable instance;
  return instance;
}

int32_t sign_extend(uint32_t value, unsigned bits) {
  const uint32_t sign = 1u << (bits - 1);
  value &= (bits >= 32) ? ~0u : ((1u << bits) - 1);
  return static_cast<int32_t>((value ^ sign) - sign);
}

/// 24-bit value split as word1[3:0] = bits 23..20, word1[11:8] = bits 19..16,
/// word2 = bits 15..0 (abs24 and the 3-word disp24).
uint32_t split24(uint16_t w1, uint16_t w2) {
  return ((w1 & 0xFu) << 20) | (((w1 >> 8) & 0xFu) << 16) | w2;
}

/// 20-bit value with word1[11:8] = bits 19..16 and word2 = bits 15..0.
uint32_t split20(uint16_t w1, uint16_t w2) {
  return (((w1 >> 8) & 0xFu) << 16) | w2;
}

/// Maps the 3-bit rrp base field to a register-pair code.
uint8_t index_pair_code(uint32_t field) {
  static constexpr uint8_t kPairs[8] = {0, 2, 4, 6, 8, 10, 3, 5};
  return kPairs[field & 7];
}

/// Sign in bit 0: (field & ~1) - (field & 1) * 2^bits.
int32_t low_sign_displacement(uint32_t field, unsigned bits) {
  const int64_t magnitude = field & ((1u << bits) - 2);
  return static_cast<int32_t>(magnitude - static_cast<int64_t>(field & 1) * (int64_t{1} << bits));
}

Operand decode_operand(const Entry& entry, const OperandSpec& spec, uint16_t w0, uint16_t w1,
                       uint16_t w2) {
  const uint32_t w32 = (static_cast<uint32_t>(w0) << 16) | w1;
  const uint64_t w48 = (static_cast<uint64_t>(w0) << 32) | (static_cast<uint64_t>(w1) << 16) | w2;
  const unsigned bits = operand_bits(spec.type);
  const bool wide = entry.size_words == 3 && bits >= 16;
  auto field = [&](unsigned width) -> uint32_t {
    const uint64_t source = wide ? w48 : w32;
    const uint64_t mask = (width >= 32) ? 0xFFFFFFFFull : ((1ull << width) - 1);
    return static_cast<uint32_t>((source >> spec.shift) & mask);
  };

  Operand op;
  op.type = spec.type;
  switch (spec.type) {
    case OperandType::kNone:
      break;
    case OperandType::kImm3:
    case OperandType::kImm4:
    case OperandType::kImm5:
    case OperandType::kImm6:
    case OperandType::kImm16:
    case OperandType::kImm20:
    case OperandType::kImm32:
      op.value = sign_extend(field(bits), bits);
      break;
    case OperandType::kUimm3:
    case OperandType::kUimm4:
    case OperandType::kUimm5:
    case OperandType::kUimm16:
    case OperandType::kUimm20:
    case OperandType::kUimm32:
      op.value = static_cast<int32_t>(field(bits));
      break;
    case OperandType::kUimm3_1:
      op.value = static_cast<int32_t>(field(3)) + 1;
      break;
    case OperandType::kUimm4_1: {
      const uint32_t raw = field(4);
      op.value = raw == 9 ? -1 : static_cast<int32_t>(raw);
      break;
    }
    case OperandType::kCc:
      op.value = static_cast<int32_t>(field(4));
      break;
    case OperandType::kDispe9: {
      const uint32_t raw = (((w0 >> 8) & 0xFu) << 4) | (w0 & 0xFu);
      op.value = sign_extend(raw << 1, 9);
      break;
    }
    case OperandType::kDisps17:
      op.value = low_sign_displacement(w1, 16);
      break;
    case OperandType::kDisps25: {
      const uint32_t raw = entry.size_words == 3 ? split24(w1, w2) : (w32 & 0xFFFFFFu);
      op.value = low_sign_displacement(raw, 24);
      break;
    }
    case OperandType::kDisps5:
      // binutils' 5-bit field includes word0 bit 8, an opcode bit (set for
      // bne0b/bne0w); the displacement itself is word0[7:4].
      op.value = static_cast<int32_t>(2 * field(4) + 2);
      break;
    case OperandType::kAbs20: {
      const uint32_t raw = field(20);
      op.value = static_cast<int32_t>(raw > 0xEFFFFu ? (raw | 0xF00000u) : raw);
      break;
    }
    case OperandType::kAbs24:
      op.value = static_cast<int32_t>(split24(w1, w2));
      break;
    case OperandType::kRra:
      op.reg = 14;
      break;
    case OperandType::kRbase:
      op.reg = static_cast<uint8_t>(field(4));
      break;
    case OperandType::kRbaseDisps20:
    case OperandType::kRpbaseDisps20:
      op.reg = w1 & 0xF;
      op.value = static_cast<int32_t>(split20(w1, w2));
      break;
    case OperandType::kRbaseDispe20:
    case OperandType::kRpbaseDispe20:
      op.reg = w1 & 0xF;
      op.value = sign_extend(split20(w1, w2), 20);
      break;
    case OperandType::kRpbaseDisps0:
      op.reg = w0 & 0xF;
      break;
    case OperandType::kRpbaseDisps4:
      op.reg = w0 & 0xF;
      op.value = (w0 >> 8) & 0xF;
      break;
    case OperandType::kRpbaseDispe4:
      op.reg = w0 & 0xF;
      op.value = 2 * ((w0 >> 8) & 0xF);
      break;
    case OperandType::kRpbaseDisps16:
      op.reg = w0 & 0xF;
      op.value = w1;
      break;
    case OperandType::kRindex7Abs20:
      op.index = (w0 >> 7) & 1;
      op.value = static_cast<int32_t>(w32 & 0xFFFFFu);
      break;
    case OperandType::kRindex8Abs20:
      op.index = (w0 >> 8) & 1;
      op.value = static_cast<int32_t>(w32 & 0xFFFFFu);
      break;
    case OperandType::kRpindexDisps0:
      op.index = (w0 >> 3) & 1;
      op.reg = index_pair_code(w0);
      break;
    case OperandType::kRpindexDisps14:
      op.index = (w0 >> 3) & 1;
      op.reg = index_pair_code(w0);
      op.value = static_cast<int32_t>((w1 & 0xFu) | (((w0 >> 4) & 0x3u) << 4) |
                                      (((w1 >> 14) & 0x3u) << 6) | (((w1 >> 8) & 0x3Fu) << 8));
      break;
    case OperandType::kRpindexDisps20:
      op.index = (w1 >> 3) & 1;
      op.reg = index_pair_code(w1);
      op.value = static_cast<int32_t>(split20(w1, w2));
      break;
    case OperandType::kRegr:
      // The register-list "RA" slot sits at shift 0 in 1-word entries: it is
      // not a field, it always means ra.
      op.reg = (entry.size_words == 1 && spec.shift == 0) ? 14 : static_cast<uint8_t>(field(4));
      break;
    case OperandType::kRegp:
    case OperandType::kPregr:
    case OperandType::kPregrp:
      op.reg = static_cast<uint8_t>(field(4));
      break;
  }
  return op;
}

}  // namespace

uint16_t find_entry_reference(uint16_t w0, uint16_t w1) {
  const auto entries = table();
  const uint32_t w = (static_cast<uint32_t>(w0) << 16) | w1;
  for (size_t i = entries.size(); i-- > 0;) {
    if (entries[i].matches(w)) return apply_und_rules(static_cast<uint16_t>(i), w1);
  }
  return kInvalidEntry;
}

uint16_t find_entry(uint16_t w0, uint16_t w1) {
  return decode_table().lookup(w0, w1);
}

Decoded decode_entry(uint16_t entry_index, uint16_t w0, uint16_t w1, uint16_t w2) {
  Decoded decoded;
  decoded.words[0] = w0;
  decoded.words[1] = w1;
  decoded.words[2] = w2;
  const auto entries = table();
  if (entry_index >= entries.size()) return decoded;
  const Entry& entry = entries[entry_index];
  decoded.entry = entry_index;
  decoded.mnemonic = entry.mnemonic;
  decoded.size_words = entry.size_words;
  decoded.operand_count = entry.operand_count;
  for (unsigned i = 0; i < entry.operand_count; ++i) {
    decoded.operands[i] = decode_operand(entry, entry.operands[i], w0, w1, w2);
  }
  // The 2-word load/store rpindex_disps14 forms keep their data register in
  // word1[7:4] (binutils' table says word0[7:4]); see decode.h.
  if (entry.type() == flags::kLoadStore && entry.size_words == 2) {
    for (unsigned i = 0; i < entry.operand_count; ++i) {
      const OperandType type = entry.operands[i].type;
      if (type != OperandType::kRpindexDisps14) continue;
      for (unsigned j = 0; j < entry.operand_count; ++j) {
        const OperandType other = entry.operands[j].type;
        if (other == OperandType::kRegr || other == OperandType::kRegp) {
          decoded.operands[j].reg = (w1 >> 4) & 0xF;
        }
      }
    }
  }
  if ((entry.flags & flags::kRegList) != 0 && entry.mnemonic != Mnemonic::kLoadm &&
      entry.mnemonic != Mnemonic::kLoadmp && entry.mnemonic != Mnemonic::kStorm &&
      entry.mnemonic != Mnemonic::kStormp) {
    decoded.with_ra = entry.operand_count == 1 || (w0 & 0x0080) != 0;
  }
  return decoded;
}

Decoded decode(uint16_t w0, uint16_t w1, uint16_t w2) {
  return decode_entry(find_entry(w0, w1), w0, w1, w2);
}

}  // namespace cr16::isa
