// Socket channel: TCP v4/v6 and UNIX (path, abstract), sync and async
// connect/listen, transfers on both loop backends, EOF, shutdown, fd
// passing, MSG_PEEK, peer credentials, and zero-copy fault injection.
#include "io/channel_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "tests/unit/io/channel_test_helpers.h"
#include "tests/unit/io/io_test_util.h"

namespace cr16::io {
namespace {

struct ConnectedPair {
  std::unique_ptr<SocketChannel> listener;
  std::unique_ptr<SocketChannel> client;
  std::unique_ptr<SocketChannel> server;
};

std::string unique_unix_path() {
  static int counter = 0;
  return "/tmp/cr16-io-sock-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

/// Listens on `address` (port 0 allowed), connects and accepts.
ConnectedPair connect_pair(SocketAddress address) {
  ConnectedPair pair;
  auto listener = SocketChannel::listen(address);
  EXPECT_TRUE(listener) << listener.error().message();
  if (!listener) return pair;
  pair.listener = std::move(*listener);
  auto local = pair.listener->local_address();
  EXPECT_TRUE(local);
  auto client = SocketChannel::connect(*local);
  EXPECT_TRUE(client) << client.error().message();
  if (!client) return pair;
  pair.client = std::move(*client);
  auto server = pair.listener->accept();
  EXPECT_TRUE(server && *server);
  if (server) pair.server = std::move(*server);
  return pair;
}

struct TransferCase {
  const char* name;
  SocketAddress (*address)();
  LoopBackend backend;
  bool blocking;
};

class SocketTransferTest : public ::testing::TestWithParam<TransferCase> {};

TEST_P(SocketTransferTest, MegabyteOver250IovecsWithThreads) {
  ConnectedPair pair = connect_pair(GetParam().address());
  ASSERT_TRUE(pair.server && pair.client);
  check_threaded_transfer(*pair.client, *pair.server, GetParam().blocking, GetParam().backend);
}

SocketAddress ipv4() {
  return SocketAddress::inet("127.0.0.1", 0);
}
SocketAddress ipv6() {
  return SocketAddress::inet("::1", 0, SocketAddress::Family::kIpv6);
}
SocketAddress unix_socket() {
  return SocketAddress::unix_path(unique_unix_path());
}
SocketAddress abstract_socket() {
  return SocketAddress::unix_abstract("cr16-io-test-" + std::to_string(getpid()));
}

std::vector<TransferCase> transfer_cases() {
  std::vector<TransferCase> cases;
  const std::pair<const char*, SocketAddress (*)()> addresses[] = {
      {"ipv4", ipv4}, {"ipv6", ipv6}, {"unix", unix_socket}, {"abstract", abstract_socket}};
  for (auto [name, address] : addresses) {
    for (LoopBackend backend : {LoopBackend::kEpoll, LoopBackend::kIoUring}) {
      for (bool blocking : {true, false}) {
        if (blocking && backend == LoopBackend::kIoUring) continue;  // no loop involved
        cases.push_back({name, address, backend, blocking});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sockets, SocketTransferTest, ::testing::ValuesIn(transfer_cases()),
                         [](const auto& info) {
                           return std::string(info.param.name) + "_" +
                                  (info.param.blocking ? "blocking"
                                                       : std::string("nonblocking_") +
                                                             loop_backend_name(info.param.backend));
                         });

TEST(Socket, FeaturesDependOnFamily) {
  ConnectedPair tcp = connect_pair(ipv4());
  ASSERT_TRUE(tcp.server);
  EXPECT_TRUE(tcp.listener->has_feature(kFeatureListen));
  EXPECT_TRUE(tcp.client->has_feature(kFeatureShutdown));
  EXPECT_TRUE(tcp.client->has_feature(kFeatureReadMsgPeek));
  EXPECT_FALSE(tcp.client->has_feature(kFeatureFdPass));
  EXPECT_TRUE(tcp.client->has_feature(kFeatureWriteZeroCopy));  // outgoing TCP connects
  EXPECT_FALSE(tcp.server->has_feature(kFeatureWriteZeroCopy));
  ConnectedPair local = connect_pair(unix_socket());
  ASSERT_TRUE(local.server);
  EXPECT_TRUE(local.client->has_feature(kFeatureFdPass));
  EXPECT_FALSE(local.client->has_feature(kFeatureWriteZeroCopy));
}

TEST(Socket, EndOfFileAfterPeerCloses) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(write_all(*pair.client, "abc", 3).ok());
  ASSERT_TRUE(pair.client->close().ok());
  char buffer[8];
  ASSERT_TRUE(read_all(*pair.server, buffer, 3).ok());
  EXPECT_EQ(std::memcmp(buffer, "abc", 3), 0);
  EXPECT_TRUE(pair.server->read(buffer, sizeof buffer).is_eof());
  Error truncated = read_all(*pair.server, buffer, 1);
  EXPECT_FALSE(truncated.ok());
  EXPECT_TRUE(pair.client->write("x", 1).is_error());  // closed channel
}

TEST(Socket, ShutdownWriteGivesPeerEofButKeepsReading) {
  ConnectedPair pair = connect_pair(unix_socket());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(pair.client->shutdown(ShutdownDirection::kWrite).ok());
  char buffer[4];
  EXPECT_TRUE(pair.server->read(buffer, sizeof buffer).is_eof());
  ASSERT_TRUE(write_all(*pair.server, "pong", 4).ok());
  ASSERT_TRUE(read_all(*pair.client, buffer, 4).ok());
  EXPECT_EQ(std::memcmp(buffer, "pong", 4), 0);
}

TEST(Socket, NonBlockingReadWouldBlock) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(pair.server->set_blocking(false).ok());
  char buffer[4];
  EXPECT_TRUE(pair.server->read(buffer, sizeof buffer).is_would_block());
  ASSERT_TRUE(pair.listener->set_blocking(false).ok());
  auto none = pair.listener->accept();
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, nullptr);
}

TEST(Socket, PeekLeavesDataInPlace) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(write_all(*pair.client, "peek", 4).ok());
  char buffer[4];
  IoResult peeked = pair.server->read(buffer, 4, kReadMsgPeek);
  ASSERT_TRUE(peeked.is_bytes());
  EXPECT_GT(peeked.count(), 0u);
  ASSERT_TRUE(read_all(*pair.server, buffer, 4).ok());
  EXPECT_EQ(std::memcmp(buffer, "peek", 4), 0);
}

TEST(Socket, PassesFileDescriptorsOverUnixSockets) {
  ConnectedPair pair = connect_pair(unix_socket());
  ASSERT_TRUE(pair.server);
  TempFile file;
  ASSERT_EQ(::write(file.fd(), "shared", 6), 6);
  TestPipe pipe_fds;
  int fds[2] = {file.fd(), pipe_fds.write_end()};
  iovec payload{const_cast<char*>("F"), 1};
  ASSERT_TRUE(write_all(*pair.client, {&payload, 1}, nullptr, fds).ok());
  std::vector<UniqueFd> received;
  char byte;
  iovec in{&byte, 1};
  ASSERT_TRUE((read_all(*pair.server, {&in, 1}, nullptr, &received)).ok());
  ASSERT_EQ(received.size(), 2u);
  struct stat original, copy;
  fstat(file.fd(), &original);
  fstat(received[0].get(), &copy);
  EXPECT_EQ(original.st_ino, copy.st_ino);
  EXPECT_NE(received[0].get(), file.fd());
  EXPECT_TRUE(fcntl(received[0].get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(received[1].get(), "z", 1), 1);  // the pipe's write end works
  char from_pipe;
  ASSERT_EQ(::read(pipe_fds.read_end(), &from_pipe, 1), 1);
  EXPECT_EQ(from_pipe, 'z');
}

TEST(Socket, RefusesFdsOnTcpAndZeroCopyWithFds) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  int fd = 0;
  iovec payload{const_cast<char*>("x"), 1};
  IoResult refused = pair.client->writev({&payload, 1}, {&fd, 1});
  ASSERT_TRUE(refused.is_error());
  EXPECT_EQ(refused.error().errno_value(), ENOTSUP);
  IoResult no_zero_copy = pair.server->write("x", 1, kWriteZeroCopy);
  ASSERT_TRUE(no_zero_copy.is_error());
  EXPECT_EQ(no_zero_copy.error().errno_value(), ENOTSUP);
}

TEST(Socket, PeerCredentialsOfUnixPeer) {
  ConnectedPair pair = connect_pair(unix_socket());
  ASSERT_TRUE(pair.server);
  auto credentials = pair.server->peer_credentials();
  ASSERT_TRUE(credentials) << credentials.error().message();
  EXPECT_EQ(credentials->pid, getpid());
  EXPECT_EQ(credentials->uid, getuid());
  EXPECT_FALSE(connect_pair(ipv4()).server->peer_credentials());
}

TEST(Socket, UnixListenerRemovesItsPathOnClose) {
  std::string path = unique_unix_path();
  auto listener = SocketChannel::listen(SocketAddress::unix_path(path));
  ASSERT_TRUE(listener);
  struct stat info;
  EXPECT_EQ(::stat(path.c_str(), &info), 0);
  ASSERT_TRUE((*listener)->close().ok());
  EXPECT_NE(::stat(path.c_str(), &info), 0);
}

TEST(Socket, ConnectToNothingFailsWithClearError) {
  auto refused = SocketChannel::connect(SocketAddress::unix_path("/nonexistent/cr16.sock"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("/nonexistent/cr16.sock"), std::string::npos);
  EXPECT_EQ(refused.error().errno_value(), ENOENT);
}

TEST(Socket, FromFdWrapsAnExistingSocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto a = SocketChannel::from_fd(fds[0]);
  auto b = SocketChannel::connect(SocketAddress::from_fd(fds[1]));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(write_all(**a, "hi", 2).ok());
  char buffer[2];
  ASSERT_TRUE(read_all(**b, buffer, 2).ok());
  EXPECT_EQ(std::memcmp(buffer, "hi", 2), 0);
  TestPipe not_a_socket;
  EXPECT_FALSE(SocketChannel::from_fd(not_a_socket.read_end()));
}

class SocketAsyncTest : public ::testing::TestWithParam<LoopBackend> {};

TEST_P(SocketAsyncTest, ListenAndConnectAsTasks) {
  auto loop = Loop::create(GetParam()).value();
  std::unique_ptr<SocketChannel> listener, client, server;
  bool listened = false;
  SocketChannel::listen_async(*loop, ipv4(), [&](Expected<std::unique_ptr<SocketChannel>> result) {
    ASSERT_TRUE(result) << result.error().message();
    listener = std::move(*result);
    listened = true;
  });
  while (!listened) loop->run_once(-1);
  ASSERT_TRUE(listener);
  ASSERT_TRUE(listener->set_blocking(false).ok());
  listener->create_watch(*loop, kIn, [&](uint32_t) {
    auto accepted = listener->accept();
    EXPECT_TRUE(accepted);
    if (accepted && *accepted) server = std::move(*accepted);
    return server == nullptr;
  });
  bool connected = false;
  SocketChannel::connect_async(*loop, *listener->local_address(),
                               [&](Expected<std::unique_ptr<SocketChannel>> result) {
                                 ASSERT_TRUE(result) << result.error().message();
                                 client = std::move(*result);
                                 connected = true;
                               });
  while (!connected || !server) loop->run_once(-1);
  ASSERT_TRUE(write_all(*client, "async", 5, loop.get()).ok());
  ASSERT_TRUE(server->set_blocking(false).ok());
  char buffer[5];
  ASSERT_TRUE(read_all(*server, buffer, 5, loop.get()).ok());
  EXPECT_EQ(std::memcmp(buffer, "async", 5), 0);
}

TEST_P(SocketAsyncTest, AsyncConnectFailureArrivesOnTheLoop) {
  auto loop = Loop::create(GetParam()).value();
  bool done = false;
  SocketChannel::connect_async(*loop, SocketAddress::unix_path("/nonexistent/x.sock"),
                               [&](Expected<std::unique_ptr<SocketChannel>> result) {
                                 EXPECT_FALSE(result);
                                 done = true;
                               });
  while (!done) loop->run_once(-1);
}

INSTANTIATE_TEST_SUITE_P(Backends, SocketAsyncTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const auto& info) {
                           return std::string(loop_backend_name(info.param));
                         });

// --- zero-copy without a namespace: counters, flush results, fault injection

TEST(SocketZeroCopy, FlushReportsNothingQueuedThenCopiedOnLoopback) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(pair.client->has_feature(kFeatureWriteZeroCopy));
  auto nothing = pair.client->flush();
  ASSERT_TRUE(nothing);
  EXPECT_EQ(*nothing, FlushResult::kNothingQueued);
  std::vector<uint8_t> data = make_payload(64 * 1024);
  iovec iov{data.data(), data.size()};
  ASSERT_TRUE(write_all(*pair.client, {&iov, 1}, nullptr, {}, kWriteZeroCopy).ok());
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(read_all(*pair.server, back.data(), back.size()).ok());
  EXPECT_TRUE(back == data);
  EXPECT_GE(pair.client->zero_copy_stats().queued, 1u);
  auto flushed = pair.client->flush();
  ASSERT_TRUE(flushed) << flushed.error().message();
  EXPECT_EQ(*flushed, FlushResult::kCopied);  // loopback always copies
  EXPECT_EQ(pair.client->zero_copy_stats().completed, pair.client->zero_copy_stats().queued);
  EXPECT_EQ(pair.client->zero_copy_stats().copied_flushes, 1u);
  auto again = pair.client->flush();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, FlushResult::kNothingQueued);
}

TEST(SocketZeroCopy, SecondEnobufsIsAClearError) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  int calls = 0;
  pair.client->set_sendmsg_hook_for_testing([&](int, const msghdr*, int flags) -> ssize_t {
    ++calls;
    EXPECT_TRUE(flags & MSG_ZEROCOPY);
    errno = ENOBUFS;
    return -1;
  });
  IoResult result = pair.client->write("data", 4, kWriteZeroCopy);
  ASSERT_TRUE(result.is_error());
  EXPECT_EQ(result.error().errno_value(), ENOBUFS);
  EXPECT_NE(result.error().message().find("RLIMIT_MEMLOCK"), std::string::npos);
  EXPECT_NE(result.error().message().find("net.core.optmem_max"), std::string::npos);
  EXPECT_EQ(calls, 2);  // the send, then exactly one retry after the flush
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_events, 2u);
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_recovered, 0u);
  EXPECT_EQ(pair.client->zero_copy_stats().queued, 0u);
}

TEST(SocketZeroCopy, OneEnobufsIsRecoveredByFlushAndRetry) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(write_all(*pair.client, "data", 4, nullptr, kWriteZeroCopy).ok());
  int calls = 0;
  pair.client->set_sendmsg_hook_for_testing([&](int fd, const msghdr* message, int flags) {
    if (++calls == 1) {
      errno = ENOBUFS;
      return ssize_t{-1};
    }
    return ::sendmsg(fd, message, flags);
  });
  IoResult result = pair.client->write("more", 4, kWriteZeroCopy);
  ASSERT_TRUE(result.is_bytes()) << result.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_events, 1u);
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_recovered, 1u);
  EXPECT_EQ(pair.client->zero_copy_stats().queued, 2u);
  // The recovery flush drained the first send's completion (blocking channel).
  EXPECT_EQ(pair.client->zero_copy_stats().completed, 1u);
  char buffer[8];
  ASSERT_TRUE(read_all(*pair.server, buffer, 8).ok());
  EXPECT_EQ(std::memcmp(buffer, "datamore", 8), 0);
  auto flushed = pair.client->flush();
  ASSERT_TRUE(flushed);
  EXPECT_NE(*flushed, FlushResult::kNothingQueued);
}

TEST(SocketZeroCopy, NonBlockingChannelRecoversWithoutWaiting) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  ASSERT_TRUE(pair.client->set_blocking(false).ok());
  int calls = 0;
  pair.client->set_sendmsg_hook_for_testing([&](int fd, const msghdr* message, int flags) {
    if (++calls == 1) {
      errno = ENOBUFS;
      return ssize_t{-1};
    }
    return ::sendmsg(fd, message, flags);
  });
  IoResult result = pair.client->write("nb", 2, kWriteZeroCopy);
  ASSERT_TRUE(result.is_bytes()) << result.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_recovered, 1u);
  char buffer[2];
  ASSERT_TRUE(read_all(*pair.server, buffer, 2).ok());
  auto flushed = pair.client->flush();  // flush() itself always waits
  ASSERT_TRUE(flushed) << flushed.error().message();
  EXPECT_EQ(*flushed, FlushResult::kCopied);
  EXPECT_EQ(pair.client->zero_copy_stats().completed, 1u);
}

TEST(SocketZeroCopy, EnobufsWithRecoveryDisabledFailsAtOnce) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  int calls = 0;
  pair.client->set_enobufs_recovery(false);
  pair.client->set_sendmsg_hook_for_testing([&](int, const msghdr*, int) -> ssize_t {
    ++calls;
    errno = ENOBUFS;
    return -1;
  });
  IoResult result = pair.client->write("data", 4, kWriteZeroCopy);
  ASSERT_TRUE(result.is_error());
  EXPECT_EQ(result.error().errno_value(), ENOBUFS);
  EXPECT_EQ(calls, 1);
}

TEST(SocketZeroCopy, PlainEnobufsWithoutZeroCopyIsNotRetried) {
  ConnectedPair pair = connect_pair(ipv4());
  ASSERT_TRUE(pair.server);
  int calls = 0;
  pair.client->set_sendmsg_hook_for_testing([&](int, const msghdr*, int) -> ssize_t {
    ++calls;
    errno = ENOBUFS;
    return -1;
  });
  IoResult result = pair.client->write("data", 4);
  ASSERT_TRUE(result.is_error());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pair.client->zero_copy_stats().enobufs_events, 0u);
}

}  // namespace
}  // namespace cr16::io
