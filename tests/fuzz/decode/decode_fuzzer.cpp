// Fuzzes the CR16 decoder + disassembler on arbitrary bytes. Violated
// invariants abort via __builtin_trap so libFuzzer records the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/isa_random.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

/// A little-endian word; a word not entirely inside the input reads as 0
/// (as objdump reads past the end of a section, and disassemble_bytes too).
uint16_t word_at(const uint8_t* data, size_t size, size_t offset) {
  if (offset + 1 >= size) return 0;
  return static_cast<uint16_t>(data[offset] | (data[offset + 1] << 8));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cr16;
  size_t offset = 0;
  while (offset < size) {
    const uint16_t w0 = word_at(data, size, offset);
    const uint16_t w1 = word_at(data, size, offset + 2);
    const uint16_t w2 = word_at(data, size, offset + 4);
    const isa::Decoded decoded = isa::decode(w0, w1, w2);
    check(decoded.entry == isa::find_entry_reference(w0, w1));
    check(decoded.size_words >= 1 && decoded.size_words <= 3);
    check(decoded.operand_count <= 4);
    if (decoded.valid()) {
      const isa::Entry& entry = isa::table()[decoded.entry];
      check(entry.matches((uint32_t{w0} << 16) | w1));
      check(decoded.size_words == entry.size_words);
    }
    const auto address = static_cast<uint32_t>(offset * 0x9E37u) & 0xFFFFFE;
    const Disassembly text =
        disassemble_bytes(std::span<const uint8_t>(data + offset, size - offset), address);
    check(!text.text.empty());
    check(text.size_bytes == 2 || text.size_bytes == 4 || text.size_bytes == 6);
    if (decoded.valid()) check(text.size_bytes == 2u * decoded.size_words);
    offset += text.size_bytes;
  }

  // The input also seeds the generator: its output must decode back.
  uint64_t seed = 0;
  std::memcpy(&seed, data, size < sizeof seed ? size : sizeof seed);
  std::mt19937_64 rng(seed);
  const auto entry = static_cast<uint16_t>(seed % isa::table().size());
  if (const auto encoding = isa::random_encoding(rng, entry)) {
    const isa::Decoded back =
        isa::decode(encoding->words[0], encoding->words[1], encoding->words[2]);
    check(back.entry == entry);
    check(!disassemble(back, 0).empty());
  } else {
    check(!isa::entry_reachable(entry));
  }
  return 0;
}
