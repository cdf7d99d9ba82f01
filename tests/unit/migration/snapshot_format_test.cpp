// The snapshot store's file formats: SHA-256, manifests and pack indexes
// round-trip, and every damaged, truncated or inconsistent one is refused.
#include "migration/snapshot_format.h"

#include <gtest/gtest.h>

#include <cstring>

#include "migration/snapshot_hash.h"
#include "snapshot_test_helpers.h"

namespace cr16::migration {
namespace {

Manifest sample_manifest() {
  Manifest manifest;
  manifest.name = "boot";
  manifest.id = 7;
  manifest.date_seconds = 1'700'000'000;
  manifest.date_nanoseconds = 5;
  manifest.vm_clock_ns = 42;
  manifest.machine = "virt";
  manifest.state = {1, 2, 3, 0};
  manifest.digests = {sha256(std::vector<uint8_t>{1}), sha256(std::vector<uint8_t>{2})};
  manifest.vm_size = 12345;
  ManifestBlock ram;
  ram.name = "ram";
  ram.size = 300 * kSnapshotPageSize;  // three map pages, the middle one all zero
  ram.maps = {1, 0, 2};
  ManifestBlock flash;
  flash.name = "flash";
  flash.base = 0xE00000;
  flash.size = kSnapshotPageSize;
  flash.read_only = true;
  flash.maps = {2};
  manifest.blocks = {ram, flash};
  return manifest;
}

// Re-closes a manifest after editing its body (a hostile but well-sealed file).
std::vector<uint8_t> reseal(std::vector<uint8_t> bytes) {
  bytes.resize(bytes.size() - 32);
  Sha256Digest checksum = sha256(bytes);
  bytes.insert(bytes.end(), checksum.begin(), checksum.end());
  return bytes;
}

TEST(SnapshotHash, KnownAnswers) {
  const std::string abc = "abc";
  EXPECT_EQ(to_hex(sha256(std::span(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 incremental;
  incremental.update(std::span(reinterpret_cast<const uint8_t*>(abc.data()), 1));
  incremental.update(std::span(reinterpret_cast<const uint8_t*>(abc.data()) + 1, 2));
  EXPECT_EQ(to_hex(incremental.finish()),
            to_hex(sha256(std::span(reinterpret_cast<const uint8_t*>(abc.data()), 3))));
  auto parsed = digest_from_hex(to_hex(sha256({})));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, sha256({}));
  EXPECT_FALSE(digest_from_hex("xyz").has_value());
}

TEST(SnapshotHash, ThreadedPageHashingMatchesOnePageAtATime) {
  std::vector<uint8_t> pages(1000 * kSnapshotPageSize);
  test::fill_random(pages.data(), pages.size(), 3);
  std::vector<Sha256Digest> threaded(1000);
  hash_pages(pages.data(), kSnapshotPageSize, 1000, threaded.data(), 4);
  std::vector<const uint8_t*> pointers;
  for (size_t i = 0; i < 1000; ++i) pointers.push_back(pages.data() + i * kSnapshotPageSize);
  std::vector<Sha256Digest> listed(1000);
  hash_page_list(pointers, kSnapshotPageSize, listed.data(), 3);
  for (size_t i = 0; i < 1000; ++i) {
    Sha256Digest one = sha256(std::span(pages.data() + i * kSnapshotPageSize, kSnapshotPageSize));
    ASSERT_EQ(threaded[i], one) << "page " << i;
    ASSERT_EQ(listed[i], one) << "page " << i;
  }
}

TEST(SnapshotNames, FileSafeNamesOnly) {
  EXPECT_TRUE(valid_snapshot_name("boot"));
  EXPECT_TRUE(valid_snapshot_name("vm-20260101.1+x_y"));
  EXPECT_FALSE(valid_snapshot_name(""));
  EXPECT_FALSE(valid_snapshot_name(".hidden"));
  EXPECT_FALSE(valid_snapshot_name("-flag"));
  EXPECT_FALSE(valid_snapshot_name("a/b"));
  EXPECT_FALSE(valid_snapshot_name("../x"));
  EXPECT_FALSE(valid_snapshot_name("with space"));
  EXPECT_FALSE(valid_snapshot_name(std::string(64, 'a')));
  EXPECT_NE(invalid_snapshot_name("a/b").message().find("'a/b'"), std::string::npos);
}

TEST(SnapshotManifest, RoundTrips) {
  Expected<std::vector<uint8_t>> bytes = encode_manifest(sample_manifest());
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  Expected<Manifest> decoded = decode_manifest(*bytes, "snapshot 'boot'");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  const Manifest expected = sample_manifest();
  EXPECT_EQ(decoded->name, expected.name);
  EXPECT_EQ(decoded->id, 7u);
  EXPECT_EQ(decoded->date_seconds, expected.date_seconds);
  EXPECT_EQ(decoded->date_nanoseconds, 5u);
  EXPECT_EQ(decoded->vm_clock_ns, 42);
  EXPECT_EQ(decoded->machine, "virt");
  EXPECT_EQ(decoded->state, expected.state);
  EXPECT_EQ(decoded->digests, expected.digests);
  ASSERT_EQ(decoded->blocks.size(), 2u);
  EXPECT_EQ(decoded->blocks[0].maps, expected.blocks[0].maps);
  EXPECT_EQ(decoded->blocks[1].base, 0xE00000u);
  EXPECT_TRUE(decoded->blocks[1].read_only);
  EXPECT_EQ(decoded->vm_size, 12345u);
}

TEST(SnapshotManifest, EveryFlippedByteIsRefused) {
  const std::vector<uint8_t> good = *encode_manifest(sample_manifest());
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    Expected<Manifest> decoded = decode_manifest(bad, "snapshot 'boot'");
    ASSERT_FALSE(decoded.ok()) << "flipping byte " << i << " went unnoticed";
    EXPECT_NE(decoded.error().message().find("snapshot 'boot'"), std::string::npos);
  }
  std::vector<uint8_t> bad = good;
  bad[40] ^= 0x80;
  EXPECT_NE(decode_manifest(bad, "m").error().message().find("damaged (SHA-256 mismatch)"),
            std::string::npos);
}

TEST(SnapshotManifest, EveryTruncationIsRefused) {
  const std::vector<uint8_t> good = *encode_manifest(sample_manifest());
  for (size_t length = 0; length < good.size(); ++length) {
    EXPECT_FALSE(decode_manifest(std::span(good).first(length), "m").ok()) << length;
  }
}

TEST(SnapshotManifest, WellSealedButInconsistentManifestsAreRefused) {
  // A page reference past the page list, sealed with a correct checksum.
  Manifest manifest = sample_manifest();
  std::vector<uint8_t> bytes = *encode_manifest(manifest);
  // The last page reference of the flash block sits just before the checksum.
  const size_t last_reference = bytes.size() - 32 - 4;
  bytes[last_reference] = 9;
  Expected<Manifest> decoded = decode_manifest(reseal(bytes), "snapshot 'boot'");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("refers to entry 9 of 2"), std::string::npos)
      << decoded.error().message();

  // A newer format version.
  bytes = *encode_manifest(manifest);
  bytes[8] = 2;
  decoded = decode_manifest(reseal(bytes), "m");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("version 2 is not supported"), std::string::npos);

  // Not a manifest at all.
  bytes.assign(100, 'x');
  EXPECT_NE(decode_manifest(bytes, "m").error().message().find("bad magic"), std::string::npos);

  // Unused page list entries and duplicate blocks.
  manifest = sample_manifest();
  manifest.digests.push_back(sha256(std::vector<uint8_t>{3}));
  EXPECT_NE(decode_manifest(*encode_manifest(manifest), "m").error().message().find("never used"),
            std::string::npos);
  manifest = sample_manifest();
  manifest.blocks[1].name = "ram";
  EXPECT_NE(decode_manifest(*encode_manifest(manifest), "m").error().message().find("twice"),
            std::string::npos);
  manifest = sample_manifest();
  manifest.blocks[1].base = 0xFFF000;
  manifest.blocks[1].size = 2 * kSnapshotPageSize;
  manifest.blocks[1].maps = {2};
  EXPECT_NE(decode_manifest(*encode_manifest(manifest), "m").error().message().find("bad base"),
            std::string::npos);
}

TEST(SnapshotManifest, EncodingRefusesWhatDecodingWould) {
  Manifest manifest = sample_manifest();
  manifest.name = "a/b";
  EXPECT_FALSE(encode_manifest(manifest).ok());
  manifest = sample_manifest();
  manifest.blocks[0].maps[0] = 3;
  EXPECT_FALSE(encode_manifest(manifest).ok());
  manifest = sample_manifest();
  manifest.blocks[0].size = 100;
  EXPECT_FALSE(encode_manifest(manifest).ok());
}

TEST(SnapshotMapPage, HoldsOneDigestPerPageAndNothingAfterTheBlockEnds) {
  std::vector<Sha256Digest> entries = {sha256(std::vector<uint8_t>{1}), kZeroPageEntry,
                                       sha256(std::vector<uint8_t>{3})};
  std::vector<uint8_t> page(kSnapshotPageSize, 0xAA);
  encode_map_page(entries, page.data());
  std::vector<Sha256Digest> decoded(3);
  ASSERT_TRUE(decode_map_page(page.data(), 3, decoded.data(), "map").ok());
  EXPECT_EQ(decoded, entries);
  EXPECT_EQ(kPagesPerMap, 128u);
  EXPECT_EQ(map_count(129), 2u);
  // A block of two pages whose map has a third entry is refused.
  Error error = decode_map_page(page.data(), 2, decoded.data(), "map 0 of block 'ram'");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.message(), "map 0 of block 'ram': entries past the end of its block");
}

TEST(SnapshotPack, IndexRoundTripsAndChecksItsSize) {
  std::vector<Sha256Digest> digests = {sha256(std::vector<uint8_t>{1}),
                                       sha256(std::vector<uint8_t>{2})};
  std::vector<uint8_t> index = encode_pack_index(digests);
  ASSERT_EQ(index.size(), pack_index_bytes(2));
  const uint64_t file_size = index.size() + 2 * kSnapshotPageSize;
  Expected<std::vector<Sha256Digest>> decoded = decode_pack_index(index, file_size, "pack");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, digests);

  Expected<std::vector<Sha256Digest>> short_file = decode_pack_index(index, file_size - 1, "pack");
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.error().message().find("truncated"), std::string::npos);
  for (size_t i = 0; i < index.size(); ++i) {
    std::vector<uint8_t> bad = index;
    bad[i] ^= 0x04;
    EXPECT_FALSE(decode_pack_index(bad, file_size, "pack").ok()) << "byte " << i;
  }
  // A count that would make the index huge is refused before anything is read.
  std::vector<uint8_t> huge = index;
  huge[15] = 0x7F;
  EXPECT_FALSE(decode_pack_preamble(huge, file_size, "pack").ok());
}

}  // namespace
}  // namespace cr16::migration
