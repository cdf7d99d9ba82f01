#include "migration/snapshot_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <new>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "migration/ram_blocks.h"

namespace cr16::migration {
namespace {

constexpr const char* kLockName = "lock";
constexpr const char* kManifestDirectory = "manifests";
constexpr const char* kPackDirectory = "packs";
constexpr std::string_view kManifestSuffix = ".snap";
constexpr std::string_view kPackSuffix = ".pack";
constexpr size_t kPage = kSnapshotPageSize;
constexpr int kPackOpenFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

struct DigestHash {
  size_t operator()(const Sha256Digest& digest) const {
    size_t value;
    std::memcpy(&value, digest.data(), sizeof value);  // already uniformly distributed
    return value;
  }
};
template <typename Value>
using DigestMap = std::unordered_map<Sha256Digest, Value, DigestHash>;

bool has_suffix(const std::string& name, std::string_view suffix) {
  return name.size() > suffix.size() && name.ends_with(suffix) &&
         !name.starts_with(kTemporaryPrefix);
}

// The store's files in `directory` that end in `suffix` (temporaries left
// out), sorted by name.
Expected<std::vector<std::string>> files_with_suffix(const Directory& directory,
                                                     std::string_view suffix) {
  Expected<std::vector<std::string>> names = directory.list();
  if (!names) return names.error();
  std::erase_if(*names, [suffix](const std::string& name) { return !has_suffix(name, suffix); });
  std::sort(names->begin(), names->end());
  return names;
}

std::string stem(const std::string& file, std::string_view suffix) {
  return file.substr(0, file.size() - suffix.size());
}

std::string new_pack_name() {
  uint64_t random = 0;
  if (getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    random = static_cast<uint64_t>(now.tv_sec) * 1'000'000'007u +
             static_cast<uint64_t>(now.tv_nsec) + static_cast<uint64_t>(getpid());
  }
  char name[40];
  std::snprintf(name, sizeof name, "pack-%016" PRIx64 ".pack", random);
  return name;
}

/// An open file closed on scope exit.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

Error read_exact(int fd, uint8_t* out, size_t length, uint64_t offset, const std::string& what) {
  while (length > 0) {
    ssize_t got = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error::from_errno("reading " + what, errno);
    if (got == 0) return Error(what + ": truncated (ends at byte " + std::to_string(offset) + ")");
    out += got;
    length -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return Error();
}

std::string short_digest(const Sha256Digest& digest) {
  return to_hex(digest).substr(0, 12);
}

}  // namespace

struct SnapshotStore::PackFile {
  std::string name;
  uint64_t size = 0;
  std::vector<Sha256Digest> digests;  // slot order
  Error damage;                       // not ok: the index cannot be used
  size_t page_offset(uint32_t slot) const {
    return pack_index_bytes(static_cast<uint32_t>(digests.size())) + size_t{slot} * kPage;
  }
};

struct SnapshotStore::ManifestFile {
  std::string file;
  Expected<Manifest> manifest = Error("not read");
};

Expected<SnapshotStore> SnapshotStore::open(const std::string& path, bool create,
                                            unsigned threads) {
  Expected<Directory> root = Directory::open(path, create);
  if (!root) return root.error();
  Expected<Directory> manifests = Directory::open(root->child(kManifestDirectory), create);
  if (!manifests) return manifests.error();
  Expected<Directory> packs = Directory::open(root->child(kPackDirectory), create);
  if (!packs) return packs.error();
  return SnapshotStore(std::move(*root), std::move(*manifests), std::move(*packs),
                       std::max(1u, threads));
}

// ---- Image buffers

void* allocate_huge_pages(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes == 0) bytes = 1;
  // Room to align the start to a huge page; the slack is unmapped again.
  const size_t length = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* mapped = ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(mapped, aligned - start);
  const uintptr_t end = start + length + kHugePage;
  if (end > aligned + length)
    ::munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void free_huge_pages(void* pointer, size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes == 0) bytes = 1;
  ::munmap(pointer, (bytes + kHugePage - 1) / kHugePage * kHugePage);
}

// ---- Reading what is there

Expected<std::vector<SnapshotStore::PackFile>> SnapshotStore::read_packs() {
  Expected<std::vector<std::string>> names = files_with_suffix(packs_, kPackSuffix);
  if (!names) return names.error();
  std::vector<PackFile> packs;
  for (const std::string& name : *names) {
    PackFile pack;
    pack.name = name;
    const std::string what = "pack '" + packs_.child(name) + "'";
    // O_NONBLOCK: a FIFO planted in the store must not make us wait (only
    // regular files are accepted below).
    FileHandle file(::openat(packs_.fd(), name.c_str(), kPackOpenFlags));
    struct stat info {};
    if (file.fd() < 0 || ::fstat(file.fd(), &info) != 0) {
      pack.damage = Error::from_errno(what, errno);
    } else if (!S_ISREG(info.st_mode)) {
      pack.damage = Error(what + ": not a regular file");
    } else {
      pack.size = static_cast<uint64_t>(info.st_size);
      uint8_t preamble[kPackPreambleBytes] = {};
      Error error =
          read_exact(file.fd(), preamble, std::min<uint64_t>(sizeof preamble, pack.size), 0, what);
      Expected<uint32_t> count =
          error.ok() ? decode_pack_preamble(
                           std::span(preamble, std::min<uint64_t>(sizeof preamble, pack.size)),
                           pack.size, what)
                     : Expected<uint32_t>(error);
      if (!count) {
        pack.damage = count.error();
      } else {
        std::vector<uint8_t> index(pack_index_bytes(*count));
        error = read_exact(file.fd(), index.data(), index.size(), 0, what);
        Expected<std::vector<Sha256Digest>> digests =
            error.ok() ? decode_pack_index(index, pack.size, what)
                       : Expected<std::vector<Sha256Digest>>(error);
        if (digests) {
          pack.digests = std::move(*digests);
        } else {
          pack.damage = digests.error();
        }
      }
    }
    packs.push_back(std::move(pack));
  }
  return packs;
}

Expected<std::vector<SnapshotStore::ManifestFile>> SnapshotStore::read_manifests() {
  Expected<std::vector<std::string>> names = files_with_suffix(manifests_, kManifestSuffix);
  if (!names) return names.error();
  std::vector<ManifestFile> manifests;
  for (const std::string& name : *names) {
    ManifestFile entry;
    entry.file = name;
    const std::string tag = stem(name, kManifestSuffix);
    Expected<std::vector<uint8_t>> bytes = read_whole_file(manifests_, name, kMaxManifestBytes);
    if (!bytes) {
      entry.manifest = bytes.error();
    } else {
      entry.manifest = decode_manifest(*bytes, "snapshot '" + tag + "'");
      if (entry.manifest && entry.manifest->name != tag) {
        entry.manifest = Error("snapshot '" + tag + "': the manifest names snapshot '" +
                               entry.manifest->name + "' (renamed by hand?)");
      }
    }
    manifests.push_back(std::move(entry));
  }
  return manifests;
}

Expected<std::string> SnapshotStore::find_manifest(const std::string& name,
                                                   const std::vector<ManifestFile>* known) {
  if (valid_snapshot_name(name)) {
    const std::string file = name + std::string(kManifestSuffix);
    struct stat info {};
    if (::fstatat(manifests_.fd(), file.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) return file;
  }
  std::vector<ManifestFile> read;
  if (known == nullptr) {
    Expected<std::vector<ManifestFile>> all = read_manifests();
    if (!all) return all.error();
    read = std::move(*all);
    known = &read;
  }
  for (const ManifestFile& entry : *known) {
    if (entry.manifest && std::to_string(entry.manifest->id) == name) return entry.file;
  }
  return Error("snapshot '" + name + "' not found", ENOENT);
}

// ---- Reading pages

Error SnapshotStore::read_pages(const std::vector<PackFile>& packs,
                                std::span<const Sha256Digest> digests, uint8_t* out,
                                const std::function<std::string(size_t)>& describe,
                                SnapshotProgress* progress) {
  if (digests.empty()) return Error();
  // Where each page is stored (every copy).
  DigestMap<uint32_t> wanted;
  for (uint32_t i = 0; i < digests.size(); ++i) wanted.emplace(digests[i], i);
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> copies(digests.size());  // (pack, slot)
  size_t damaged_packs = 0;
  for (uint32_t p = 0; p < packs.size(); ++p) {
    const PackFile& pack = packs[p];
    if (!pack.damage.ok()) {
      ++damaged_packs;
      continue;
    }
    for (uint32_t slot = 0; slot < pack.digests.size(); ++slot) {
      auto it = wanted.find(pack.digests[slot]);
      if (it != wanted.end()) copies[it->second].emplace_back(p, slot);
    }
  }
  for (uint32_t i = 0; i < digests.size(); ++i) {
    if (!copies[i].empty()) continue;
    std::string note;
    if (damaged_packs > 0) {
      note = " (" + std::to_string(damaged_packs) + " damaged pack" +
             (damaged_packs > 1 ? "s" : "") + " in the store)";
    }
    return Error(describe(i) + " (" + short_digest(digests[i]) + ") is missing from the store" +
                 note);
  }
  // Pack by pack, in slot order; runs contiguous in both the pack and `out`
  // become one read.
  auto page = [out](uint32_t i) { return out + size_t{i} * kPage; };
  auto read_copies = [&](const std::vector<uint32_t>& which, size_t copy_index) -> Error {
    std::vector<std::vector<std::pair<uint32_t, uint32_t>>> by_pack(packs.size());
    for (uint32_t i : which) {
      const auto [pack, slot] = copies[i][copy_index];
      by_pack[pack].emplace_back(slot, i);
    }
    for (uint32_t p = 0; p < by_pack.size(); ++p) {
      auto& reads = by_pack[p];
      if (reads.empty()) continue;
      std::sort(reads.begin(), reads.end());
      const PackFile& pack = packs[p];
      const std::string what = "pack '" + packs_.child(pack.name) + "'";
      FileHandle handle(::openat(packs_.fd(), pack.name.c_str(), kPackOpenFlags));
      if (handle.fd() < 0) return Error::from_errno(what, errno);
      size_t start = 0;
      while (start < reads.size()) {
        size_t end = start + 1;
        while (end < reads.size() && reads[end].first == reads[end - 1].first + 1 &&
               reads[end].second == reads[end - 1].second + 1) {
          ++end;
        }
        const size_t length = (end - start) * kPage;
        if (Error error = read_exact(handle.fd(), page(reads[start].second), length,
                                     pack.page_offset(reads[start].first), what);
            !error.ok()) {
          return error;
        }
        if (progress) progress->done += length;
        start = end;
      }
    }
    return Error();
  };
  std::vector<uint32_t> all(digests.size());
  for (uint32_t i = 0; i < digests.size(); ++i) all[i] = i;
  if (Error error = read_copies(all, 0); !error.ok()) return error;

  // Every page must hash to its name; a damaged copy is replaced by another
  // copy when the store has one.
  std::vector<Sha256Digest> actual(digests.size());
  hash_pages(out, kPage, digests.size(), actual.data(), threads_);
  if (progress) progress->done += digests.size() * kPage;
  for (uint32_t i = 0; i < digests.size(); ++i) {
    if (actual[i] == digests[i]) continue;
    bool repaired = false;
    for (size_t copy = 1; copy < copies[i].size() && !repaired; ++copy) {
      if (!read_copies({i}, copy).ok()) continue;
      repaired = sha256(std::span(page(i), kPage)) == digests[i];
    }
    if (!repaired) {
      return Error(describe(i) + " is damaged in pack '" + packs[copies[i][0].first].name +
                   "' (SHA-256 mismatch)");
    }
  }
  return Error();
}

Expected<SnapshotStore::PageTables> SnapshotStore::read_page_tables(
    const Manifest& manifest, const std::vector<PackFile>& packs, const std::string& what) {
  std::vector<uint8_t> maps(manifest.digests.size() * kPage);
  // Where each map is first used, for messages.
  std::vector<std::string> first_use(manifest.digests.size());
  for (const ManifestBlock& block : manifest.blocks) {
    for (uint32_t m = 0; m < block.maps.size(); ++m) {
      const uint32_t reference = block.maps[m];
      if (reference != 0 && first_use[reference - 1].empty()) {
        first_use[reference - 1] =
            what + ": map " + std::to_string(m) + " of block '" + block.name + "'";
      }
    }
  }
  if (Error error = read_pages(
          packs, manifest.digests, maps.data(), [&](size_t i) { return first_use[i]; }, nullptr);
      !error.ok()) {
    return error;
  }
  PageTables tables;
  for (const ManifestBlock& block : manifest.blocks) {
    const uint32_t page_count = block.size / kPage;
    std::vector<Sha256Digest> pages(page_count, kZeroPageEntry);
    for (uint32_t m = 0; m < block.maps.size(); ++m) {
      const uint32_t reference = block.maps[m];
      if (reference == 0) continue;
      const uint32_t first = m * kPagesPerMap;
      const uint32_t count = std::min(kPagesPerMap, page_count - first);
      if (Error error = decode_map_page(
              maps.data() + size_t{reference - 1} * kPage, count, pages.data() + first,
              what + ": map " + std::to_string(m) + " of block '" + block.name + "'");
          !error.ok()) {
        return error;
      }
    }
    tables.push_back(std::move(pages));
  }
  return tables;
}

// ---- Save

Error SnapshotStore::save(SnapshotImage& image, SnapshotProgress* progress,
                          const std::function<Error()>& pages_read, bool replace) {
  if (!valid_snapshot_name(image.name)) return invalid_snapshot_name(image.name);
  const std::string what = "saving snapshot '" + image.name + "'";
  Manifest manifest;
  manifest.name = image.name;
  manifest.date_seconds = image.date_seconds;
  manifest.date_nanoseconds = image.date_nanoseconds;
  manifest.vm_clock_ns = image.vm_clock_ns;
  manifest.machine = image.machine;
  manifest.state = image.state;

  uint64_t total_bytes = 0;
  for (const SnapshotBlock& block : image.blocks) {
    if (block.size == 0 || block.size % kPage != 0 || block.size > kMaxSnapshotBlockSize ||
        block.pages.size() != block.size / kPage) {
      return Error(what + ": block '" + block.name + "' has a bad size");
    }
    total_bytes += block.size;
  }
  if (progress) {
    progress->total = total_bytes * 2;
    progress->done = 0;
  }
  // The digest of every page: zero pages are found and left out; digests
  // the caller knows already are taken as they are (pages unchanged since
  // an earlier save or load hashed them); the rest are computed.
  std::vector<const uint8_t*> to_hash;
  std::vector<std::pair<size_t, uint32_t>> hashed_home;  // (block, page)
  uint64_t data_pages = 0;
  for (size_t b = 0; b < image.blocks.size(); ++b) {
    SnapshotBlock& block = image.blocks[b];
    const bool hinted = block.digests.state.size() == block.pages.size() &&
                        block.digests.digests.size() == block.pages.size();
    if (!hinted) block.digests.reset(block.pages.size());
    for (uint32_t p = 0; p < block.pages.size(); ++p) {
      const uint8_t* page = block.pages[p];
      uint8_t& state = block.digests.state[p];
      if (page == nullptr || state == PageDigests::kZero ||
          (state == PageDigests::kUnknown && page_is_zero(page))) {
        state = PageDigests::kZero;
        continue;
      }
      ++data_pages;
      if (state == PageDigests::kKnown) continue;
      to_hash.push_back(page);
      hashed_home.emplace_back(b, p);
    }
  }
  std::vector<Sha256Digest> hashed(to_hash.size());
  hash_page_list(to_hash, kPage, hashed.data(), threads_);
  for (size_t k = 0; k < to_hash.size(); ++k) {
    const auto [b, p] = hashed_home[k];
    image.blocks[b].digests.state[p] = PageDigests::kKnown;
    image.blocks[b].digests.digests[p] = hashed[k];
  }
  manifest.vm_size = data_pages * kPage + image.state.size();
  if (progress) progress->done = total_bytes;

  // The page maps: one map page per 128 pages, none where all are zero.
  std::vector<uint8_t> map_bytes;
  std::vector<std::pair<size_t, uint32_t>> map_home;  // (block, map) of each map page
  for (size_t b = 0; b < image.blocks.size(); ++b) {
    const SnapshotBlock& block = image.blocks[b];
    const uint32_t page_count = block.size / kPage;
    for (uint32_t m = 0; m < map_count(page_count); ++m) {
      const uint32_t first = m * kPagesPerMap;
      const uint32_t count = std::min(kPagesPerMap, page_count - first);
      std::vector<Sha256Digest> entries(count, kZeroPageEntry);
      bool any = false;
      for (uint32_t i = 0; i < count; ++i) {
        if (block.digests.state[first + i] != PageDigests::kKnown) continue;
        entries[i] = block.digests.digests[first + i];
        any = true;
      }
      if (!any) continue;
      map_bytes.resize(map_bytes.size() + kPage);
      encode_map_page(entries, map_bytes.data() + map_bytes.size() - kPage);
      map_home.emplace_back(b, m);
    }
  }
  std::vector<Sha256Digest> map_digests(map_home.size());
  hash_pages(map_bytes.data(), kPage, map_home.size(), map_digests.data(), threads_);

  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kExclusive);
  if (!lock) return lock.error().with_context(what);
  remove_temporaries(manifests_);
  remove_temporaries(packs_);
  Expected<std::vector<ManifestFile>> manifests = read_manifests();
  if (!manifests) return manifests.error().with_context(what);
  if (!replace) {
    const std::string existing = image.name + std::string(kManifestSuffix);
    for (const ManifestFile& entry : *manifests) {
      if (entry.file == existing) return Error("snapshot '" + image.name + "' already exists");
    }
  }
  Expected<std::vector<PackFile>> packs = read_packs();
  if (!packs) return packs.error().with_context(what);
  DigestMap<bool> stored;
  for (const PackFile& pack : *packs) {
    if (!pack.damage.ok()) continue;
    for (const Sha256Digest& digest : pack.digests) stored.emplace(digest, true);
  }

  // What goes into the new pack: every page (data or map) no pack holds.
  std::vector<const uint8_t*> new_pages;
  std::vector<Sha256Digest> new_digests;
  auto add_if_new = [&](const Sha256Digest& digest, const uint8_t* page) {
    if (stored.emplace(digest, true).second) {
      new_pages.push_back(page);
      new_digests.push_back(digest);
    }
  };
  for (const SnapshotBlock& block : image.blocks) {
    for (uint32_t p = 0; p < block.pages.size(); ++p) {
      if (block.digests.state[p] == PageDigests::kKnown) {
        add_if_new(block.digests.digests[p], block.pages[p]);
      }
    }
  }
  DigestMap<uint32_t> map_reference;
  for (const SnapshotBlock& block : image.blocks) {
    ManifestBlock entry;
    entry.name = block.name;
    entry.base = block.base;
    entry.size = block.size;
    entry.read_only = block.read_only;
    entry.maps.assign(map_count(block.size / kPage), 0);
    manifest.blocks.push_back(std::move(entry));
  }
  for (size_t k = 0; k < map_home.size(); ++k) {
    auto [it, added] =
        map_reference.emplace(map_digests[k], static_cast<uint32_t>(manifest.digests.size() + 1));
    if (added) {
      manifest.digests.push_back(map_digests[k]);
      add_if_new(map_digests[k], map_bytes.data() + k * kPage);
    }
    manifest.blocks[map_home[k].first].maps[map_home[k].second] = it->second;
  }

  uint32_t id = 0;
  for (const ManifestFile& entry : *manifests) {
    if (entry.manifest) id = std::max(id, entry.manifest->id);
  }
  manifest.id = id + 1;
  Expected<std::vector<uint8_t>> bytes = encode_manifest(manifest);
  if (!bytes) return bytes.error().with_context(what);
  const std::string file = manifest.name + std::string(kManifestSuffix);

  // The pages are read (hashed, then copied into the pack) for the last
  // time here: `pages_read` may still refuse the save.
  std::vector<uint8_t> index;
  std::vector<std::span<const uint8_t>> parts;
  std::optional<AtomicFile> pack;
  if (!new_pages.empty()) {
    index = encode_pack_index(new_digests);
    parts.push_back(index);
    for (const uint8_t* page : new_pages) {
      // Neighbouring pages of a block go out as one piece.
      if (parts.size() > 1 && parts.back().data() + parts.back().size() == page) {
        parts.back() = std::span(parts.back().data(), parts.back().size() + kPage);
      } else {
        parts.emplace_back(page, kPage);
      }
    }
    Expected<AtomicFile> created = AtomicFile::create(packs_, new_pack_name(), "pack");
    if (!created) return created.error().with_context(what);
    pack.emplace(std::move(*created));
    if (Error error = pack->write(parts); !error.ok()) return error.with_context(what);
  }
  if (pages_read) {
    if (Error error = pages_read(); !error.ok()) return error;
  }

  // The pack must be in place (durably) before the manifest that needs it;
  // the two files' contents are synced at the same time, on two threads,
  // then the manifest is renamed into place last.
  Error pack_error;
  std::thread pack_writer;
  if (pack) {
    pack_writer = std::thread([&] {
      pack_error = pack->sync();
      if (pack_error.ok()) pack_error = pack->commit();
    });
  }
  Expected<AtomicFile> manifest_file = AtomicFile::create(manifests_, file, "manifest");
  Error manifest_error = manifest_file.take_error();
  const std::span<const uint8_t> part = *bytes;
  if (manifest_error.ok()) manifest_error = manifest_file->write(std::span(&part, 1));
  if (manifest_error.ok()) manifest_error = manifest_file->sync();
  if (pack_writer.joinable()) pack_writer.join();
  if (!pack_error.ok()) return pack_error.with_context(what);
  if (progress) progress->done = progress->total.load();
  if (manifest_error.ok()) manifest_error = manifest_file->commit();
  if (!manifest_error.ok()) return manifest_error.with_context(what);
  image.id = manifest.id;

  // The snapshot is saved; what follows only reclaims space (a replaced
  // snapshot's pages, packs a crash left behind) and may fail harmlessly.
  std::erase_if(*manifests, [&](const ManifestFile& entry) { return entry.file == file; });
  ManifestFile saved;
  saved.file = file;
  saved.manifest = std::move(manifest);
  manifests->push_back(std::move(saved));
  (void)collect_garbage_locked(*manifests);
  return Error();
}

// ---- Load

Expected<SnapshotImage> SnapshotStore::load(const std::string& name, SnapshotProgress* progress,
                                            SnapshotArena arena, const PageDigestMap* known) {
  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kShared);
  if (!lock) return lock.error();
  Expected<std::string> file = find_manifest(name, nullptr);
  if (!file) return file.error();
  const std::string tag = stem(*file, kManifestSuffix);
  const std::string what = "snapshot '" + tag + "'";
  Expected<std::vector<uint8_t>> bytes = read_whole_file(manifests_, *file, kMaxManifestBytes);
  if (!bytes) return bytes.error().with_context(what);
  Expected<Manifest> manifest = decode_manifest(*bytes, what);
  if (!manifest) return manifest.error();
  if (manifest->name != tag) {
    return Error(what + ": the manifest names snapshot '" + manifest->name +
                 "' (renamed by hand?)");
  }
  Expected<std::vector<PackFile>> packs = read_packs();
  if (!packs) return packs.error().with_context(what);
  Expected<PageTables> tables = read_page_tables(*manifest, *packs, what);
  if (!tables) return tables.error();

  SnapshotImage image;
  image.name = manifest->name;
  image.id = manifest->id;
  image.date_seconds = manifest->date_seconds;
  image.date_nanoseconds = manifest->date_nanoseconds;
  image.vm_clock_ns = manifest->vm_clock_ns;
  image.machine = manifest->machine;
  image.state = std::move(manifest->state);

  // Which pages must be read: those the caller does not hold already, each
  // distinct one once.
  DigestMap<uint32_t> slot_of;
  std::vector<Sha256Digest> needed;
  std::vector<std::string> first_use;
  std::vector<std::vector<uint32_t>> page_slot(manifest->blocks.size());
  constexpr uint32_t kNoSlot = UINT32_MAX;
  for (size_t b = 0; b < manifest->blocks.size(); ++b) {
    const ManifestBlock& block = manifest->blocks[b];
    const std::vector<Sha256Digest>& table = (*tables)[b];
    SnapshotBlock out;
    out.name = block.name;
    out.base = block.base;
    out.size = block.size;
    out.read_only = block.read_only;
    out.pages.assign(table.size(), nullptr);
    out.current.assign(table.size(), false);
    out.digests.reset(table.size());
    page_slot[b].assign(table.size(), kNoSlot);
    const PageDigests* held = nullptr;
    if (known != nullptr) {
      auto it = known->find(block.name);
      if (it != known->end() && it->second.state.size() == table.size() &&
          it->second.digests.size() == table.size()) {
        held = &it->second;
      }
    }
    for (uint32_t p = 0; p < table.size(); ++p) {
      const Sha256Digest& digest = table[p];
      if (digest == kZeroPageEntry) {
        out.digests.state[p] = PageDigests::kZero;
        out.current[p] = held != nullptr && held->state[p] == PageDigests::kZero;
        continue;
      }
      out.digests.state[p] = PageDigests::kKnown;
      out.digests.digests[p] = digest;
      if (held != nullptr && held->state[p] == PageDigests::kKnown && held->digests[p] == digest) {
        out.current[p] = true;
        continue;
      }
      auto [it, added] = slot_of.emplace(digest, static_cast<uint32_t>(needed.size()));
      if (added) {
        needed.push_back(digest);
        first_use.push_back(what + ": page " + std::to_string(p) + " of block '" + block.name +
                            "'");
      }
      page_slot[b][p] = it->second;
    }
    image.blocks.push_back(std::move(out));
  }
  if (progress) {
    progress->total = uint64_t{needed.size()} * kPage * 2;
    progress->done = 0;
  }
  // Each page to read goes to its own slot of the arena, in the order the
  // snapshot uses them (the order a pack stores them in).
  if (!arena) arena = std::make_shared<ArenaBytes>();
  arena->resize(needed.size() * kPage);
  image.storage = arena;
  if (Error error = read_pages(
          *packs, needed, arena->data(), [&](size_t i) { return first_use[i]; }, progress);
      !error.ok()) {
    return error;
  }
  for (size_t b = 0; b < image.blocks.size(); ++b) {
    SnapshotBlock& out = image.blocks[b];
    for (uint32_t p = 0; p < out.pages.size(); ++p) {
      if (page_slot[b][p] != kNoSlot)
        out.pages[p] = arena->data() + size_t{page_slot[b][p]} * kPage;
    }
  }
  if (progress) progress->done = progress->total.load();
  return image;
}

// ---- Delete, list, usage

Error SnapshotStore::remove(const std::string& name) {
  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kExclusive);
  if (!lock) return lock.error();
  remove_temporaries(manifests_);
  remove_temporaries(packs_);
  Expected<std::vector<ManifestFile>> manifests = read_manifests();
  if (!manifests) return manifests.error();
  Expected<std::string> file = find_manifest(name, &*manifests);
  if (!file) return file.error();
  if (Error error = remove_file(manifests_, *file); !error.ok()) return error;
  if (Error error = manifests_.sync(); !error.ok()) return error;
  std::erase_if(*manifests, [&](const ManifestFile& entry) { return entry.file == *file; });
  return collect_garbage_locked(*manifests);
}

Expected<std::vector<SnapshotSummary>> SnapshotStore::list() {
  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kShared);
  if (!lock) return lock.error();
  Expected<std::vector<ManifestFile>> manifests = read_manifests();
  if (!manifests) return manifests.error();
  std::vector<SnapshotSummary> good;
  std::vector<SnapshotSummary> damaged;
  for (const ManifestFile& entry : *manifests) {
    SnapshotSummary summary;
    if (!entry.manifest) {
      summary.name = stem(entry.file, kManifestSuffix);
      summary.damage = entry.manifest.error();
      damaged.push_back(std::move(summary));
      continue;
    }
    const Manifest& manifest = *entry.manifest;
    summary.name = manifest.name;
    summary.id = manifest.id;
    summary.date_seconds = manifest.date_seconds;
    summary.date_nanoseconds = manifest.date_nanoseconds;
    summary.vm_clock_ns = manifest.vm_clock_ns;
    summary.vm_size = manifest.vm_size;
    good.push_back(std::move(summary));
  }
  std::sort(good.begin(), good.end(),
            [](const SnapshotSummary& a, const SnapshotSummary& b) { return a.id < b.id; });
  good.insert(good.end(), std::make_move_iterator(damaged.begin()),
              std::make_move_iterator(damaged.end()));
  return good;
}

Expected<StoreUsage> SnapshotStore::usage() {
  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kShared);
  if (!lock) return lock.error();
  StoreUsage usage;
  Expected<std::vector<std::string>> names = files_with_suffix(manifests_, kManifestSuffix);
  if (!names) return names.error();
  for (const std::string& name : *names) {
    struct stat info {};
    if (::fstatat(manifests_.fd(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    ++usage.manifests;
    usage.manifest_bytes += static_cast<uint64_t>(info.st_size);
  }
  Expected<std::vector<PackFile>> packs = read_packs();
  if (!packs) return packs.error();
  for (const PackFile& pack : *packs) {
    ++usage.packs;
    usage.pack_bytes += pack.size;
    if (pack.damage.ok()) usage.stored_pages += pack.digests.size();
  }
  return usage;
}

// ---- Garbage collection

Error SnapshotStore::collect_garbage() {
  Expected<StoreLock> lock = StoreLock::acquire(root_, kLockName, StoreLock::Mode::kExclusive);
  if (!lock) return lock.error();
  remove_temporaries(manifests_);
  remove_temporaries(packs_);
  Expected<std::vector<ManifestFile>> manifests = read_manifests();
  if (!manifests) return manifests.error();
  return collect_garbage_locked(*manifests);
}

Error SnapshotStore::collect_garbage_locked(const std::vector<ManifestFile>& manifests) {
  Expected<std::vector<PackFile>> packs = read_packs();
  if (!packs) return packs.error();
  DigestMap<bool> live;
  for (const ManifestFile& entry : manifests) {
    // A damaged manifest, or one whose maps cannot be read, still names
    // pages nobody can tell from unused ones: keep everything until it is
    // deleted or repaired.
    if (!entry.manifest) return Error();
    Expected<PageTables> tables = read_page_tables(*entry.manifest, *packs, entry.file);
    if (!tables) return Error();
    for (const Sha256Digest& digest : entry.manifest->digests) live.emplace(digest, true);
    for (const std::vector<Sha256Digest>& table : *tables) {
      for (const Sha256Digest& digest : table) {
        if (digest != kZeroPageEntry) live.emplace(digest, true);
      }
    }
  }
  // Each used page is kept in one pack: the first (by name) that has it.
  DigestMap<bool> owned;
  Error first_error;
  bool changed = false;
  for (const PackFile& pack : *packs) {
    if (!pack.damage.ok()) continue;  // unreadable index: leave it for a human
    std::vector<uint32_t> keep;
    for (uint32_t slot = 0; slot < pack.digests.size(); ++slot) {
      const Sha256Digest& digest = pack.digests[slot];
      if (live.contains(digest) && owned.emplace(digest, true).second) keep.push_back(slot);
    }
    Error error;
    if (keep.empty()) {
      error = remove_file(packs_, pack.name);
      changed = true;
    } else if (keep.size() < pack.digests.size()) {
      error = compact_pack(pack, keep);
      changed = true;
    }
    if (!error.ok() && first_error.ok()) first_error = error;
  }
  if (changed) {
    if (Error error = packs_.sync(); !error.ok() && first_error.ok()) first_error = error;
  }
  return first_error;
}

Error SnapshotStore::compact_pack(const PackFile& pack, const std::vector<uint32_t>& keep) {
  const std::string what = "pack '" + packs_.child(pack.name) + "'";
  FileHandle handle(::openat(packs_.fd(), pack.name.c_str(), kPackOpenFlags));
  if (handle.fd() < 0) return Error::from_errno(what, errno);
  std::vector<uint8_t> pages(keep.size() * kPage);
  std::vector<Sha256Digest> digests;
  std::vector<const uint8_t*> pointers;
  for (size_t i = 0; i < keep.size(); ++i) {
    uint8_t* page = pages.data() + i * kPage;
    if (Error error = read_exact(handle.fd(), page, kPage, pack.page_offset(keep[i]), what);
        !error.ok()) {
      return error;
    }
    digests.push_back(pack.digests[keep[i]]);
    pointers.push_back(page);
  }
  // Copy only pages that are what they claim: a damaged one stays where it
  // is, with its pack, for loading to report.
  std::vector<Sha256Digest> actual(keep.size());
  hash_page_list(pointers, kPage, actual.data(), threads_);
  if (actual != digests) return Error(what + ": damaged pages; not compacted");
  std::vector<uint8_t> index = encode_pack_index(digests);
  const std::span<const uint8_t> parts[] = {index, pages};
  if (Error error = write_file_atomic(packs_, new_pack_name(), parts, "compact"); !error.ok()) {
    return error;
  }
  return remove_file(packs_, pack.name);
}

}  // namespace cr16::migration
