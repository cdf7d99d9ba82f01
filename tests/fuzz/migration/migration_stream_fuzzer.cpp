// libFuzzer target: hostile migration streams against the destination's
// loader (migration/incoming_loader.h), loading into every virt device and
// 64 KiB of RAM beside the flash array, over one connection or several
// (multifd), fed whole or in pieces.
//
// One destination serves every input; after a load that committed, its
// devices are put back to their reset state.
//
// Checks, for every input:
//   - no crash, no out-of-bounds access (ASan), no endless loop;
//   - a stream the loader did not declare complete changed no device (state
//     bytes, armed deadlines, interrupt output, backends: the fingerprint);
//   - a complete stream commits, and the devices then save again.
//
// Input: byte 0 picks the mode (low 2 bits) and the piece size (the other
// 6 bits: 0 feeds each connection whole, n feeds pieces of n * 13 bytes,
// connections taking turns); the rest is the mode's payload.
//   mode 0: a valid single-channel stream (two passes, every section) with
//     patches: a first u16 cuts it when shorter, then (u16 offset, u8 xor).
//   mode 1: a valid multifd stream (main + 2 channels) with patches
//     (u8 stream, u16 offset, u8 xor); the first byte also rotates the
//     order in which the connections are added.
//   mode 2 and 3: raw connections, split at each "\n--\n" (at most 4).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "migration/incoming_loader.h"
#include "stream_machine.h"

namespace {

using cr16::migration::IncomingLoader;
using cr16::test::StreamBuilder;
using cr16::test::StreamMachine;

uint16_t take_u16(const uint8_t*& data, size_t& size) {
  if (size < 2) {
    size = 0;
    return 0;
  }
  const uint16_t value = static_cast<uint16_t>(data[0] | (data[1] << 8));
  data += 2;
  size -= 2;
  return value;
}

std::vector<std::vector<uint8_t>> multifd_streams(StreamMachine& source) {
  const uint8_t ram = source.ram_index();
  std::vector<std::vector<uint8_t>> streams(3);
  streams[0] = StreamBuilder()
                   .header()
                   .config(2)
                   .blocks(source)
                   .end_of_pass(1)
                   .end_of_pass(2)
                   .sections(source)
                   .end()
                   .bytes();
  streams[1] = StreamBuilder()
                   .header()
                   .hello(0, 2)
                   .pages(ram, {1}, 9)
                   .end_of_pass(1)
                   .zero(ram, {2})
                   .end_of_pass(2)
                   .end()
                   .bytes();
  streams[2] = StreamBuilder()
                   .header()
                   .hello(1, 2)
                   .zero(ram, {1})
                   .end_of_pass(1)
                   .pages(ram, {2, 3}, 5)
                   .end_of_pass(2)
                   .end()
                   .bytes();
  return streams;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const unsigned mode = control & 3;
  const size_t piece = (control >> 2) * size_t{13};
  ++data;
  --size;

  static StreamMachine source;  // the stream's origin: never loaded into
  static const std::vector<uint8_t> single = cr16::test::sample_stream(source);
  static const std::vector<std::vector<uint8_t>> multifd = multifd_streams(source);
  // One destination for every input (building the flash array each time
  // would cost most of the run); after a load that committed, its devices
  // go back to their reset state, so each input starts from the same place.
  static StreamMachine destination;
  static const std::vector<uint8_t> reset_state =
      cr16::migration::save_state_sections(destination.devices.sections()).value();
  std::vector<std::vector<uint8_t>> inputs;
  if (mode == 0) {
    std::vector<uint8_t> stream = single;
    const uint16_t cut = take_u16(data, size);
    if (cut < stream.size()) stream.resize(cut);
    while (size >= 3) {
      const uint16_t offset = take_u16(data, size);
      const uint8_t flip = data[0];
      ++data;
      --size;
      if (offset < stream.size()) stream[offset] ^= flip;
    }
    inputs.push_back(std::move(stream));
  } else if (mode == 1) {
    inputs = multifd;
    const size_t rotate = size > 0 ? data[0] % 3 : 0;
    while (size >= 4) {
      std::vector<uint8_t>& stream = inputs[data[0] % 3];
      ++data;
      --size;
      const uint16_t offset = take_u16(data, size);
      const uint8_t flip = data[0];
      ++data;
      --size;
      if (offset < stream.size()) stream[offset] ^= flip;
    }
    std::rotate(inputs.begin(), inputs.begin() + rotate, inputs.end());
  } else {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (inputs.size() < 3) {
      const size_t split = rest.find("\n--\n");
      if (split == std::string_view::npos) break;
      inputs.emplace_back(rest.begin(), rest.begin() + split);
      rest.remove_prefix(split + 4);
    }
    inputs.emplace_back(rest.begin(), rest.end());
  }

  const std::vector<uint8_t> before = destination.devices.fingerprint();
  IncomingLoader loader(destination.target());
  std::vector<unsigned> connections;
  for (size_t i = 0; i < inputs.size(); ++i) connections.push_back(loader.add_connection());
  std::vector<size_t> offsets(inputs.size(), 0);
  bool failed = false;
  bool progress = true;
  while (progress && !failed) {
    progress = false;
    for (size_t i = 0; i < inputs.size() && !failed; ++i) {
      const size_t left = inputs[i].size() - offsets[i];
      if (left == 0) continue;
      const size_t count = piece == 0 ? left : std::min(left, piece);
      failed = !loader.feed(connections[i], {inputs[i].data() + offsets[i], count}).ok();
      offsets[i] += count;
      progress = true;
    }
  }
  for (unsigned connection : connections) {
    if (!failed) failed = !loader.end_of_input(connection).ok();
  }
  if (loader.complete()) {
    if (!loader.commit()) __builtin_trap();  // complete must commit
    // The loaded devices save again (a load never makes a state its own
    // description cannot write).
    if (!cr16::migration::save_state_sections(destination.devices.sections()).ok()) {
      __builtin_trap();
    }
    if (!cr16::migration::load_state_sections(destination.devices.sections(), reset_state).ok()) {
      __builtin_trap();
    }
  } else if (destination.devices.fingerprint() != before) {
    __builtin_trap();  // a stream that did not load changed a device
  }
  return 0;
}
