// The host file behind the flash array (-pflash, -drive if=pflash). Opening
// it is strict: an existing regular file of exactly the flash size (a new
// erased one only when asked), locked so no second process can use it.
// Changes are copied on the machine thread (a memcpy of the touched 4 KiB
// blocks) and written to the file by a writer thread, in order, so the
// machine thread never waits on the disk and a host I/O error never
// reaches the guest: the array in memory stays the truth, the error is
// reported once on stderr, and the writes are retried with the next change
// and at the end.
//
// With -snapshot the file is an overlay's base instead (FlashBackingMode::
// kOverlay): it is opened read-only under a shared lock, read once, and
// never written; changes live only in the in-memory array (the throw-away
// overlay) and vanish at exit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "util/error.h"

namespace cr16 {

/// How the image file behind the flash is used.
enum class FlashBackingMode : uint8_t {
  kWriteBack,  // changes are written back to the file (-pflash)
  kOverlay,    // -snapshot: the file is only read; changes stay in memory
};

class FlashBacking {
 public:
  /// Write-back granularity: a change anywhere in a block rewrites the block.
  static constexpr uint32_t kBlockSize = 4096;

  /// Opens `path` read-write for a flash of `size` bytes (a multiple of
  /// kBlockSize). Errors, each naming the file: missing (unless
  /// `create_missing`: then an erased image, all 0xFF, of `size` bytes is
  /// created), not a regular file, a size other than `size` (both sizes
  /// named), or locked by another process (an OFD lock, or flock where OFD
  /// locks are missing; never waits). Blocks only for the open and, when
  /// creating, the initial write: call before the machine runs.
  /// With kOverlay the file is opened read-only under a shared lock (a
  /// process writing it conflicts; other -snapshot users do not), a missing
  /// file with `create_missing` reads as erased and is not created, and
  /// nothing is ever written. `kind` starts every error message ("pflash
  /// 'IMG': ...", "mtd 'IMG': ..."), naming the option the file came from.
  static Expected<std::unique_ptr<FlashBacking>> open(
      const std::string& path, uint32_t size, bool create_missing,
      FlashBackingMode mode = FlashBackingMode::kWriteBack, const std::string& kind = "pflash");
  /// Waits for every queued write (flush()), reports what could not be
  /// saved, then releases the lock and closes the file.
  ~FlashBacking();
  FlashBacking(const FlashBacking&) = delete;
  FlashBacking& operator=(const FlashBacking&) = delete;

  /// Reads the whole image into `out` (`size` bytes). Blocking; start-up only.
  Error read(std::span<uint8_t> out);

  /// Records that [offset, offset+length) of `array` (the whole flash, `size`
  /// bytes) changed: copies the touched blocks and wakes the writer. Never
  /// waits for the disk. Machine thread. An overlay only counts the blocks
  /// (overlay_bytes()); the file is not touched.
  void changed(const uint8_t* array, uint32_t offset, uint32_t length);

  /// Waits until every change so far is in the file (retrying writes that
  /// failed before) and syncs it. Returns an error naming the file when
  /// some changes still could not be written. Blocks: for exit and tests.
  Error flush();

  /// Bytes copied but not yet written (queued, being written or failed).
  size_t unsaved_bytes();

  const std::string& path() const { return path_; }
  /// True for a -snapshot overlay (the file is never written).
  bool overlay() const { return mode_ == FlashBackingMode::kOverlay; }
  /// Overlay: bytes of the image that differ from the file by now (4 KiB
  /// blocks touched since start-up). 0 when writing back.
  size_t overlay_bytes();

 private:
  FlashBacking(int fd, std::string path, uint32_t size, FlashBackingMode mode);
  void writer_main();
  using Blocks = std::map<uint32_t, std::vector<uint8_t>>;  // block offset -> contents
  /// Moves blocks that failed earlier back into the queue (newer copies win).
  void requeue_failed_locked();

  const int fd_;  // -1: an overlay over a file that does not exist (reads as erased)
  const std::string path_;
  const uint32_t size_;
  const FlashBackingMode mode_;
  std::vector<bool> overlay_blocks_;  // overlay: blocks changed in memory

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable writer_idle_;
  Blocks queued_;  // changes not yet taken by the writer
  Blocks failed_;  // writes that failed; retried with the next change or flush
  size_t in_flight_bytes_ = 0;
  bool writing_ = false;
  bool stop_ = false;
  bool error_reported_ = false;
  bool needs_sync_ = false;
  std::string last_error_;
  std::thread writer_;  // started by the first change
};

}  // namespace cr16
