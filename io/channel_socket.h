// The socket channel: TCP (IPv4/IPv6) and UNIX (path/abstract) streams,
// connect/listen (sync and as tasks), accept, SCM_RIGHTS fd passing,
// MSG_PEEK, shutdown, peer credentials, and MSG_ZEROCOPY writes with
// ENOBUFS recovery.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "io/channel.h"
#include "io/socket_address.h"
#include "io/task.h"

namespace cr16::io {

/// Credentials of the process at the other end of a UNIX socket.
struct PeerCredentials {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};

/// Zero-copy bookkeeping of one socket channel.
struct ZeroCopyStats {
  uint64_t queued = 0;             // successful MSG_ZEROCOPY sendmsg calls
  uint64_t completed = 0;          // of those, completions read from MSG_ERRQUEUE
  uint64_t copied_flushes = 0;     // flushes where the kernel copied every send
  uint64_t enobufs_events = 0;     // sendmsg calls that failed with ENOBUFS
  uint64_t enobufs_recovered = 0;  // ENOBUFS resolved by flush-once-and-retry
};

class SocketChannel final : public Channel {
 public:
  /// Most fds passed in one message.
  static constexpr size_t kMaxFds = 16;

  /// Wraps an open stream socket; the channel owns `fd`. Fails if it is not
  /// a socket.
  static Expected<std::unique_ptr<SocketChannel>> from_fd(int fd);
  /// Connects (blocking) to a TCP or UNIX address, trying every resolved
  /// address in turn. TCP connections get SO_ZEROCOPY when the kernel
  /// allows it (kFeatureWriteZeroCopy).
  static Expected<std::unique_ptr<SocketChannel>> connect(const SocketAddress& address);
  /// Listens on an address (UNIX paths are replaced if stale and unlinked
  /// on close). Port 0 picks a free port: see local_address().
  static Expected<std::unique_ptr<SocketChannel>> listen(const SocketAddress& address,
                                                         int backlog = 16);
  /// connect() on a worker thread; `done` runs on `loop`.
  static TaskHandle connect_async(
      Loop& loop, SocketAddress address,
      std::function<void(Expected<std::unique_ptr<SocketChannel>>)> done);
  /// listen() on a worker thread; `done` runs on `loop`.
  static TaskHandle listen_async(
      Loop& loop, SocketAddress address,
      std::function<void(Expected<std::unique_ptr<SocketChannel>>)> done);

  ~SocketChannel() override;

  /// Accepts one connection on a listening channel. Returns nullptr (no
  /// error) when a non-blocking listener has nothing pending.
  Expected<std::unique_ptr<SocketChannel>> accept();

  /// Addresses of this end and of the peer.
  Expected<SocketAddress> local_address() const;
  Expected<SocketAddress> remote_address() const;
  /// SO_PEERCRED of a UNIX peer.
  Expected<PeerCredentials> peer_credentials() const;
  /// The socket fd (owned by the channel), -1 after close().
  int fd() const { return fd_.get(); }
  int family() const { return family_; }

  /// Sets SO_ZEROCOPY and adds kFeatureWriteZeroCopy (TCP only).
  Error enable_zero_copy();
  const ZeroCopyStats& zero_copy_stats() const { return zero_copy_; }

  /// Test switch: with recovery off, a zero-copy ENOBUFS fails at once
  /// instead of flushing the error queue and retrying once.
  void set_enobufs_recovery(bool enabled) { enobufs_recovery_ = enabled; }

  /// Replaces sendmsg(2) for fault injection: the hook returns what
  /// sendmsg would (-1 with errno set on failure).
  using SendmsgHook = std::function<ssize_t(int fd, const msghdr* message, int flags)>;
  void set_sendmsg_hook_for_testing(SendmsgHook hook) { sendmsg_hook_ = std::move(hook); }

  /// Waits until every zero-copy send is complete (reading MSG_ERRQUEUE).
  /// kNothingQueued if nothing was sent with kWriteZeroCopy since the last
  /// flush; kCopied if the kernel copied every one of them (loopback, or a
  /// NIC without scatter-gather); kCompleted otherwise. Blocks.
  Expected<FlushResult> flush() override;

  Error close() override;
  Error shutdown(ShutdownDirection direction) override;
  Error set_cork(bool enabled) override;
  Error set_delay(bool enabled) override;

 protected:
  IoResult do_readv(std::span<const iovec> iov, std::vector<UniqueFd>* fds,
                    uint32_t flags) override;
  IoResult do_writev(std::span<const iovec> iov, std::span<const int> fds, uint32_t flags) override;
  Error do_set_blocking(bool blocking) override;
  int read_fd() const override { return fd_.get(); }
  int write_fd() const override { return fd_.get(); }

 private:
  SocketChannel(int fd, int family);
  ssize_t call_sendmsg(const msghdr* message, int flags);
  /// Reads completions until all are in (block) or the queue is empty.
  Error drain_error_queue(bool block);
  /// Parses one MSG_ERRQUEUE message into the counters.
  Error account_completion(msghdr& message);
  Error closed_error() const;

  UniqueFd fd_;
  int family_;
  std::string unlink_path_;  // UNIX listener path removed on close

  ZeroCopyStats zero_copy_;
  bool sent_since_flush_ = false;            // any zero-copy send since the last flush()
  bool real_zero_copy_since_flush_ = false;  // a completion without the COPIED code
  bool enobufs_recovery_ = true;
  SendmsgHook sendmsg_hook_;
};

/// The error returned when zero-copy sends keep failing with ENOBUFS.
Error zero_copy_enobufs_error(bool recovery_attempted);

}  // namespace cr16::io
