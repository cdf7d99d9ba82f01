// The channel base class (in the style of QEMU's QIOChannel): vectored
// reads/writes with fd passing and flags, a feature bitmask, "would block"
// as a distinct result, watches on a Loop, and *_all helpers that loop over
// partial I/O.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/loop.h"
#include "util/error.h"

namespace cr16::io {

/// What a channel supports (bitmask, see Channel::features()).
enum ChannelFeature : uint32_t {
  kFeatureFdPass = 1u << 0,         // writev/readv may carry file descriptors
  kFeatureShutdown = 1u << 1,       // shutdown() is supported
  kFeatureListen = 1u << 2,         // a listening socket (accept())
  kFeatureWriteZeroCopy = 1u << 3,  // writev accepts kWriteZeroCopy
  kFeatureReadMsgPeek = 1u << 4,    // readv accepts kReadMsgPeek
  kFeatureSeekable = 1u << 5,       // seek(), preadv(), pwritev() work
};

/// Flags for Channel::writev.
enum WriteFlag : uint32_t {
  kWriteZeroCopy = 1u << 0,  // MSG_ZEROCOPY: buffers must stay untouched until flush()
};

/// Flags for Channel::readv.
enum ReadFlag : uint32_t {
  kReadMsgPeek = 1u << 0,  // look at the data without consuming it
};

enum class ShutdownDirection : uint8_t { kRead, kWrite, kBoth };

/// Outcome of Channel::flush().
enum class FlushResult : uint8_t {
  kNothingQueued,  // nothing was pending since the last flush
  kCompleted,      // everything pending was completed (zero-copy really happened)
  kCopied,         // completed, but the kernel fell back to copying every send
};

/// Result of one read or write: a byte count, "would block" (non-blocking
/// channel not ready), end of file (reads only), or an Error.
class [[nodiscard]] IoResult {
 public:
  enum class Status : uint8_t { kBytes, kWouldBlock, kEof, kError };

  static IoResult bytes(size_t count) { return IoResult(Status::kBytes, count); }
  static IoResult would_block() { return IoResult(Status::kWouldBlock, 0); }
  static IoResult eof() { return IoResult(Status::kEof, 0); }
  IoResult(Error error) : status_(Status::kError), error_(std::move(error)) {}  // NOLINT

  Status status() const { return status_; }
  bool is_bytes() const { return status_ == Status::kBytes; }
  bool is_would_block() const { return status_ == Status::kWouldBlock; }
  bool is_eof() const { return status_ == Status::kEof; }
  bool is_error() const { return status_ == Status::kError; }
  /// Bytes transferred (0 unless is_bytes()).
  size_t count() const { return count_; }
  /// The error (ok unless is_error()).
  const Error& error() const { return error_; }

 private:
  IoResult(Status status, size_t count) : status_(status), count_(count) {}
  Status status_;
  size_t count_ = 0;
  Error error_;
};

/// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Gives up ownership and returns the fd.
  int release() { return std::exchange(fd_, -1); }
  /// Closes the current fd (if any) and owns `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// The base of every channel. A channel is used by one thread at a time,
/// except shutdown(), which may be called from any thread.
class Channel {
 public:
  using WatchCallback = std::function<bool(uint32_t revents)>;

  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// ChannelFeature bits this channel supports.
  uint32_t features() const { return features_; }
  bool has_feature(ChannelFeature feature) const { return (features_ & feature) != 0; }
  /// A name for logs and error messages.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  /// Reads into `iov`. Received fds (kFeatureFdPass) are appended to `fds`
  /// when given (and closed when not). `flags` are ReadFlag bits. Returns
  /// bytes, kEof, kWouldBlock (non-blocking mode) or an Error.
  IoResult readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds = nullptr,
                 uint32_t flags = 0);
  /// Writes `iov`, possibly partially, with optional fds (kFeatureFdPass;
  /// the caller keeps ownership) and WriteFlag bits. Rejects fds without
  /// kFeatureFdPass, kWriteZeroCopy without kFeatureWriteZeroCopy, and fds
  /// combined with kWriteZeroCopy.
  IoResult writev(std::span<const iovec> iov, std::span<const int> fds = {}, uint32_t flags = 0);
  /// Single-buffer forms of readv/writev.
  IoResult read(void* buffer, size_t length, uint32_t flags = 0);
  IoResult write(const void* buffer, size_t length, uint32_t flags = 0);
  /// Positional I/O (kFeatureSeekable); does not move the channel offset.
  IoResult preadv(std::span<const iovec> iov, uint64_t offset);
  IoResult pwritev(std::span<const iovec> iov, uint64_t offset);

  /// Switches blocking mode (channels start blocking unless documented).
  Error set_blocking(bool blocking);
  bool is_blocking() const { return blocking_; }

  /// Closes the channel; later I/O fails. Closing twice is harmless.
  virtual Error close() = 0;
  /// Shuts down one or both directions (kFeatureShutdown). Thread-safe,
  /// never blocks.
  virtual Error shutdown(ShutdownDirection direction);
  /// TCP_CORK on/off; a no-op for channels where it means nothing.
  virtual Error set_cork(bool enabled);
  /// Nagle's algorithm on/off (delay=false sets TCP_NODELAY); no-op elsewhere.
  virtual Error set_delay(bool enabled);
  /// Moves the offset (kFeatureSeekable); whence is SEEK_SET/CUR/END.
  virtual Expected<uint64_t> seek(int64_t offset, int whence);
  /// Waits for outstanding asynchronous writes (zero-copy) to complete.
  /// Channels without such writes return kNothingQueued.
  virtual Expected<FlushResult> flush();

  /// Calls `callback(revents)` on `loop` while any of `conditions` is ready;
  /// return false to remove it. The channel must outlive the watch (remove
  /// it with loop.remove_watch(id) first).
  virtual Loop::WatchId create_watch(Loop& loop, uint32_t conditions, WatchCallback callback);

  /// Blocks until one of `conditions` is ready. With a loop, runs its
  /// iterations meanwhile (other handlers keep running); without, poll(2)s
  /// the channel's fds. Returns an Error if the loop quits first.
  Error wait(uint32_t conditions, Loop* loop = nullptr);
  /// Whether `conditions` (kIn, kOut) hold right now (poll() with no wait):
  /// a blocking channel checks this before acting on a readiness report,
  /// which may be stale. Channels without fds are always ready.
  bool ready_now(uint32_t conditions) const;

 protected:
  Channel() = default;
  void set_features(uint32_t features) { features_ = features; }
  void add_features(uint32_t features) { features_ |= features; }
  void remove_features(uint32_t features) { features_ &= ~features; }

  virtual IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                            uint32_t flags) = 0;
  virtual IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds,
                             uint32_t flags) = 0;
  virtual IoResult do_preadv(std::span<const iovec> iov, uint64_t offset);
  virtual IoResult do_pwritev(std::span<const iovec> iov, uint64_t offset);
  virtual Error do_set_blocking(bool blocking) = 0;

  /// The fds the default create_watch()/wait() use: kIn on read_fd(),
  /// kOut on write_fd(). Both -1 means "always ready" (memory channels).
  virtual int read_fd() const { return -1; }
  virtual int write_fd() const { return -1; }

 private:
  uint32_t features_ = 0;
  bool blocking_ = true;
  std::string name_;
};

/// Total byte length of an iovec array.
size_t iov_size(std::span<const iovec> iov);

/// Writes all of `iov`, looping over partial writes; on would-block waits
/// (on `loop` if given, else poll). `fds` are sent once, with the first
/// chunk; `flags` apply to every chunk.
Error write_all(Channel& channel, std::span<const iovec> iov, Loop* loop = nullptr,
                std::span<const int> fds = {}, uint32_t flags = 0);
Error write_all(Channel& channel, const void* buffer, size_t length, Loop* loop = nullptr,
                uint32_t flags = 0);

/// Reads exactly the size of `iov`; end of file before that is an Error.
/// Received fds (if any) are appended to `fds` when given.
Error read_all(Channel& channel, std::span<const iovec> iov, Loop* loop = nullptr,
               std::vector<UniqueFd>* fds = nullptr);
Error read_all(Channel& channel, void* buffer, size_t length, Loop* loop = nullptr);

/// Like read_all, but end of file before the first byte returns false
/// (a clean end of stream); end of file in the middle is an Error.
Expected<bool> read_all_or_eof(Channel& channel, std::span<const iovec> iov, Loop* loop = nullptr,
                               std::vector<UniqueFd>* fds = nullptr);

}  // namespace cr16::io
