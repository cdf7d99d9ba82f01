// Zero-copy for real: a thread moves into its own network namespace, brings
// up lo and sets a tiny net.core.optmem_max there, then sends 64 MiB with
// MSG_ZEROCOPY over TCP loopback. The completion notifications exhaust
// optmem, so sendmsg fails with ENOBUFS; the channel must recover by
// flushing the error queue and retrying, and the bytes must arrive intact.
// With recovery switched off the same transfer must fail with ENOBUFS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

#include "io/channel_socket.h"
#include "tests/unit/io/io_test_util.h"

namespace cr16::io {
namespace {

constexpr size_t kTransfer = 64 * 1024 * 1024;
constexpr size_t kChunk = 64 * 1024;
constexpr const char* kOptmemPath = "/proc/sys/net/core/optmem_max";

std::string read_sysctl(const char* path) {
  char buffer[64] = {};
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ssize_t length = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  std::string text(buffer, length > 0 ? static_cast<size_t>(length) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// Moves the calling thread into a new network namespace with lo up and
/// optmem_max set. Returns "" on success, otherwise why it is not possible.
std::string enter_small_optmem_namespace(const char* optmem) {
  if (unshare(CLONE_NEWNET) < 0) {
    return std::string("unshare(CLONE_NEWNET) not permitted: ") + std::strerror(errno);
  }
  int control = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (control < 0 || ioctl(control, SIOCGIFFLAGS, &request) < 0) {
    return std::string("cannot read lo flags: ") + std::strerror(errno);
  }
  request.ifr_flags |= IFF_UP;
  int up = ioctl(control, SIOCSIFFLAGS, &request);
  ::close(control);
  if (up < 0) return std::string("cannot bring lo up: ") + std::strerror(errno);
  int fd = ::open(kOptmemPath, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::string("cannot open ") + kOptmemPath + ": " + std::strerror(errno);
  ssize_t written = ::write(fd, optmem, std::strlen(optmem));
  ::close(fd);
  if (written < 0) return std::string("cannot set optmem_max: ") + std::strerror(errno);
  if (read_sysctl(kOptmemPath) != optmem) return "optmem_max is not per-namespace on this kernel";
  return "";
}

struct TransferOutcome {
  std::string skip_reason;
  Error send_error;
  Error receive_error;
  ZeroCopyStats stats;
  Expected<FlushResult> flush = FlushResult::kNothingQueued;
  bool identical = false;
  size_t received = 0;
};

/// Sends kTransfer bytes with MSG_ZEROCOPY from inside a fresh namespace.
TransferOutcome zero_copy_transfer(bool recovery) {
  TransferOutcome outcome;
  std::vector<uint8_t> payload = make_payload(kTransfer, 3);
  std::thread namespace_thread([&] {
    outcome.skip_reason = enter_small_optmem_namespace("4096");
    if (!outcome.skip_reason.empty()) return;
    auto listener = SocketChannel::listen(SocketAddress::inet("127.0.0.1", 0));
    if (!listener) {
      outcome.send_error = listener.error();
      return;
    }
    auto client = SocketChannel::connect(*(*listener)->local_address());
    if (!client) {
      outcome.send_error = client.error();
      return;
    }
    auto server = (*listener)->accept();
    if (!server || !*server) {
      outcome.send_error = Error("accept failed");
      return;
    }
    SocketChannel& sender = **client;
    SocketChannel& receiver = **server;
    sender.set_enobufs_recovery(recovery);
    std::thread receiver_thread([&] {
      std::vector<uint8_t> received(kTransfer);
      size_t offset = 0;
      while (offset < kTransfer) {
        IoResult result = receiver.read(received.data() + offset, kTransfer - offset);
        if (result.is_error()) {
          outcome.receive_error = result.error();
          break;
        }
        if (result.is_eof()) break;
        offset += result.count();
      }
      outcome.received = offset;
      outcome.identical = offset == kTransfer && received == payload;
    });
    if (!sender.has_feature(kFeatureWriteZeroCopy)) {
      outcome.send_error = Error("SO_ZEROCOPY refused", ENOTSUP);
    } else {
      for (size_t offset = 0; offset < kTransfer && outcome.send_error.ok(); offset += kChunk) {
        outcome.send_error =
            write_all(sender, payload.data() + offset, kChunk, nullptr, kWriteZeroCopy);
      }
    }
    if (outcome.send_error.ok()) outcome.flush = sender.flush();
    outcome.stats = sender.zero_copy_stats();
    (void)sender.shutdown(ShutdownDirection::kBoth);
    receiver_thread.join();
  });
  namespace_thread.join();
  return outcome;
}

TEST(ZeroCopyNamespace, RecoversFromEnobufsWithTinyOptmem) {
  std::string host_optmem = read_sysctl(kOptmemPath);
  TransferOutcome outcome = zero_copy_transfer(true);
  if (!outcome.skip_reason.empty()) GTEST_SKIP() << outcome.skip_reason;
  EXPECT_EQ(read_sysctl(kOptmemPath), host_optmem) << "the host namespace must be untouched";
  ASSERT_TRUE(outcome.send_error.ok()) << outcome.send_error.message();
  EXPECT_TRUE(outcome.receive_error.ok()) << outcome.receive_error.message();
  EXPECT_GT(outcome.stats.enobufs_events, 0u) << "optmem_max 4096 should provoke ENOBUFS";
  EXPECT_EQ(outcome.stats.enobufs_recovered, outcome.stats.enobufs_events);
  EXPECT_EQ(outcome.stats.completed, outcome.stats.queued);
  ASSERT_TRUE(outcome.flush) << outcome.flush.error().message();
  EXPECT_EQ(*outcome.flush, FlushResult::kCopied);  // loopback copies at delivery
  EXPECT_EQ(outcome.received, kTransfer);
  EXPECT_TRUE(outcome.identical);
  std::printf("zero-copy 64 MiB: %llu sends, %llu ENOBUFS recovered\n",
              static_cast<unsigned long long>(outcome.stats.queued),
              static_cast<unsigned long long>(outcome.stats.enobufs_recovered));
}

TEST(ZeroCopyNamespace, FailsWithEnobufsWhenRecoveryIsDisabled) {
  TransferOutcome outcome = zero_copy_transfer(false);
  if (!outcome.skip_reason.empty()) GTEST_SKIP() << outcome.skip_reason;
  ASSERT_FALSE(outcome.send_error.ok()) << "the transfer should have failed without recovery";
  EXPECT_EQ(outcome.send_error.errno_value(), ENOBUFS) << outcome.send_error.message();
  EXPECT_NE(outcome.send_error.message().find("net.core.optmem_max"), std::string::npos);
  EXPECT_EQ(outcome.stats.enobufs_events, 1u);
  EXPECT_EQ(outcome.stats.enobufs_recovered, 0u);
  EXPECT_LT(outcome.received, kTransfer);
}

}  // namespace
}  // namespace cr16::io
