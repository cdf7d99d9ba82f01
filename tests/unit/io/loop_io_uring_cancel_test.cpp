// The io_uring backend releases every socket whose watch was removed, even
// when the removal races with a wake-up being delivered (a peer's data and
// its close arriving together). A poll that survived its cancellation kept
// the closed socket alive: its peer never saw the close (a QMP client
// writing to a dropped connection blocked for good).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "io/loop.h"
#include "io/net_listener.h"

namespace cr16::io {
namespace {

// Sockets bound to `path` that the kernel still has (the listener and any
// accepted connection not yet released).
int sockets_on(const std::string& path) {
  std::ifstream table("/proc/net/unix");
  std::string line;
  int count = 0;
  while (std::getline(table, line)) count += line.ends_with(" " + path);
  return count;
}

TEST(LoopIoUring, RemovedWatchesReleaseTheirSocketsEvenWhenAWakeupRaces) {
  Expected<std::unique_ptr<Loop>> created = Loop::create(LoopBackend::kIoUring);
  ASSERT_TRUE(created);
  Loop& loop = **created;
  if (loop.backend() != LoopBackend::kIoUring) GTEST_SKIP() << "io_uring is not available here";
  const std::string path = ::testing::TempDir() + "/cr16-uring-cancel-" + std::to_string(getpid());
  unlink(path.c_str());
  NetListener listener(loop);
  ASSERT_TRUE(listener.open(SocketAddress::unix_path(path)).ok());
  std::map<int, std::pair<std::unique_ptr<SocketChannel>, Loop::WatchId>> clients;
  uint64_t accepted = 0;
  std::atomic<int> released{0};  // server-side sockets closed
  listener.set_client_callback([&](std::unique_ptr<SocketChannel> client) {
    ++accepted;
    ASSERT_TRUE(client->set_blocking(false).ok());
    const int fd = client->fd();
    SocketChannel* raw = client.get();
    Loop::WatchId id = raw->create_watch(loop, kIn, [&, fd, raw](uint32_t) {
      char buffer[64];
      IoResult got = raw->read(buffer, sizeof buffer);
      if (got.is_would_block() || (got.is_bytes() && got.count() > 0)) return true;
      // The end: drop the client the way a server does, removing the watch
      // from inside its callback and closing later.
      loop.remove_watch(clients[fd].second);
      loop.schedule([&clients, &released, fd] {
        clients.erase(fd);
        released.fetch_add(1);
      });
      return false;
    });
    clients[fd] = {std::move(client), id};
  });
  constexpr int kConnections = 100000;
  std::atomic<int> connected{0};
  std::thread peers([&] {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    for (int i = 0; i < kConnections;) {
      // The server holds each accepted socket until its scheduled close:
      // keep a bounded number in flight so a slow run (ASan, a loaded
      // machine) never runs the process out of descriptors, and retry a
      // refused connect rather than count a connection never made.
      while (connected.load() - released.load() > 256) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        if (fd >= 0) close(fd);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      (void)!write(fd, "x", 1);  // data and the close race on the server's side
      connected.fetch_add(1);
      close(fd);
      ++i;
    }
  });
  // Serve until every connection was accepted and dropped (with a safety
  // net: a broken loop fails the test instead of hanging it).
  std::atomic<bool> done{false};
  std::thread finisher;  // marks `done` once the peers are through
  finisher = std::thread([&] {
    peers.join();
    done = true;
    loop.wakeup();
  });
  const int64_t deadline = loop.now() + 120'000'000'000;
  while (!(done && accepted == static_cast<uint64_t>(connected.load()) && clients.empty())) {
    ASSERT_LT(loop.now(), deadline) << "the connections were not all served";
    loop.run_once(10'000'000);
  }
  finisher.join();
  for (int i = 0; i < 20; ++i) loop.run_once(1'000'000);  // cancellations complete
  EXPECT_EQ(accepted, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(sockets_on(path), 1) << "closed connections are still alive in the kernel";
  listener.disconnect();
}

}  // namespace
}  // namespace cr16::io
