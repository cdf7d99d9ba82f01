// libFuzzer target: hostile snapshot stores (migration/snapshot_*).
//
// Checks, for every input: no crash, leak or UB in decoding a manifest, a
// pack or a map page, in listing, loading or collecting a store's garbage,
// or in restoring what loaded into a virt board; a snapshot the store or
// the board refuses changes nothing in the board (its RAM, flash and CPU
// state are compared, else the fuzzer traps); a manifest that decodes
// encodes back to the same bytes.
//
// Input: byte 0 picks the mode (low 3 bits), the rest is its payload.
//   mode 0: the payload is a manifest.
//   mode 1: the payload is a pack; each of its pages is also read as a map
//           page.
//   mode 2: a whole store: u32 manifest length, the manifest ("f"), the rest
//           one pack.
//   mode 3: patches — (u32 offset, u8 xor) pairs — applied to a valid store
//           (manifest then pack, as one byte string) of a 64 KiB virt board.
//   mode 4: the same patches, then the manifest's and the pack index's
//           checksums are recomputed, so the parsers behind them are reached.
//   mode 5: mode 4, loaded with the digests of the board's own memory as
//           "known" (the path that skips reading pages the machine holds).
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "hw/manual_device_clock.h"
#include "hw/virt_board.h"
#include "hw/virt_map.h"
#include "migration/snapshot_format.h"
#include "migration/snapshot_machine.h"
#include "migration/snapshot_store.h"

namespace {

namespace migration = cr16::migration;
namespace fs = std::filesystem;

struct World {
  std::string root;  // a scratch directory for the store
  cr16::ManualDeviceClock clock;
  std::unique_ptr<cr16::VirtBoard> board;
  std::vector<uint8_t> manifest;  // a valid store of the board
  std::vector<uint8_t> pack;
  migration::PageDigestMap known;  // the board's own page digests
};

World& world();

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

World* build_world() {
  auto* w = new World;
  // tmpfs where there is one: the store fsyncs, and a disk would make each
  // input cost milliseconds.
  std::string pattern = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                        "/cr16-snapshot-fuzz-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) abort();
  w->root = pattern;
  cr16::BoardConfig config;
  config.ram_bytes = cr16::virt::kRamMinSize;
  auto board = cr16::VirtBoard::create(config, w->clock);
  if (!board) abort();
  w->board = std::move(*board);
  // Some RAM with a pattern, two equal pages, the rest zero.
  std::vector<uint8_t> bytes(3 * cr16::kPageSize);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  std::memcpy(bytes.data() + 2 * cr16::kPageSize, bytes.data(), cr16::kPageSize);
  if (!w->board->memory().write_bytes(0x4000, bytes).ok()) abort();
  std::vector<cr16::StateSection> sections = w->board->state_sections();
  auto image = migration::capture_machine(sections, w->board->memory());
  if (!image) abort();
  image->name = "f";
  image->machine = "virt";
  const std::string seed_store = w->root + "/seed";
  auto store = migration::SnapshotStore::open(seed_store, true, 1);
  if (!store || !store->save(*image).ok()) abort();
  for (const migration::SnapshotBlock& block : image->blocks) w->known[block.name] = block.digests;
  w->manifest = read_file(seed_store + "/manifests/f.snap");
  for (const auto& entry : fs::directory_iterator(seed_store + "/packs")) {
    w->pack = read_file(entry.path().string());
  }
  if (w->manifest.empty() || w->pack.empty()) abort();
  atexit([] { fs::remove_all(world().root); });
  return w;
}

World& world() {
  static World* w = build_world();
  return *w;
}

uint32_t get_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// What a refused load must leave alone.
std::vector<uint8_t> fingerprint(cr16::VirtBoard& board) {
  std::vector<uint8_t> bytes(board.ram_bytes() + cr16::virt::kFlashSize);
  (void)board.memory().read_bytes(0, std::span(bytes).first(board.ram_bytes()));
  (void)board.memory().read_bytes(cr16::virt::kFlashBase,
                                  std::span(bytes).subspan(board.ram_bytes()));
  for (const cr16::StateSection& section : board.state_sections()) {
    const auto* state = static_cast<const uint8_t*>(section.object->state_data());
    bytes.insert(bytes.end(), state, state + section.object->state_description().object_size);
  }
  return bytes;
}

void reseal(std::vector<uint8_t>& bytes, size_t body) {
  if (bytes.size() < body + 32) return;
  migration::Sha256Digest digest = migration::sha256(std::span(bytes).first(body));
  std::memcpy(bytes.data() + body, digest.data(), digest.size());
}

void try_store(const std::vector<uint8_t>& manifest, const std::vector<uint8_t>& pack,
               const migration::PageDigestMap* known) {
  World& w = world();
  const std::string dir = w.root + "/store";
  auto store = migration::SnapshotStore::open(dir, true, 1);
  if (!store) abort();
  // Only this input's files: what garbage collection wrote last time goes.
  for (const char* sub : {"/manifests", "/packs"}) {
    for (const auto& entry : fs::directory_iterator(dir + sub)) fs::remove(entry.path());
  }
  write_file(dir + "/manifests/f.snap", manifest);
  write_file(dir + "/packs/pack-0.pack", pack);
  (void)store->list();
  (void)store->usage();
  auto image = store->load("f", nullptr, nullptr, known);
  if (image) {
    std::vector<cr16::StateSection> sections = w.board->state_sections();
    const std::vector<uint8_t> before = fingerprint(*w.board);
    auto restore = migration::SnapshotRestore::prepare(sections, w.board->memory(),
                                                       std::move(*image), "snapshot 'f'");
    if (!restore) {
      if (fingerprint(*w.board) != before) __builtin_trap();  // refused, yet changed
    } else {
      (*restore)->commit(nullptr);
    }
  }
  (void)store->collect_garbage();
  (void)store->remove("f");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const uint8_t mode = data[0] & 7;
  std::span<const uint8_t> payload(data + 1, size - 1);
  switch (mode) {
    case 0: {
      auto manifest = migration::decode_manifest(payload, "fuzz");
      if (manifest) {
        auto again = migration::encode_manifest(*manifest);
        if (!again || *again != std::vector<uint8_t>(payload.begin(), payload.end())) {
          __builtin_trap();  // what decodes must encode to the same bytes
        }
      }
      break;
    }
    case 1: {
      auto digests = migration::decode_pack_index(payload, payload.size(), "fuzz");
      if (digests) {
        const size_t first = migration::pack_index_bytes(static_cast<uint32_t>(digests->size()));
        std::vector<migration::Sha256Digest> entries(migration::kPagesPerMap);
        for (size_t offset = first; offset + migration::kSnapshotPageSize <= payload.size();
             offset += migration::kSnapshotPageSize) {
          (void)migration::decode_map_page(
              payload.data() + offset, static_cast<uint32_t>(offset % 129), entries.data(), "fuzz");
        }
      }
      break;
    }
    case 2: {
      if (payload.size() < 4) break;
      const size_t length = std::min<size_t>(get_u32(payload.data()), payload.size() - 4);
      std::vector<uint8_t> manifest(payload.begin() + 4, payload.begin() + 4 + length);
      std::vector<uint8_t> pack(payload.begin() + 4 + length, payload.end());
      try_store(manifest, pack, nullptr);
      break;
    }
    default: {
      std::vector<uint8_t> bytes = w.manifest;
      bytes.insert(bytes.end(), w.pack.begin(), w.pack.end());
      for (size_t i = 0; i + 5 <= payload.size(); i += 5) {
        const uint32_t offset = get_u32(payload.data() + i);
        bytes[offset % bytes.size()] ^= payload[i + 4];
      }
      std::vector<uint8_t> manifest(bytes.begin(), bytes.begin() + w.manifest.size());
      std::vector<uint8_t> pack(bytes.begin() + w.manifest.size(), bytes.end());
      if (mode >= 4) {
        reseal(manifest, manifest.size() - 32);
        const uint32_t count = pack.size() >= 16 ? get_u32(pack.data() + 12) : 0;
        if (count <= migration::kMaxPackPages) {
          reseal(pack, migration::pack_index_bytes(count) - 32);
        }
      }
      try_store(manifest, pack, mode == 5 ? &w.known : nullptr);
      break;
    }
  }
  return 0;
}
