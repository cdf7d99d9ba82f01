// The two kinds of file in a snapshot store, as bytes (docs/snapshots.md):
//
//  - a manifest describes one snapshot: its name, id, date, VM clock, size,
//    the machine's state sections and, for every block of guest memory, its
//    page map: one map page per 128 pages of the block, named by its
//    SHA-256 (or 0 when all 128 are zero pages); the manifest ends with the
//    SHA-256 of all that;
//  - a map page (4 KiB, stored like any other page) lists the SHA-256 of
//    each of its 128 pages, 32 zero bytes for a zero page (stored as
//    nothing). Snapshots that differ in a few pages share all but a few map
//    pages too, so a snapshot costs its changed pages and a small manifest;
//  - a pack holds pages: an index (the digests, in slot order) closed by
//    its own SHA-256, then the 4 KiB pages in the same order. A page is
//    valid when its bytes hash to its digest.
//
// Both are hostile input when read back: decoding checks every length,
// count, index and checksum and never allocates from a length it has not
// checked against the bytes actually present. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "migration/snapshot_hash.h"
#include "util/error.h"

namespace cr16::migration {

/// Bytes per page in the store (the address space's page size).
inline constexpr uint32_t kSnapshotPageSize = 4096;
/// Format version of manifests and packs this build writes and reads.
inline constexpr uint32_t kSnapshotFormatVersion = 1;
/// Limits a manifest must respect (a 24-bit guest has at most 16 MiB).
inline constexpr uint32_t kMaxSnapshotBlocks = 64;
inline constexpr uint32_t kMaxSnapshotBlockSize = 16u << 20;
inline constexpr uint32_t kMaxSnapshotStateBytes = 16u << 20;
/// The largest manifest a store accepts (a 16 MiB guest needs about 1 KiB).
inline constexpr size_t kMaxManifestBytes = 16u << 20;
/// Pages one map page describes.
inline constexpr uint32_t kPagesPerMap = kSnapshotPageSize / sizeof(Sha256Digest);
/// The map pages a block of `page_count` pages needs.
inline constexpr uint32_t map_count(uint32_t page_count) {
  return (page_count + kPagesPerMap - 1) / kPagesPerMap;
}
/// A zero page's entry in a map page.
inline constexpr Sha256Digest kZeroPageEntry{};

/// True when `name` may name a snapshot: 1 to 63 characters from
/// [A-Za-z0-9_.+-], not starting with '.' or '-' (it is also a file name).
bool valid_snapshot_name(std::string_view name);
/// The error for a name valid_snapshot_name() refuses.
Error invalid_snapshot_name(std::string_view name);

/// One block of guest memory in a manifest.
struct ManifestBlock {
  std::string name;  // "ram", "flash"
  uint32_t base = 0;
  uint32_t size = 0;  // a multiple of kSnapshotPageSize
  bool read_only = false;
  /// One entry per map page (map_count(size / kSnapshotPageSize)): 0 when
  /// all its pages are zero, otherwise 1 + an index into Manifest::digests.
  std::vector<uint32_t> maps;
};

/// One snapshot.
struct Manifest {
  std::string name;
  uint32_t id = 0;           // a number the store assigns ("info snapshots" ID)
  int64_t date_seconds = 0;  // wall-clock time of the save (Unix time)
  uint32_t date_nanoseconds = 0;
  int64_t vm_clock_ns = 0;  // the guest's virtual time at the save
  std::string machine;      // the board type ("virt")
  /// Bytes of guest memory that are not zero pages, plus the state: what
  /// "info snapshots" shows as the VM size.
  uint64_t vm_size = 0;
  std::vector<uint8_t> state;         // the state sections (save_state_sections), clock first
  std::vector<Sha256Digest> digests;  // the distinct map pages it uses
  std::vector<ManifestBlock> blocks;
};

/// Encodes `manifest`, closed by its SHA-256. Errors: a field outside the
/// limits above (a bad name, too many blocks, a page reference out of
/// range).
Expected<std::vector<uint8_t>> encode_manifest(const Manifest& manifest);
/// Decodes and checks a manifest. `what` names it in messages
/// ("snapshot 'boot'"). Errors: bad magic, a version this build does not
/// read, a checksum mismatch (damaged), truncation, a length, count or
/// reference out of range, duplicate block names.
Expected<Manifest> decode_manifest(std::span<const uint8_t> bytes, const std::string& what);

/// The most pages one pack may hold (1 GiB of pages; a save writes at most
/// one guest's worth).
inline constexpr uint32_t kMaxPackPages = 1u << 18;
/// Fills the map page `out` (kSnapshotPageSize bytes) with `entries` (at
/// most kPagesPerMap; kZeroPageEntry for zero pages) and zeros after them.
void encode_map_page(std::span<const Sha256Digest> entries, uint8_t* out);
/// Reads the first `count` entries of a map page into `out`; the entries
/// after them must be zero. `what` names the page in errors.
Error decode_map_page(const uint8_t* page, uint32_t count, Sha256Digest* out,
                      const std::string& what);

/// The fixed part of a pack before its digests: magic, version, count.
inline constexpr size_t kPackPreambleBytes = 16;
/// Bytes of a pack's index for `count` pages (preamble, digests, checksum);
/// the pages follow.
size_t pack_index_bytes(uint32_t count);
/// Encodes a pack's index for pages with `digests` (in slot order).
std::vector<uint8_t> encode_pack_index(std::span<const Sha256Digest> digests);
/// The page count a pack's preamble announces (checked against
/// `file_size`: the index and the pages must fill the file exactly).
Expected<uint32_t> decode_pack_preamble(std::span<const uint8_t> preamble, uint64_t file_size,
                                        const std::string& what);
/// Decodes a pack's whole index (`index` = its first pack_index_bytes(n)
/// bytes) and checks its checksum.
Expected<std::vector<Sha256Digest>> decode_pack_index(std::span<const uint8_t> index,
                                                      uint64_t file_size, const std::string& what);

}  // namespace cr16::migration
