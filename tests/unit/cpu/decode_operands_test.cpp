// Per-entry operand round trip: for every table entry, place sample operand
// values into the instruction words with an independent encoder written from
// the field layouts (cr16-isa-notes section 2, binutils' assembler), decode,
// and check the decoder returns the entry and exactly those operand values.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cpu/decode.h"
#include "cpu/isa_random.h"

namespace cr16::isa {
namespace {

constexpr uint8_t kIndexPairCodes[8] = {0, 2, 4, 6, 8, 10, 3, 5};

/// Instruction image under construction: the 48-bit value
/// (word0 << 32) | (word1 << 16) | word2.
struct Image {
  uint64_t bits = 0;
  void put(unsigned offset, unsigned width, uint64_t value) {
    const uint64_t mask = ((width >= 64) ? ~0ull : ((1ull << width) - 1)) << offset;
    bits = (bits & ~mask) | ((value << offset) & mask);
  }
  uint16_t word(unsigned i) const { return static_cast<uint16_t>(bits >> (32 - 16 * i)); }
};

/// Offset in the 48-bit image of a field at `shift` in W (or in the 48-bit
/// value for wide fields of 3-word instructions).
unsigned image_offset(const Entry& entry, unsigned shift, unsigned bits) {
  return (entry.size_words == 3 && bits >= 16) ? shift : shift + 16;
}

void put_split20(Image& image, uint32_t value) {  // word1[11:8] = 19..16, word2 = low
  image.put(24, 4, value >> 16);
  image.put(0, 16, value);
}

void put_split24(Image& image, uint32_t value) {  // word1[3:0] = 23..20 too
  put_split20(image, value & 0xFFFFF);
  image.put(16, 4, value >> 20);
}

/// Chooses a sample for `spec`, writes it into `image` and returns the
/// Operand the decoder must produce.
Operand encode(const Entry& entry, const OperandSpec& spec, std::mt19937_64& rng, Image& image) {
  Operand expected;
  expected.type = spec.type;
  const unsigned bits = operand_bits(spec.type);
  const unsigned at = image_offset(entry, spec.shift, bits);
  const uint64_t r = rng();
  auto sext = [](uint64_t v, unsigned n) {
    return static_cast<int32_t>(static_cast<int64_t>(v << (64 - n)) >> (64 - n));
  };
  switch (spec.type) {
    case OperandType::kImm3:
    case OperandType::kImm4:
    case OperandType::kImm5:
    case OperandType::kImm6:
    case OperandType::kImm16:
    case OperandType::kImm20:
    case OperandType::kImm32: {
      const uint64_t field = r & ((1ull << bits) - 1);
      image.put(at, bits, field);
      expected.value = sext(field, bits);
      break;
    }
    case OperandType::kUimm3:
    case OperandType::kUimm4:
    case OperandType::kUimm5:
    case OperandType::kUimm16:
    case OperandType::kUimm20:
    case OperandType::kUimm32: {
      const uint64_t field = r & ((1ull << bits) - 1);
      image.put(at, bits, field);
      expected.value = static_cast<int32_t>(field);
      break;
    }
    case OperandType::kUimm3_1:
      expected.value = static_cast<int32_t>(r % 8) + 1;  // 1..8 registers
      image.put(at, 3, expected.value - 1);
      break;
    case OperandType::kUimm4_1: {
      static constexpr int32_t kValues[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15};
      expected.value = kValues[r % 15];
      image.put(at, 4, expected.value == -1 ? 9 : expected.value);
      break;
    }
    case OperandType::kCc:
      expected.value = static_cast<int32_t>(r % 16);
      image.put(at, 4, expected.value);
      break;
    case OperandType::kDispe9: {
      expected.value = static_cast<int32_t>(r % 256) * 2 - 256;  // even, -256..254
      const uint32_t raw = (static_cast<uint32_t>(expected.value) >> 1) & 0xFF;
      image.put(40, 4, raw >> 4);
      image.put(32, 4, raw & 0xF);
      break;
    }
    case OperandType::kDisps17: {
      expected.value = static_cast<int32_t>(r % 65536) * 2 - 65536;  // -65536..65534
      image.put(16, 16, (static_cast<uint32_t>(expected.value) & 0xFFFE) | (expected.value < 0));
      break;
    }
    case OperandType::kDisps25: {
      expected.value = static_cast<int32_t>(r % 0x1000000) * 2 - 0x1000000;
      const uint32_t field =
          (static_cast<uint32_t>(expected.value) & 0xFFFFFE) | (expected.value < 0);
      if (entry.size_words == 3) {
        put_split24(image, field);
      } else {
        image.put(16, 24, field);  // bal (ra): word0[7:0] = bits 23..16
      }
      break;
    }
    case OperandType::kDisps5:
      expected.value = static_cast<int32_t>(r % 16) * 2 + 2;  // 2..32
      image.put(at, 4, (expected.value - 2) / 2);
      break;
    case OperandType::kAbs20: {
      const uint32_t raw = r & 0xFFFFF;
      image.put(16, 20, raw);
      expected.value = static_cast<int32_t>(raw > 0xEFFFF ? (raw | 0xF00000) : raw);
      break;
    }
    case OperandType::kAbs24:
      expected.value = static_cast<int32_t>(r & 0xFFFFFF);
      put_split24(image, expected.value);
      break;
    case OperandType::kRra:
      expected.reg = 14;
      break;
    case OperandType::kRbase:
      expected.reg = r % 16;
      image.put(at, 4, expected.reg);
      break;
    case OperandType::kRbaseDisps20:
    case OperandType::kRpbaseDisps20:
    case OperandType::kRbaseDispe20:
    case OperandType::kRpbaseDispe20: {
      const bool negative_form =
          spec.type == OperandType::kRbaseDispe20 || spec.type == OperandType::kRpbaseDispe20;
      expected.reg = r % 16;
      image.put(16, 4, expected.reg);
      const uint32_t field = (r >> 8) & 0xFFFFF;
      put_split20(image, field);
      expected.value = negative_form ? sext(field, 20) : static_cast<int32_t>(field);
      break;
    }
    case OperandType::kRpbaseDisps0:
      expected.reg = r % 16;
      image.put(32, 4, expected.reg);
      break;
    case OperandType::kRpbaseDisps4:
    case OperandType::kRpbaseDispe4: {
      const unsigned disp4 = (r >> 8) % 14;  // 14 and 15 are escapes
      expected.reg = r % 16;
      image.put(32, 4, expected.reg);
      image.put(40, 4, disp4);
      expected.value =
          static_cast<int32_t>(spec.type == OperandType::kRpbaseDispe4 ? 2 * disp4 : disp4);
      break;
    }
    case OperandType::kRpbaseDisps16:
      expected.reg = r % 16;
      image.put(32, 4, expected.reg);
      expected.value = static_cast<int32_t>((r >> 8) & 0xFFFF);
      image.put(16, 16, expected.value);
      break;
    case OperandType::kRindex7Abs20:
    case OperandType::kRindex8Abs20:
      expected.index = r & 1;
      image.put(spec.type == OperandType::kRindex7Abs20 ? 39 : 40, 1, expected.index);
      expected.value = static_cast<int32_t>((r >> 8) & 0xFFFFF);
      image.put(16, 20, expected.value);
      break;
    case OperandType::kRpindexDisps0:
    case OperandType::kRpindexDisps14: {
      const unsigned pair = (r >> 1) % 8;
      expected.index = r & 1;
      expected.reg = kIndexPairCodes[pair];
      image.put(35, 1, expected.index);
      image.put(32, 3, pair);
      if (spec.type == OperandType::kRpindexDisps14) {
        const uint32_t d = (r >> 8) & 0x3FFF;
        image.put(16, 4, d & 0xF);
        image.put(36, 2, (d >> 4) & 0x3);
        image.put(30, 2, (d >> 6) & 0x3);
        image.put(24, 6, (d >> 8) & 0x3F);
        expected.value = static_cast<int32_t>(d);
      }
      break;
    }
    case OperandType::kRpindexDisps20: {
      const unsigned pair = (r >> 1) % 8;
      expected.index = r & 1;
      expected.reg = kIndexPairCodes[pair];
      image.put(19, 1, expected.index);
      image.put(16, 3, pair);
      const uint32_t field = (r >> 8) & 0xFFFFF;
      put_split20(image, field);
      expected.value = static_cast<int32_t>(field);
      break;
    }
    case OperandType::kRegr:
    case OperandType::kRegp:
    case OperandType::kPregr:
    case OperandType::kPregrp: {
      expected.reg = r % 16;
      const bool list_ra_slot = entry.size_words == 1 && spec.shift == 0;
      bool in_word1 = false;  // load/store rpindex_disps14: data register in word1[7:4]
      for (unsigned i = 0; i < entry.operand_count; ++i) {
        in_word1 |= entry.type() == flags::kLoadStore &&
                    entry.operands[i].type == OperandType::kRpindexDisps14;
      }
      if (list_ra_slot) {
        expected.reg = 14;
      } else if (in_word1) {
        image.put(20, 4, expected.reg);
      } else {
        image.put(at, 4, expected.reg);
      }
      break;
    }
    case OperandType::kNone:
      break;
  }
  return expected;
}

TEST(DecodeOperands, EveryEntryRoundTripsSampleOperandValues) {
  std::mt19937_64 rng(2024);
  const auto entries = table();
  unsigned entries_checked = 0;
  unsigned samples_checked = 0;
  for (uint16_t index = 0; index < entries.size(); ++index) {
    if (!entry_reachable(index)) continue;
    const Entry& entry = entries[index];
    unsigned good = 0;
    for (int attempt = 0; attempt < 400 && good < 32; ++attempt) {
      Image image;
      // Fixed bits first, plus random bits where neither the match nor an
      // operand field lies (e.g. the ope nibble of a winning word1).
      const auto base = random_encoding(rng, index);
      ASSERT_TRUE(base.has_value());
      image.bits =
          (uint64_t{base->words[0]} << 32) | (uint64_t{base->words[1]} << 16) | base->words[2];
      Operand expected[4];
      for (unsigned i = 0; i < entry.operand_count; ++i) {
        expected[i] = encode(entry, entry.operands[i], rng, image);
      }
      const uint16_t w0 = image.word(0), w1 = image.word(1), w2 = image.word(2);
      // A sample may collide with fixed bits (shift-count sign bits that are
      // opcode bits) or select a later entry (escape values): not this entry.
      if (find_entry(w0, w1) != index) continue;
      const Decoded decoded = decode(w0, w1, w2);
      ++good;
      for (unsigned i = 0; i < entry.operand_count; ++i) {
        const Operand& got = decoded.operands[i];
        EXPECT_EQ(got.type, expected[i].type) << index;
        EXPECT_EQ(got.value, expected[i].value)
            << "entry " << index << " " << mnemonic_name(entry.mnemonic) << " operand " << i << " "
            << operand_type_name(entry.operands[i].type) << std::hex << " words " << w0 << " " << w1
            << " " << w2;
        EXPECT_EQ(got.reg, expected[i].reg) << "entry " << index << " operand " << i;
        EXPECT_EQ(got.index, expected[i].index) << "entry " << index << " operand " << i;
      }
    }
    EXPECT_GE(good, 8u) << "entry " << index << " " << mnemonic_name(entry.mnemonic);
    if (good > 0) ++entries_checked;
    samples_checked += good;
  }
  EXPECT_EQ(entries_checked, 327u);
  RecordProperty("samples", static_cast<int>(samples_checked));
}

}  // namespace
}  // namespace cr16::isa
