// Loopback TCP throughput of the socket channel: copying writes vs
// MSG_ZEROCOPY writes, for write sizes from 4 KiB to 1 MiB. A receiver
// thread reads and discards. Prints one line per (size, mode).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "io/channel_socket.h"

using namespace cr16;
using namespace cr16::io;

namespace {

struct Result {
  double mib_per_second;
  ZeroCopyStats stats;
  const char* flush = "-";
};

Result run(size_t write_size, size_t total, bool zero_copy) {
  auto listener = SocketChannel::listen(SocketAddress::inet("127.0.0.1", 0)).value();
  auto client = SocketChannel::connect(listener->local_address().value()).value();
  auto server = listener->accept().value();
  std::thread receiver([&] {
    std::vector<char> buffer(1 << 20);
    while (true) {
      IoResult result = server->read(buffer.data(), buffer.size());
      if (!result.is_bytes()) break;
    }
  });
  std::vector<uint8_t> data(write_size, 0x5a);
  auto start = std::chrono::steady_clock::now();
  for (size_t sent = 0; sent < total; sent += write_size) {
    Error error = write_all(*client, data.data(), data.size(), nullptr,
                            zero_copy ? static_cast<uint32_t>(kWriteZeroCopy) : 0u);
    if (!error.ok()) {
      std::fprintf(stderr, "write failed: %s\n", error.message().c_str());
      std::exit(1);
    }
  }
  Result result;
  if (zero_copy) {
    auto flushed = client->flush();
    result.flush = !flushed                                  ? "error"
                   : *flushed == FlushResult::kCopied        ? "copied"
                   : *flushed == FlushResult::kNothingQueued ? "nothing"
                                                             : "zero-copy";
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)client->shutdown(ShutdownDirection::kWrite);
  receiver.join();
  result.mib_per_second = static_cast<double>(total) / (1 << 20) / elapsed;
  result.stats = client->zero_copy_stats();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  size_t total = (argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 256) << 20;
  std::printf("bench-io-socket: loopback TCP, %zu MiB per run\n", total >> 20);
  std::printf("%10s %12s %12s %8s %10s %10s\n", "write", "copy MiB/s", "zc MiB/s", "zc/copy",
              "zc sends", "ENOBUFS");
  for (size_t size :
       {size_t{4} << 10, size_t{16} << 10, size_t{64} << 10, size_t{256} << 10, size_t{1} << 20}) {
    Result copy = run(size, total, false);
    Result zero_copy = run(size, total, true);
    std::printf("%9zuK %12.0f %12.0f %8.2f %10llu %10llu  (flush: %s)\n", size >> 10,
                copy.mib_per_second, zero_copy.mib_per_second,
                zero_copy.mib_per_second / copy.mib_per_second,
                static_cast<unsigned long long>(zero_copy.stats.queued),
                static_cast<unsigned long long>(zero_copy.stats.enobufs_events), zero_copy.flush);
  }
  return 0;
}
