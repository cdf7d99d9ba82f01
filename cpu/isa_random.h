// Random valid CR16 instructions, generated from the instruction table.
//
// Used by the decoder fuzzer, the disassembler-vs-objdump tests and the
// interpreter's differential tests: pick a table entry, get words that the
// decoder maps back to exactly that entry (it wins the precedence), with all
// operand bits random.
#pragma once

#include <cstdint>
#include <optional>
#include <random>

namespace cr16::isa {

/// Instruction words; words beyond size_words are zero.
struct Encoding {
  uint16_t words[3] = {0, 0, 0};
  uint8_t size_words = 1;
};

/// True when some encoding decodes to `entry` (false for entries entirely
/// shadowed by later entries, e.g. the 3-operand push/pop/popret forms, and
/// for out-of-range indices). Builds a per-entry index on first use.
bool entry_reachable(uint16_t entry);

/// Random words that decode to `entry`, or nullopt if the entry is
/// unreachable. Deterministic for a given generator state. Thread-compatible
/// (the lazily built index is guarded; the generator is the caller's).
std::optional<Encoding> random_encoding(std::mt19937_64& rng, uint16_t entry);

/// A random valid instruction of any reachable entry (uniform over entries).
Encoding random_instruction(std::mt19937_64& rng);

}  // namespace cr16::isa
