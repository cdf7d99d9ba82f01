// Measures CR16 decode and disassembly throughput on random valid
// instructions of every reachable table entry. Prints figures; never fails.
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/isa_random.h"

int main() {
  using Clock = std::chrono::steady_clock;
  using namespace cr16;

  const auto build_start = Clock::now();
  (void)isa::decode(0, 0, 0);  // builds the lookup table
  const double build_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - build_start).count();

  std::mt19937_64 rng(42);
  std::vector<isa::Encoding> stream;
  for (int i = 0; i < (1 << 16); ++i) stream.push_back(isa::random_instruction(rng));

  constexpr int kRounds = 40;
  uint64_t checksum = 0;
  const auto decode_start = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (const auto& e : stream) {
      const isa::Decoded d = isa::decode(e.words[0], e.words[1], e.words[2]);
      checksum += d.entry + static_cast<uint32_t>(d.operands[0].value);
    }
  }
  const double decode_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - decode_start).count() /
      (double(kRounds) * stream.size());

  size_t characters = 0;
  const auto disas_start = Clock::now();
  for (const auto& e : stream) {
    characters += disassemble(isa::decode(e.words[0], e.words[1], e.words[2]), 0x1000).size();
  }
  const double disas_ns =
      std::chrono::duration<double, std::nano>(Clock::now() - disas_start).count() / stream.size();

  std::printf(
      "decode: table build %.1f ms, %.1f ns/instruction; disassemble %.1f ns/instruction "
      "(checksum %llu, %zu chars)\n",
      build_ms, decode_ns, disas_ns, static_cast<unsigned long long>(checksum), characters);
  return 0;
}
