// SHA-256 for the snapshot store (OpenSSL): the key of every stored page,
// the checksum of every manifest and pack index. Hashing 4 KiB pages is
// the store's hot path, so page_digest() reuses one digest context per
// thread and fetches the algorithm once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cr16::migration {

/// A SHA-256 digest.
using Sha256Digest = std::array<uint8_t, 32>;

/// The SHA-256 of `bytes`. Any thread.
Sha256Digest sha256(std::span<const uint8_t> bytes);

/// Incremental SHA-256 over several pieces. One thread at a time.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const uint8_t> bytes);
  /// The digest of everything given so far; the object starts over.
  Sha256Digest finish();

 private:
  struct Context;
  Context* context_;
};

/// Hashes `count` pages of `page_size` bytes starting at `pages` into
/// `digests` (count entries), splitting the work over up to `threads`
/// threads (the calling one included). `skip`, when given, marks pages
/// not to hash (their digest is left as it was). Blocking; any thread.
void hash_pages(const uint8_t* pages, size_t page_size, size_t count, Sha256Digest* digests,
                unsigned threads, const bool* skip = nullptr);

/// The same for pages anywhere in memory: `digests[i]` = SHA-256 of the
/// `page_size` bytes at `pages[i]`.
void hash_page_list(std::span<const uint8_t* const> pages, size_t page_size, Sha256Digest* digests,
                    unsigned threads);

/// Runs `work(first, end)` over [0, count) split into up to `threads`
/// contiguous ranges, each at least `min_per_thread` long, on as many
/// threads (the calling one included); returns when all are done.
void parallel_for(size_t count, unsigned threads, size_t min_per_thread,
                  const std::function<void(size_t first, size_t end)>& work);

/// The digest as 64 lowercase hex digits.
std::string to_hex(const Sha256Digest& digest);
/// Parses 64 hex digits; nullopt for anything else.
std::optional<Sha256Digest> digest_from_hex(std::string_view text);

}  // namespace cr16::migration
