// The snapshot store: a directory of content-addressed pages and one
// manifest per snapshot (docs/snapshots.md).
//
//   DIR/lock                  flock: shared for readers, exclusive for writers
//   DIR/manifests/NAME.snap   one per snapshot (migration/snapshot_format.h)
//   DIR/packs/pack-*.pack     pages keyed by SHA-256, each stored once
//
// A page is stored once however many snapshots use it; zero pages are not
// stored at all. Saving writes one new pack with the pages no pack holds
// yet, then the manifest — each atomically (snapshot_file.h) — so a crash
// at any point leaves every older snapshot intact and the new one either
// complete or invisible. Deleting removes the manifest, then collects
// garbage: packs whose pages no snapshot uses are removed, packs that
// still hold some used pages are rewritten with those only. Loading checks
// the manifest's SHA-256 and every page's before returning anything.
//
// Every method blocks on the disk (and hashes on up to `threads` threads):
// call from worker threads or at start-up, never from the main loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "migration/snapshot_file.h"
#include "migration/snapshot_format.h"
#include "util/error.h"

namespace cr16::migration {

/// How far an operation is: `done` of `total` units (bytes of guest
/// memory hashed, written or read), updated by the worker, read by anyone.
struct SnapshotProgress {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
};

/// What is known about the pages of one block: per page nothing, that it
/// is a zero page, or its SHA-256.
struct PageDigests {
  static constexpr uint8_t kUnknown = 0;
  static constexpr uint8_t kZero = 1;
  static constexpr uint8_t kKnown = 2;
  std::vector<uint8_t> state;         // one per page
  std::vector<Sha256Digest> digests;  // one per page; meaningful where kKnown
  void reset(size_t pages) {
    state.assign(pages, kUnknown);
    digests.assign(pages, Sha256Digest{});
  }
};
/// PageDigests by block name.
using PageDigestMap = std::map<std::string, PageDigests>;

/// One block of guest memory, page by page.
struct SnapshotBlock {
  std::string name;
  uint32_t base = 0;
  uint32_t size = 0;  // a multiple of kSnapshotPageSize
  bool read_only = false;
  /// size / kSnapshotPageSize entries: the page's bytes, or nullptr for a
  /// zero page. They point into SnapshotImage::storage (pages with equal
  /// contents may share one).
  std::vector<const uint8_t*> pages;
  /// save(): digests the caller knows already (empty, or one state per
  /// page; a kKnown digest must be the page's), completed by save().
  /// load(): the digest of every page.
  PageDigests digests;
  /// load() only: true for pages the caller holds already (`known` said so);
  /// they were not read (pages[] is nullptr) and need not be written.
  std::vector<bool> current;
};

/// The memory behind HugePageAllocator: anonymous memory aligned to 2 MiB,
/// offered for transparent huge pages (std::bad_alloc when there is none).
void* allocate_huge_pages(size_t bytes);
void free_huge_pages(void* pointer, size_t bytes);

/// Allocates from anonymous memory aligned to 2 MiB and offered to the
/// kernel for transparent huge pages, and leaves bytes uninitialised (the
/// kernel zero-fills): a fresh 16 MiB buffer then costs a few page faults,
/// not thousands. For the image buffers below.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t count) { return static_cast<T*>(allocate_huge_pages(count * sizeof(T))); }
  void deallocate(T* pointer, size_t count) { free_huge_pages(pointer, count * sizeof(T)); }
  /// Default-initialisation: resize() does not write the bytes.
  template <typename U>
  void construct(U* pointer) {
    ::new (static_cast<void*>(pointer)) U;
  }
  template <typename U, typename... Args>
  void construct(U* pointer, Args&&... args) {
    ::new (static_cast<void*>(pointer)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};
/// The bytes of an image buffer.
using ArenaBytes = std::vector<uint8_t, HugePageAllocator<uint8_t>>;
/// Page-sized buffers an image's pages live in. Reused from one operation
/// to the next.
using SnapshotArena = std::shared_ptr<ArenaBytes>;

/// A machine as saved or loaded: the manifest's facts and full memory.
struct SnapshotImage {
  std::string name;
  uint32_t id = 0;  // assigned by save()
  int64_t date_seconds = 0;
  uint32_t date_nanoseconds = 0;
  int64_t vm_clock_ns = 0;
  std::string machine;
  std::vector<uint8_t> state;  // the state sections, clock first
  std::vector<SnapshotBlock> blocks;
  /// Where the pages are (owned with the image).
  SnapshotArena storage;
};

/// A line of "info snapshots".
struct SnapshotSummary {
  std::string name;
  uint32_t id = 0;
  int64_t date_seconds = 0;
  uint32_t date_nanoseconds = 0;
  int64_t vm_clock_ns = 0;
  uint64_t vm_size = 0;
  /// Not ok when the manifest cannot be used (damaged, truncated): the
  /// snapshot is listed by its file name with the reason.
  Error damage;
};

/// What the store occupies on disk.
struct StoreUsage {
  uint64_t manifests = 0;
  uint64_t manifest_bytes = 0;
  uint64_t packs = 0;
  uint64_t pack_bytes = 0;
  uint64_t stored_pages = 0;  // page slots in undamaged packs
  uint64_t total_bytes() const { return manifest_bytes + pack_bytes; }
};

class SnapshotStore {
 public:
  /// Opens the store in `path`. With `create` the directories are made as
  /// needed (the parent of `path` must exist); without, a missing store is
  /// an Error with errno ENOENT.
  static Expected<SnapshotStore> open(const std::string& path, bool create, unsigned threads = 2);

  const std::string& path() const { return root_.path(); }

  /// Saves `image` under image.name, replacing a snapshot of that name
  /// (atomically: the old one stays complete until the new one is). Sets
  /// image.id. Then collects garbage. `pages_read`, when given, is called
  /// once the image's pages were read for the last time (hashed and copied
  /// into the new pack) and before anything becomes visible; an error from
  /// it abandons the save and is returned (for images whose pages are the
  /// guest's own memory: the caller checks nothing wrote to them meanwhile).
  /// With `replace` false, an existing snapshot of that name is an error
  /// ("snapshot 'boot' already exists"), as QMP's snapshot-save has it.
  Error save(SnapshotImage& image, SnapshotProgress* progress = nullptr,
             const std::function<Error()>& pages_read = {}, bool replace = true);
  /// Loads the snapshot named `name` (or, when no name matches, whose id is
  /// `name`), with every checksum verified. Errors: not found, a damaged
  /// or truncated manifest, a missing, truncated or damaged page.
  /// The pages go to `arena` (resized as needed; a new one when null).
  /// `known` (may be null): the digests of what the machine holds now;
  /// pages whose digest matches are neither read nor checked again (they
  /// are marked `current`).
  Expected<SnapshotImage> load(const std::string& name, SnapshotProgress* progress = nullptr,
                               SnapshotArena arena = nullptr, const PageDigestMap* known = nullptr);
  /// Deletes the snapshot named `name` (or with that id), damaged or not,
  /// then collects garbage. Error when there is none.
  Error remove(const std::string& name);
  /// Every snapshot, by id (damaged ones last, by file name).
  Expected<std::vector<SnapshotSummary>> list();
  /// What the store occupies.
  Expected<StoreUsage> usage();
  /// Removes unused pages (see above). Does nothing while any manifest is
  /// damaged: its pages cannot be told apart from unused ones. Takes the
  /// exclusive lock.
  Error collect_garbage();

 private:
  struct PackFile;
  struct ManifestFile;
  SnapshotStore(Directory root, Directory manifests, Directory packs, unsigned threads)
      : root_(std::move(root)),
        manifests_(std::move(manifests)),
        packs_(std::move(packs)),
        threads_(threads) {}

  Expected<std::vector<PackFile>> read_packs();
  Expected<std::vector<ManifestFile>> read_manifests();
  /// The manifest file of `name`: NAME.snap, or the one whose id is `name`.
  Expected<std::string> find_manifest(const std::string& name,
                                      const std::vector<ManifestFile>* known);
  Error collect_garbage_locked(const std::vector<ManifestFile>& manifests);
  /// Reads the pages named by `digests` (distinct) into `out`
  /// (digests.size() pages), each checked against its digest (another copy
  /// replaces a damaged one); `describe(i)` names page i in errors.
  Error read_pages(const std::vector<PackFile>& packs, std::span<const Sha256Digest> digests,
                   uint8_t* out, const std::function<std::string(size_t)>& describe,
                   SnapshotProgress* progress);
  /// Every block's page digests (kZeroPageEntry for zero pages), from its
  /// map pages.
  using PageTables = std::vector<std::vector<Sha256Digest>>;
  Expected<PageTables> read_page_tables(const Manifest& manifest,
                                        const std::vector<PackFile>& packs,
                                        const std::string& what);
  Error compact_pack(const PackFile& pack, const std::vector<uint32_t>& keep);

  Directory root_;
  Directory manifests_;
  Directory packs_;
  unsigned threads_ = 2;
};

}  // namespace cr16::migration
