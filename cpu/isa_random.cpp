// Random instruction generation: an index of (word0, allowed ope nibbles)
// pairs where each entry wins, built once from the decoder.
#include "cpu/isa_random.h"

#include <mutex>
#include <vector>

#include "cpu/decode.h"

namespace cr16::isa {
namespace {

/// For one entry: every word0 where it wins for at least one value of the
/// ope nibble word1[15:12], with the bitmask of those nibbles.
struct WinningWord0 {
  uint16_t word0;
  uint16_t ope_mask;
};

class EncodingIndex {
 public:
  EncodingIndex() : per_entry_(table().size()) {
    // Decoding depends only on word0 and word1[15:12].
    for (uint32_t w0 = 0; w0 < 65536; ++w0) {
      uint16_t first_winner = kInvalidEntry;
      uint16_t masks[16] = {};
      uint16_t winners[16];
      for (uint32_t ope = 0; ope < 16; ++ope) {
        winners[ope] = find_entry(static_cast<uint16_t>(w0), static_cast<uint16_t>(ope << 12));
        if (first_winner == kInvalidEntry) first_winner = winners[ope];
      }
      for (uint32_t ope = 0; ope < 16; ++ope) {
        if (winners[ope] == kInvalidEntry) continue;
        // Collect all nibbles for this winner once.
        bool seen = false;
        for (uint32_t earlier = 0; earlier < ope; ++earlier)
          seen |= winners[earlier] == winners[ope];
        if (seen) continue;
        for (uint32_t other = ope; other < 16; ++other) {
          if (winners[other] == winners[ope]) masks[ope] |= static_cast<uint16_t>(1u << other);
        }
        per_entry_[winners[ope]].push_back({static_cast<uint16_t>(w0), masks[ope]});
      }
    }
  }

  const std::vector<WinningWord0>& winners(uint16_t entry) const { return per_entry_[entry]; }

 private:
  std::vector<std::vector<WinningWord0>> per_entry_;
};

const EncodingIndex& encoding_index() {
  static const EncodingIndex index;  // thread-safe static initialisation
  return index;
}

}  // namespace

bool entry_reachable(uint16_t entry) {
  return entry < table().size() && !encoding_index().winners(entry).empty();
}

std::optional<Encoding> random_encoding(std::mt19937_64& rng, uint16_t entry) {
  if (!entry_reachable(entry)) return std::nullopt;
  const auto& candidates = encoding_index().winners(entry);
  const WinningWord0& pick = candidates[rng() % candidates.size()];
  unsigned opes[16];
  unsigned count = 0;
  for (unsigned ope = 0; ope < 16; ++ope) {
    if (pick.ope_mask & (1u << ope)) opes[count++] = ope;
  }
  const uint64_t bits = rng();
  Encoding encoding;
  encoding.size_words = table()[entry].size_words;
  encoding.words[0] = pick.word0;
  if (encoding.size_words >= 2) {
    encoding.words[1] = static_cast<uint16_t>((opes[bits % count] << 12) | ((bits >> 8) & 0x0FFF));
  }
  if (encoding.size_words == 3) encoding.words[2] = static_cast<uint16_t>(bits >> 32);
  return encoding;
}

Encoding random_instruction(std::mt19937_64& rng) {
  for (;;) {
    const auto entry = static_cast<uint16_t>(rng() % table().size());
    if (auto encoding = random_encoding(rng, entry)) return *encoding;
  }
}

}  // namespace cr16::isa
