#include "migration/snapshot_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace cr16::migration {
namespace {

// The algorithm, fetched once: an implicit fetch on every init would cost
// more than hashing a page.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm != nullptr ? algorithm : EVP_sha256();
}

// Hashing cannot fail for a fetched SHA-256 and a live context except on
// allocation failure; there is no sane way on from there.
[[noreturn]] void digest_failed() {
  std::abort();
}

void digest_into(EVP_MD_CTX* context, std::span<const uint8_t> bytes, Sha256Digest* out) {
  unsigned length = 0;
  if (EVP_DigestInit_ex2(context, sha256_algorithm(), nullptr) != 1 ||
      EVP_DigestUpdate(context, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(context, out->data(), &length) != 1 || length != out->size()) {
    digest_failed();
  }
}

// A digest context for one batch of work. Not kept per thread: worker
// pool threads outlive OpenSSL's clean-up at exit, and a context they held
// would then leak.
class ScopedContext {
 public:
  ScopedContext() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr) digest_failed();
  }
  ~ScopedContext() { EVP_MD_CTX_free(context_); }
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;
  EVP_MD_CTX* get() const { return context_; }

 private:
  EVP_MD_CTX* context_;
};

}  // namespace

struct Sha256::Context {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : context_(new Context) {
  context_->context = EVP_MD_CTX_new();
  if (context_->context == nullptr ||
      EVP_DigestInit_ex2(context_->context, sha256_algorithm(), nullptr) != 1) {
    digest_failed();
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(context_->context);
  delete context_;
}

void Sha256::update(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  if (EVP_DigestUpdate(context_->context, bytes.data(), bytes.size()) != 1) digest_failed();
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  unsigned length = 0;
  if (EVP_DigestFinal_ex(context_->context, digest.data(), &length) != 1 ||
      length != digest.size() ||
      EVP_DigestInit_ex2(context_->context, sha256_algorithm(), nullptr) != 1) {
    digest_failed();
  }
  return digest;
}

Sha256Digest sha256(std::span<const uint8_t> bytes) {
  Sha256Digest digest{};
  ScopedContext context;
  digest_into(context.get(), bytes, &digest);
  return digest;
}

void parallel_for(size_t count, unsigned threads, size_t min_per_thread,
                  const std::function<void(size_t first, size_t end)>& work) {
  if (min_per_thread == 0) min_per_thread = 1;
  threads = static_cast<unsigned>(
      std::clamp<size_t>(std::min<size_t>(threads, count / min_per_thread), 1, 16));
  if (threads == 1) {
    work(0, count);
    return;
  }
  std::vector<std::thread> helpers;
  const size_t share = (count + threads - 1) / threads;
  for (unsigned t = 1; t < threads; ++t) {
    const size_t first = std::min(count, t * share);
    const size_t end = std::min(count, first + share);
    helpers.emplace_back(work, first, end);
  }
  work(0, std::min(count, share));
  for (std::thread& helper : helpers) helper.join();
}

// Below a few hundred pages a thread costs more than it saves.
constexpr size_t kPagesPerThread = 256;

void hash_pages(const uint8_t* pages, size_t page_size, size_t count, Sha256Digest* digests,
                unsigned threads, const bool* skip) {
  parallel_for(count, threads, kPagesPerThread, [=](size_t first, size_t end) {
    ScopedContext context;
    for (size_t i = first; i < end; ++i) {
      if (skip != nullptr && skip[i]) continue;
      digest_into(context.get(), std::span(pages + i * page_size, page_size), &digests[i]);
    }
  });
}

void hash_page_list(std::span<const uint8_t* const> pages, size_t page_size, Sha256Digest* digests,
                    unsigned threads) {
  parallel_for(pages.size(), threads, kPagesPerThread, [=](size_t first, size_t end) {
    ScopedContext context;
    for (size_t i = first; i < end; ++i) {
      digest_into(context.get(), std::span(pages[i], page_size), &digests[i]);
    }
  });
}

std::string to_hex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(64);
  for (uint8_t byte : digest) {
    text.push_back(kDigits[byte >> 4]);
    text.push_back(kDigits[byte & 15]);
  }
  return text;
}

std::optional<Sha256Digest> digest_from_hex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Sha256Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    int high = nibble(text[2 * i]);
    int low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

}  // namespace cr16::migration
