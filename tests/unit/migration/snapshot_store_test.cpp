// The content-addressed snapshot store: sharing of pages between
// snapshots, zero pages stored as nothing, reference counting on delete
// (only pages no other snapshot uses are freed), atomic replacement, and
// damaged, truncated or missing manifests and pages refused with an error
// that names them.
#include "migration/snapshot_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "snapshot_test_helpers.h"

namespace cr16::migration {
namespace {

using test::file_size;
using test::files_in;
using test::flip_byte;
using test::make_image;
using test::TempDir;
using test::touch_page;

class SnapshotStoreTest : public ::testing::Test {
 protected:
  SnapshotStore open_store() {
    Expected<SnapshotStore> store = SnapshotStore::open(dir_ / "store", true);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(*store);
  }
  std::string manifests() const { return dir_ / "store/manifests"; }
  std::string packs() const { return dir_ / "store/packs"; }
  std::vector<std::string> pack_files() const {
    std::vector<std::string> names;
    for (const std::string& name : files_in(packs())) {
      if (name.ends_with(".pack")) names.push_back(name);
    }
    return names;
  }
  void expect_loads_as(SnapshotStore& store, const SnapshotImage& expected) {
    Expected<SnapshotImage> loaded = store.load(expected.name);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ(loaded->state, expected.state);
    ASSERT_EQ(loaded->blocks.size(), expected.blocks.size());
    for (size_t b = 0; b < expected.blocks.size(); ++b) {
      EXPECT_EQ(loaded->blocks[b].name, expected.blocks[b].name);
      EXPECT_EQ(loaded->blocks[b].base, expected.blocks[b].base);
      EXPECT_EQ(loaded->blocks[b].read_only, expected.blocks[b].read_only);
      EXPECT_EQ(loaded->blocks[b].size, expected.blocks[b].size);
      EXPECT_TRUE(test::block_bytes(*loaded, b) == test::block_bytes(expected, b))
          << "block " << expected.blocks[b].name << " differs";
    }
  }

  TempDir dir_;
};

TEST_F(SnapshotStoreTest, SavedSnapshotLoadsBackExactly) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("boot", 64, 1, 8);
  image.state = {1, 2, 3, 4, 0};
  SnapshotProgress progress;
  ASSERT_TRUE(store.save(image, &progress).ok());
  EXPECT_EQ(image.id, 1u);
  EXPECT_EQ(progress.done.load(), progress.total.load());
  EXPECT_GT(progress.total.load(), 0u);
  expect_loads_as(store, image);
  Expected<SnapshotImage> loaded = store.load("boot");
  EXPECT_EQ(loaded->vm_clock_ns, 123'456'789);
  EXPECT_EQ(loaded->machine, "virt");
  // By id too.
  Expected<SnapshotImage> by_id = store.load("1");
  ASSERT_TRUE(by_id.ok()) << by_id.error().message();
  EXPECT_EQ(by_id->name, "boot");
}

TEST_F(SnapshotStoreTest, ZeroPagesAreStoredAsNothingAndEqualPagesOnce) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("zeros", 64, 1, 64);  // all RAM zero; flash all 0xFF
  ASSERT_TRUE(store.save(image).ok());
  Expected<StoreUsage> usage = store.usage();
  ASSERT_TRUE(usage.ok());
  // The one 0xFF page, for all 16 flash pages, and the flash's map page;
  // all-zero RAM needs no map page either.
  EXPECT_EQ(usage->stored_pages, 2u);
  EXPECT_EQ(usage->pack_bytes, pack_index_bytes(2) + 2 * kSnapshotPageSize);
  expect_loads_as(store, image);
}

TEST_F(SnapshotStoreTest, TenSnapshotsThatDifferInAFewPagesCostLittleMoreThanOne) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("s0", 256, 5);
  ASSERT_TRUE(store.save(image).ok());
  const uint64_t one = store.usage()->total_bytes();
  for (uint32_t i = 1; i < 10; ++i) {
    image.name = "s" + std::to_string(i);
    touch_page(image, i, 1);        // a page no snapshot had
    touch_page(image, 100 + i, 1);  // and another one
    ASSERT_TRUE(store.save(image).ok());
  }
  Expected<StoreUsage> usage = store.usage();
  EXPECT_EQ(usage->manifests, 10u);
  // RAM, the flash page and three map pages, then two new pages and the
  // map page that lists them for each later snapshot.
  EXPECT_EQ(usage->stored_pages, 256u + 1 + 3 + 9 * 3);
  EXPECT_LT(usage->total_bytes(), one * 12 / 10)
      << "ten snapshots cost " << usage->total_bytes() << " bytes, one cost " << one;
  // Each still loads as it was saved: s9 has every change.
  expect_loads_as(store, image);
}

TEST_F(SnapshotStoreTest, DeletingFreesOnlyPagesNoOtherSnapshotUses) {
  SnapshotStore store = open_store();
  SnapshotImage first = make_image("first", 64, 9);
  ASSERT_TRUE(store.save(first).ok());
  SnapshotImage second = test::copy_image(first);
  second.name = "second";
  touch_page(second, 3, 1);
  touch_page(second, 4, 1);
  ASSERT_TRUE(store.save(second).ok());
  EXPECT_EQ(store.usage()->stored_pages, 64u + 1 + 2 + 2 + 1);  // data, two maps each

  ASSERT_TRUE(store.remove("first").ok());
  // first's own versions of pages 3 and 4 and its RAM map are gone;
  // everything second uses stays.
  Expected<StoreUsage> usage = store.usage();
  EXPECT_EQ(usage->stored_pages, 64u + 1 + 2);
  EXPECT_EQ(usage->manifests, 1u);
  expect_loads_as(store, second);
  Expected<SnapshotImage> gone = store.load("first");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message().find("'first' not found"), std::string::npos);

  ASSERT_TRUE(store.remove("second").ok());
  EXPECT_TRUE(pack_files().empty());
  EXPECT_EQ(store.usage()->total_bytes(), 0u);
  EXPECT_FALSE(store.remove("second").ok());
}

TEST_F(SnapshotStoreTest, SavingUnderAnExistingNameReplacesItAndFreesItsPages) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("same", 32, 1);
  ASSERT_TRUE(store.save(image).ok());
  SnapshotImage newer = make_image("same", 32, 2);  // every page different
  ASSERT_TRUE(store.save(newer).ok());
  EXPECT_EQ(newer.id, 2u);
  Expected<StoreUsage> usage = store.usage();
  EXPECT_EQ(usage->manifests, 1u);
  EXPECT_EQ(usage->stored_pages, 32u + 1 + 2);
  expect_loads_as(store, newer);
  EXPECT_EQ(store.list()->size(), 1u);
  // Unless replacing is refused (QMP's snapshot-save): then nothing changes.
  SnapshotImage third = make_image("same", 32, 3);
  Error refused = store.save(third, nullptr, {}, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(), "snapshot 'same' already exists");
  expect_loads_as(store, newer);
  EXPECT_EQ(store.usage()->stored_pages, 32u + 1 + 2);
}

TEST_F(SnapshotStoreTest, ListGivesIdsNamesAndSizesAndFlagsDamagedManifests) {
  SnapshotStore store = open_store();
  SnapshotImage a = make_image("a", 16, 1, 4);
  SnapshotImage b = make_image("b", 16, 2);
  ASSERT_TRUE(store.save(a).ok());
  ASSERT_TRUE(store.save(b).ok());
  flip_byte(manifests() + "/a.snap", 30);
  Expected<std::vector<SnapshotSummary>> list = store.list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "b");
  EXPECT_EQ((*list)[0].id, 2u);
  EXPECT_EQ((*list)[0].vm_size, (16u + 16) * kSnapshotPageSize + 1);
  EXPECT_TRUE((*list)[0].damage.ok());
  EXPECT_EQ((*list)[1].name, "a");
  EXPECT_FALSE((*list)[1].damage.ok());
}

TEST_F(SnapshotStoreTest, ADamagedPageIsRefusedNamingThePage) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("boot", 8, 3);
  ASSERT_TRUE(store.save(image).ok());
  ASSERT_EQ(pack_files().size(), 1u);
  const std::string pack = packs() + "/" + pack_files()[0];
  // Slot 5 holds RAM page 5 (data pages are packed in order of first use,
  // then the two map pages).
  flip_byte(pack, pack_index_bytes(11) + 5 * kSnapshotPageSize + 100);
  Expected<SnapshotImage> loaded = store.load("boot");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("snapshot 'boot': page 5 of block 'ram' is damaged"),
            std::string::npos)
      << loaded.error().message();
}

TEST_F(SnapshotStoreTest, ADamagedOrTruncatedManifestIsRefused) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("boot", 8, 3);
  ASSERT_TRUE(store.save(image).ok());
  const std::string manifest = manifests() + "/boot.snap";
  const std::string saved = manifest + ".good";
  std::filesystem::copy_file(manifest, saved);

  flip_byte(manifest, 50);
  Expected<SnapshotImage> loaded = store.load("boot");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("damaged (SHA-256 mismatch)"), std::string::npos)
      << loaded.error().message();

  std::filesystem::copy_file(saved, manifest, std::filesystem::copy_options::overwrite_existing);
  test::truncate_file(manifest, file_size(manifest) - 10);
  loaded = store.load("boot");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("snapshot 'boot'"), std::string::npos);

  std::filesystem::copy_file(saved, manifest, std::filesystem::copy_options::overwrite_existing);
  expect_loads_as(store, image);
}

TEST_F(SnapshotStoreTest, ATruncatedOrMissingPackIsRefused) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("boot", 8, 3);
  ASSERT_TRUE(store.save(image).ok());
  const std::string pack = packs() + "/" + pack_files()[0];
  test::truncate_file(pack, file_size(pack) - 1);
  Expected<SnapshotImage> loaded = store.load("boot");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("missing from the store (1 damaged pack in the store)"),
            std::string::npos)
      << loaded.error().message();
  std::filesystem::remove(pack);
  loaded = store.load("boot");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("map 0 of block 'ram'"), std::string::npos)
      << loaded.error().message();
  EXPECT_NE(loaded.error().message().find("is missing from the store"), std::string::npos);
}

TEST_F(SnapshotStoreTest, ADamagedCopyIsReplacedByAnotherCopyOfThePage) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("boot", 4, 3);
  ASSERT_TRUE(store.save(image).ok());
  const std::string first = packs() + "/" + pack_files()[0];
  // A second copy of the same pack under a later name, then damage the first.
  std::filesystem::copy_file(first, packs() + "/pack-zzzz.pack");
  flip_byte(first, pack_index_bytes(7) + 2 * kSnapshotPageSize);
  expect_loads_as(store, image);
}

TEST_F(SnapshotStoreTest, GarbageCollectionKeepsEverythingWhileAManifestIsDamaged) {
  SnapshotStore store = open_store();
  SnapshotImage a = make_image("a", 8, 1);
  SnapshotImage b = make_image("b", 8, 2);
  ASSERT_TRUE(store.save(a).ok());
  ASSERT_TRUE(store.save(b).ok());
  const uint64_t pages = store.usage()->stored_pages;
  flip_byte(manifests() + "/a.snap", 30);
  ASSERT_TRUE(store.remove("b").ok());
  // b's pages cannot be told apart from pages a damaged 'a' might use.
  EXPECT_EQ(store.usage()->stored_pages, pages);
  // Deleting the damaged one is allowed; then everything goes.
  ASSERT_TRUE(store.remove("a").ok());
  EXPECT_EQ(store.usage()->stored_pages, 0u);
}

TEST_F(SnapshotStoreTest, LeftoversOfACrashAreInvisibleAndCleanedUp) {
  SnapshotStore store = open_store();
  SnapshotImage a = make_image("a", 8, 1);
  ASSERT_TRUE(store.save(a).ok());
  // What a writer killed mid-save leaves: temporaries, and a complete pack
  // whose manifest never made it.
  std::ofstream(manifests() + "/.tmp-b.snap-123-abc") << "half a manifest";
  std::ofstream(packs() + "/.tmp-pack-x.pack-123-abc") << "half a pack";
  SnapshotImage b = make_image("b", 8, 2);
  ASSERT_TRUE(store.save(b).ok());
  std::filesystem::remove(manifests() + "/b.snap");

  Expected<std::vector<SnapshotSummary>> list = store.list();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_FALSE(store.load("b").ok());
  expect_loads_as(store, a);

  ASSERT_TRUE(store.collect_garbage().ok());
  for (const std::string& name : files_in(manifests())) EXPECT_FALSE(name.starts_with(".tmp-"));
  for (const std::string& name : files_in(packs())) EXPECT_FALSE(name.starts_with(".tmp-"));
  EXPECT_EQ(store.usage()->stored_pages, 8u + 1 + 2);
  expect_loads_as(store, a);
}

TEST_F(SnapshotStoreTest, HostileNamesAndAManifestStoredUnderAnotherNameAreRefused) {
  SnapshotStore store = open_store();
  SnapshotImage image = make_image("../escape", 4, 1);
  Error error = store.save(image);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("invalid snapshot name"), std::string::npos);
  EXPECT_TRUE(files_in(manifests()).empty());

  image.name = "real";
  ASSERT_TRUE(store.save(image).ok());
  std::filesystem::rename(manifests() + "/real.snap", manifests() + "/other.snap");
  Expected<SnapshotImage> loaded = store.load("other");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("names snapshot 'real'"), std::string::npos);
}

TEST_F(SnapshotStoreTest, AMissingStoreIsNotCreatedByOpeningItToRead) {
  Expected<SnapshotStore> store = SnapshotStore::open(dir_ / "nowhere", false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().errno_value(), ENOENT);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "nowhere"));
}

TEST_F(SnapshotStoreTest, AtomicWritesReplaceWholeFilesAndLeaveNoTemporaries) {
  Expected<Directory> directory = Directory::open(dir_.path(), false);
  ASSERT_TRUE(directory.ok());
  const std::vector<uint8_t> one(10000, 1);
  const std::vector<uint8_t> two(20000, 2);
  const std::span<const uint8_t> parts_one[] = {std::span(one).first(3000),
                                                std::span(one).subspan(3000)};
  ASSERT_TRUE(write_file_atomic(*directory, "file", parts_one, "test").ok());
  const std::span<const uint8_t> parts_two[] = {two};
  ASSERT_TRUE(write_file_atomic(*directory, "file", parts_two, "test").ok());
  Expected<std::vector<uint8_t>> read = read_whole_file(*directory, "file", 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == two);
  EXPECT_EQ(files_in(dir_.path()), std::vector<std::string>{"file"});
  EXPECT_FALSE(read_whole_file(*directory, "file", 100).ok());  // over the limit
}

}  // namespace
}  // namespace cr16::migration

namespace cr16::migration {
namespace {

using test::make_image;
using test::TempDir;

// The digests of what a machine holds (after a save or load, minus pages
// written since) spare reading and hashing those pages again.
class SnapshotStoreKnownPages : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(SnapshotStoreKnownPages, SaveCompletesTheDigestsAndTrustsKnownOnes) {
  Expected<SnapshotStore> store = SnapshotStore::open(dir_ / "store", true);
  ASSERT_TRUE(store.ok());
  SnapshotImage image = make_image("a", 8, 1, 2);
  ASSERT_TRUE(store->save(image).ok());
  const PageDigests& ram = image.blocks[0].digests;
  ASSERT_EQ(ram.state.size(), 8u);
  EXPECT_EQ(ram.state[0], PageDigests::kKnown);
  EXPECT_EQ(ram.digests[0], sha256(std::span(image.blocks[0].pages[0], kSnapshotPageSize)));
  EXPECT_EQ(ram.state[7], PageDigests::kZero);
  // A known digest is used as given (the caller vouches for it): a page
  // claimed to be another page's content is stored under that name.
  SnapshotImage twin = test::copy_image(image);
  twin.name = "twin";
  twin.blocks[0].digests.digests[1] = twin.blocks[0].digests.digests[0];
  ASSERT_TRUE(store->save(twin).ok());
  Expected<SnapshotImage> loaded = store->load("twin");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(std::memcmp(loaded->blocks[0].pages[1], image.blocks[0].pages[0], kSnapshotPageSize),
            0);
}

TEST_F(SnapshotStoreKnownPages, LoadDoesNotReadPagesTheCallerHolds) {
  Expected<SnapshotStore> store = SnapshotStore::open(dir_ / "store", true);
  ASSERT_TRUE(store.ok());
  SnapshotImage image = make_image("a", 8, 1, 2);
  ASSERT_TRUE(store->save(image).ok());
  PageDigestMap known;
  for (const SnapshotBlock& block : image.blocks) known[block.name] = block.digests;
  // The machine changed RAM page 3 since: only that page is read.
  known["ram"].state[3] = PageDigests::kUnknown;
  SnapshotProgress progress;
  Expected<SnapshotImage> loaded = store->load("a", &progress, nullptr, &known);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(progress.total.load(), 2u * kSnapshotPageSize);
  const SnapshotBlock& ram = loaded->blocks[0];
  for (uint32_t p = 0; p < 8; ++p) EXPECT_EQ(ram.current[p], p != 3) << p;
  ASSERT_NE(ram.pages[3], nullptr);
  EXPECT_EQ(std::memcmp(ram.pages[3], image.blocks[0].pages[3], kSnapshotPageSize), 0);
  EXPECT_EQ(ram.digests.digests[3], image.blocks[0].digests.digests[3]);

  // With every page held, no data page is read at all (only the maps): a
  // damaged copy goes unread; without, it is noticed.
  known["ram"].state[3] = PageDigests::kKnown;
  const std::string pack = dir_ / ("store/packs/" + test::files_in(dir_ / "store/packs")[0]);
  test::flip_byte(pack, pack_index_bytes(9) + 3 * kSnapshotPageSize + 10);
  Expected<SnapshotImage> held = store->load("a", &progress, nullptr, &known);
  ASSERT_TRUE(held.ok()) << held.error().message();
  EXPECT_EQ(progress.total.load(), 0u);
  EXPECT_FALSE(store->load("a").ok());
  // Digests that do not match what the snapshot has are not trusted.
  known["ram"].digests[3][0] ^= 1;
  EXPECT_FALSE(store->load("a", nullptr, nullptr, &known).ok());
}

}  // namespace
}  // namespace cr16::migration

namespace cr16::migration {
namespace {

TEST(SnapshotStoreHostile, FifosAndSymlinksInTheStoreAreRefusedWithoutWaiting) {
  test::TempDir dir;
  Expected<SnapshotStore> store = SnapshotStore::open(dir / "store", true);
  ASSERT_TRUE(store.ok());
  SnapshotImage image = test::make_image("a", 4, 1);
  ASSERT_TRUE(store->save(image).ok());
  ASSERT_EQ(mkfifo((dir / "store/packs/pack-fifo.pack").c_str(), 0644), 0);
  ASSERT_EQ(mkfifo((dir / "store/manifests/f.snap").c_str(), 0644), 0);
  std::filesystem::create_symlink("/etc/passwd", dir / "store/manifests/l.snap");
  Expected<std::vector<SnapshotSummary>> list = store->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_TRUE((*list)[0].damage.ok());
  EXPECT_FALSE((*list)[1].damage.ok());
  EXPECT_FALSE((*list)[2].damage.ok());
  EXPECT_TRUE(store->load("a").ok());  // the FIFO pack is skipped as damaged
  EXPECT_FALSE(store->load("f").ok());
  EXPECT_FALSE(store->load("l").ok());
}

}  // namespace
}  // namespace cr16::migration
