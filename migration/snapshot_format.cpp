#include "migration/snapshot_format.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "migration/stream.h"

namespace cr16::migration {
namespace {

constexpr uint8_t kManifestMagic[8] = {'C', 'R', '1', '6', 'S', 'N', 'A', 'P'};
constexpr uint8_t kPackMagic[8] = {'C', 'R', '1', '6', 'P', 'A', 'C', 'K'};
constexpr size_t kDigestBytes = sizeof(Sha256Digest);
constexpr uint64_t kAddressSpaceBytes = uint64_t{1} << 24;
constexpr size_t kMaxBlockNameBytes = 63;

bool printable_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxBlockNameBytes) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

uint32_t read_u32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} | uint32_t{bytes[1]} << 8 | uint32_t{bytes[2]} << 16 |
         uint32_t{bytes[3]} << 24;
}

}  // namespace

bool valid_snapshot_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Error invalid_snapshot_name(std::string_view name) {
  return Error("invalid snapshot name '" + std::string(name) +
               "': use 1 to 63 letters, digits, '_', '.', '+' or '-', not starting with '.' "
               "or '-'");
}

void encode_map_page(std::span<const Sha256Digest> entries, uint8_t* out) {
  std::memset(out, 0, kSnapshotPageSize);
  const size_t count = std::min<size_t>(entries.size(), kPagesPerMap);
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(out + i * kDigestBytes, entries[i].data(), kDigestBytes);
  }
}

Error decode_map_page(const uint8_t* page, uint32_t count, Sha256Digest* out,
                      const std::string& what) {
  if (count > kPagesPerMap) return Error(what + ": too many entries for a map page");
  for (uint32_t i = 0; i < count; ++i)
    std::memcpy(out[i].data(), page + i * kDigestBytes, kDigestBytes);
  for (size_t i = size_t{count} * kDigestBytes; i < kSnapshotPageSize; ++i) {
    if (page[i] != 0) return Error(what + ": entries past the end of its block");
  }
  return Error();
}

Expected<std::vector<uint8_t>> encode_manifest(const Manifest& manifest) {
  if (!valid_snapshot_name(manifest.name)) return invalid_snapshot_name(manifest.name);
  if (!printable_name(manifest.machine)) {
    return Error("manifest: bad machine name '" + manifest.machine + "'");
  }
  if (manifest.state.size() > kMaxSnapshotStateBytes) {
    return Error("manifest: " + std::to_string(manifest.state.size()) +
                 " bytes of state, more than the limit");
  }
  if (manifest.blocks.size() > kMaxSnapshotBlocks) return Error("manifest: too many blocks");
  StreamWriter writer(kMaxManifestBytes);
  writer.put_bytes(kManifestMagic);
  writer.put_u32(kSnapshotFormatVersion);
  writer.put_short_string(manifest.name, 63);
  writer.put_u32(manifest.id);
  writer.put_u64(static_cast<uint64_t>(manifest.date_seconds));
  writer.put_u32(manifest.date_nanoseconds);
  writer.put_u64(static_cast<uint64_t>(manifest.vm_clock_ns));
  writer.put_short_string(manifest.machine, kMaxBlockNameBytes);
  writer.put_u64(manifest.vm_size);
  writer.put_u32(static_cast<uint32_t>(manifest.state.size()));
  writer.put_bytes(manifest.state);
  writer.put_u32(static_cast<uint32_t>(manifest.digests.size()));
  for (const Sha256Digest& digest : manifest.digests) writer.put_bytes(digest);
  writer.put_u32(static_cast<uint32_t>(manifest.blocks.size()));
  for (const ManifestBlock& block : manifest.blocks) {
    if (!printable_name(block.name) || block.size == 0 || block.size % kSnapshotPageSize != 0 ||
        block.size > kMaxSnapshotBlockSize ||
        block.maps.size() != map_count(block.size / kSnapshotPageSize)) {
      return Error("manifest: bad block '" + block.name + "'");
    }
    writer.put_short_string(block.name, kMaxBlockNameBytes);
    writer.put_u32(block.base);
    writer.put_u32(block.size);
    writer.put_u8(block.read_only ? 1 : 0);
    for (uint32_t reference : block.maps) {
      if (reference > manifest.digests.size()) {
        return Error("manifest: block '" + block.name + "' refers to a map it does not list");
      }
      writer.put_u32(reference);
    }
  }
  if (!writer.ok()) return writer.error().with_context("manifest");
  std::vector<uint8_t> bytes = writer.take();
  const Sha256Digest checksum = sha256(bytes);
  bytes.insert(bytes.end(), checksum.begin(), checksum.end());
  return bytes;
}

Expected<Manifest> decode_manifest(std::span<const uint8_t> bytes, const std::string& what) {
  constexpr size_t kSmallest = sizeof kManifestMagic + 4 + kDigestBytes;
  if (bytes.size() < kSmallest) {
    return Error(what + ": truncated manifest (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kManifestMagic, sizeof kManifestMagic) != 0) {
    return Error(what + ": not a snapshot manifest (bad magic)");
  }
  const uint32_t version = read_u32(bytes.data() + sizeof kManifestMagic);
  if (version != kSnapshotFormatVersion) {
    return Error(what + ": manifest format version " + std::to_string(version) +
                 " is not supported by this build (it reads version " +
                 std::to_string(kSnapshotFormatVersion) + ")");
  }
  const std::span<const uint8_t> body = bytes.first(bytes.size() - kDigestBytes);
  const Sha256Digest checksum = sha256(body);
  if (std::memcmp(checksum.data(), bytes.data() + body.size(), kDigestBytes) != 0) {
    return Error(what + ": the manifest is damaged (SHA-256 mismatch)");
  }
  StreamReader reader(body.subspan(sizeof kManifestMagic + 4));
  auto fail = [&](const std::string& message) -> Error {
    return Error(what + ": bad manifest: " + message);
  };
  Manifest manifest;
  manifest.name = reader.get_short_string("snapshot name", 63);
  manifest.id = reader.get_u32();
  manifest.date_seconds = static_cast<int64_t>(reader.get_u64());
  manifest.date_nanoseconds = reader.get_u32();
  manifest.vm_clock_ns = static_cast<int64_t>(reader.get_u64());
  manifest.machine = reader.get_short_string("machine name", kMaxBlockNameBytes);
  manifest.vm_size = reader.get_u64();
  if (!reader.ok()) return fail(reader.error().message());
  if (!valid_snapshot_name(manifest.name)) return fail("invalid name '" + manifest.name + "'");
  if (!printable_name(manifest.machine)) return fail("bad machine name");
  if (manifest.date_nanoseconds >= 1'000'000'000u) return fail("bad date");
  if (manifest.vm_clock_ns < 0) return fail("negative VM clock");

  const uint32_t state_bytes = reader.get_u32();
  if (state_bytes > kMaxSnapshotStateBytes || state_bytes > reader.remaining()) {
    return fail("state of " + std::to_string(state_bytes) + " bytes does not fit");
  }
  std::span<const uint8_t> state = reader.get_span(state_bytes);
  manifest.state.assign(state.begin(), state.end());

  const uint32_t digest_count = reader.get_u32();
  if (!reader.ok() || digest_count > reader.remaining() / kDigestBytes) {
    return fail("map list of " + std::to_string(digest_count) + " entries does not fit");
  }
  manifest.digests.resize(digest_count);
  for (Sha256Digest& digest : manifest.digests) reader.get_bytes(digest);

  const uint32_t block_count = reader.get_u32();
  if (!reader.ok()) return fail(reader.error().message());
  if (block_count == 0 || block_count > kMaxSnapshotBlocks) {
    return fail(std::to_string(block_count) + " memory blocks (1 to " +
                std::to_string(kMaxSnapshotBlocks) + ")");
  }
  std::set<std::string> names;
  std::vector<bool> used(digest_count, false);
  for (uint32_t b = 0; b < block_count; ++b) {
    ManifestBlock block;
    block.name = reader.get_short_string("block name", kMaxBlockNameBytes);
    block.base = reader.get_u32();
    block.size = reader.get_u32();
    const uint8_t flags = reader.get_u8();
    if (!reader.ok()) return fail(reader.error().message());
    if (!printable_name(block.name)) return fail("bad block name");
    if (!names.insert(block.name).second) return fail("block '" + block.name + "' appears twice");
    if (block.size == 0 || block.size % kSnapshotPageSize != 0 ||
        block.size > kMaxSnapshotBlockSize || block.base % kSnapshotPageSize != 0 ||
        uint64_t{block.base} + block.size > kAddressSpaceBytes) {
      return fail("block '" + block.name + "' has a bad base or size");
    }
    if (flags > 1) return fail("block '" + block.name + "' has unknown flags");
    block.read_only = flags == 1;
    const uint32_t maps = map_count(block.size / kSnapshotPageSize);
    if (maps > reader.remaining() / 4) return fail("truncated page map of '" + block.name + "'");
    block.maps.resize(maps);
    for (uint32_t m = 0; m < maps; ++m) {
      const uint32_t reference = reader.get_u32();
      if (reference > digest_count) {
        return fail("map " + std::to_string(m) + " of '" + block.name + "' refers to entry " +
                    std::to_string(reference) + " of " + std::to_string(digest_count));
      }
      if (reference != 0) used[reference - 1] = true;
      block.maps[m] = reference;
    }
    manifest.blocks.push_back(std::move(block));
  }
  if (!reader.ok()) return fail(reader.error().message());
  if (!reader.at_end()) {
    return fail(std::to_string(reader.remaining()) + " bytes left over after the page maps");
  }
  for (uint32_t i = 0; i < digest_count; ++i) {
    if (!used[i]) return fail("map list entry " + std::to_string(i + 1) + " is never used");
  }
  return manifest;
}

// ---- Packs

size_t pack_index_bytes(uint32_t count) {
  return kPackPreambleBytes + size_t{count} * kDigestBytes + kDigestBytes;
}

std::vector<uint8_t> encode_pack_index(std::span<const Sha256Digest> digests) {
  StreamWriter writer;
  writer.put_bytes(kPackMagic);
  writer.put_u32(kSnapshotFormatVersion);
  writer.put_u32(static_cast<uint32_t>(digests.size()));
  for (const Sha256Digest& digest : digests) writer.put_bytes(digest);
  std::vector<uint8_t> bytes = writer.take();
  const Sha256Digest checksum = sha256(bytes);
  bytes.insert(bytes.end(), checksum.begin(), checksum.end());
  return bytes;
}

Expected<uint32_t> decode_pack_preamble(std::span<const uint8_t> preamble, uint64_t file_size,
                                        const std::string& what) {
  if (preamble.size() < kPackPreambleBytes) return Error(what + ": truncated pack");
  if (std::memcmp(preamble.data(), kPackMagic, sizeof kPackMagic) != 0) {
    return Error(what + ": not a page pack (bad magic)");
  }
  const uint32_t version = read_u32(preamble.data() + 8);
  if (version != kSnapshotFormatVersion) {
    return Error(what + ": pack format version " + std::to_string(version) +
                 " is not supported by this build");
  }
  const uint32_t count = read_u32(preamble.data() + 12);
  if (count == 0 || count > kMaxPackPages) {
    return Error(what + ": a pack of " + std::to_string(count) + " pages (1 to " +
                 std::to_string(kMaxPackPages) + ")");
  }
  const uint64_t expected = uint64_t{pack_index_bytes(count)} + uint64_t{count} * kSnapshotPageSize;
  if (file_size != expected) {
    return Error(what + ": pack of " + std::to_string(count) + " pages should be " +
                 std::to_string(expected) + " bytes, is " + std::to_string(file_size) +
                 (file_size < expected ? " (truncated)" : ""));
  }
  return count;
}

Expected<std::vector<Sha256Digest>> decode_pack_index(std::span<const uint8_t> index,
                                                      uint64_t file_size, const std::string& what) {
  Expected<uint32_t> count = decode_pack_preamble(index, file_size, what);
  if (!count) return count.error();
  const size_t length = pack_index_bytes(*count);
  if (index.size() < length) return Error(what + ": truncated pack index");
  const std::span<const uint8_t> body = index.first(length - kDigestBytes);
  const Sha256Digest checksum = sha256(body);
  if (std::memcmp(checksum.data(), index.data() + body.size(), kDigestBytes) != 0) {
    return Error(what + ": the pack index is damaged (SHA-256 mismatch)");
  }
  std::vector<Sha256Digest> digests(*count);
  for (uint32_t i = 0; i < *count; ++i) {
    std::memcpy(digests[i].data(), body.data() + kPackPreambleBytes + size_t{i} * kDigestBytes,
                kDigestBytes);
  }
  return digests;
}

}  // namespace cr16::migration
