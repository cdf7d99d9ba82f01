// Socket address parsing, the DNS resolver and the network listener.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "io/dns_resolver.h"
#include "io/net_listener.h"
#include "io/socket_address.h"

namespace cr16::io {
namespace {

TEST(SocketAddress, ParsesTheCommandLineForms) {
  auto tcp = SocketAddress::parse("tcp:localhost:4444");
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->kind, SocketAddress::Kind::kInet);
  EXPECT_EQ(tcp->host, "localhost");
  EXPECT_EQ(tcp->port, 4444);
  auto v6 = SocketAddress::parse("tcp:[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->family, SocketAddress::Family::kIpv6);
  auto bare = SocketAddress::parse(":1234");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "");
  auto path = SocketAddress::parse("unix:/tmp/x.sock");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->kind, SocketAddress::Kind::kUnix);
  EXPECT_FALSE(path->abstract);
  auto abstract = SocketAddress::parse("unix:@name");
  ASSERT_TRUE(abstract);
  EXPECT_TRUE(abstract->abstract);
  EXPECT_EQ(abstract->path, "name");
  auto fd = SocketAddress::parse("fd:5");
  ASSERT_TRUE(fd);
  EXPECT_EQ(fd->fd, 5);
  for (const char* text : {"tcp:[::1]:80", "unix:@name", "fd:5", "tcp:host:1"}) {
    EXPECT_EQ(SocketAddress::parse(text)->to_string(), text);
  }
}

TEST(SocketAddress, RejectsMalformedText) {
  for (const char* text : {"tcp:host", "tcp:host:99999", "tcp:host:12x", "tcp:[::1", "tcp:[::1]80",
                           "tcp:::1:80", "unix:", "unix:@", "fd:", "fd:-1", "fd:x", ""}) {
    auto parsed = SocketAddress::parse(text);
    EXPECT_FALSE(parsed) << text;
    if (!parsed) {
      EXPECT_EQ(parsed.error().errno_value() != 0, true) << text;
    }
  }
  EXPECT_FALSE(SocketAddress::parse("unix:" + std::string(200, 'a')));
}

TEST(DnsResolver, ResolvesLocalhostToNumericAddresses) {
  auto resolved = DnsResolver::instance().resolve(
      SocketAddress::inet("localhost", 80, SocketAddress::Family::kIpv4));
  ASSERT_TRUE(resolved) << resolved.error().message();
  ASSERT_FALSE(resolved->empty());
  EXPECT_EQ((*resolved)[0].host, "127.0.0.1");
  EXPECT_EQ((*resolved)[0].port, 80);
  auto unix_address = SocketAddress::unix_path("/tmp/a");
  auto unchanged = DnsResolver::instance().resolve(unix_address);
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->size(), 1u);
  EXPECT_EQ((*unchanged)[0], unix_address);
}

TEST(DnsResolver, UnknownHostFailsAsynchronouslyOnTheLoop) {
  auto loop = Loop::create().value();
  bool done = false;
  DnsResolver::instance().resolve_async(
      *loop, SocketAddress::inet("no-such-host.invalid", 1),
      [&](Expected<std::vector<SocketAddress>> result) {
        ASSERT_FALSE(result);
        EXPECT_NE(result.error().message().find("no-such-host.invalid"), std::string::npos);
        done = true;
      });
  while (!done) loop->run_once(-1);
}

TEST(DnsResolver, AsyncResolvesNumericHost) {
  auto loop = Loop::create().value();
  bool done = false;
  DnsResolver::instance().resolve_async(*loop, SocketAddress::inet("::1", 7),
                                        [&](Expected<std::vector<SocketAddress>> result) {
                                          ASSERT_TRUE(result);
                                          EXPECT_EQ((*result)[0].host, "::1");
                                          done = true;
                                        });
  while (!done) loop->run_once(-1);
}

class NetListenerTest : public ::testing::TestWithParam<LoopBackend> {};

TEST_P(NetListenerTest, AcceptsClientsOnSeveralAddresses) {
  auto loop = Loop::create(GetParam()).value();
  NetListener listener(*loop);
  ASSERT_TRUE(listener.open(SocketAddress::inet("127.0.0.1", 0)).ok());
  std::string path = "/tmp/cr16-listener-" + std::to_string(getpid());
  bool opened = false;
  listener.open_async(SocketAddress::unix_path(path), [&](Error error) {
    EXPECT_TRUE(error.ok()) << error.message();
    opened = true;
  });
  while (!opened) loop->run_once(-1);
  ASSERT_EQ(listener.listener_count(), 2u);
  std::vector<std::unique_ptr<SocketChannel>> clients;
  listener.set_client_callback([&](std::unique_ptr<SocketChannel> client) {
    EXPECT_TRUE(client->is_blocking());
    clients.push_back(std::move(client));
  });
  std::vector<std::unique_ptr<SocketChannel>> connections;
  for (const SocketAddress& address : listener.addresses()) {
    auto connection = SocketChannel::connect(address);
    ASSERT_TRUE(connection) << connection.error().message();
    connections.push_back(std::move(*connection));
  }
  while (clients.size() < 2) loop->run_once(-1);
  for (auto& connection : connections) ASSERT_TRUE(write_all(*connection, "hi", 2).ok());
  for (auto& client : clients) {  // accept order across listeners is not fixed
    char buffer[2];
    ASSERT_TRUE(read_all(*client, buffer, 2).ok());
    EXPECT_EQ(std::memcmp(buffer, "hi", 2), 0);
  }
  listener.disconnect();
  EXPECT_EQ(listener.listener_count(), 0u);
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // the UNIX path is removed
}

TEST_P(NetListenerTest, CallbackMayDestroyTheListener) {
  auto loop = Loop::create(GetParam()).value();
  auto listener = std::make_unique<NetListener>(*loop);
  ASSERT_TRUE(listener->open(SocketAddress::inet("127.0.0.1", 0)).ok());
  SocketAddress address = listener->addresses()[0];
  int accepted = 0;
  listener->set_client_callback([&](std::unique_ptr<SocketChannel>) {
    ++accepted;
    listener.reset();
  });
  auto first = SocketChannel::connect(address);
  auto second = SocketChannel::connect(address);
  ASSERT_TRUE(first && second);
  while (accepted == 0) loop->run_once(-1);
  loop->run_once(0);
  EXPECT_EQ(accepted, 1);
}

TEST(NetListener, OpenFailureIsAnError) {
  auto loop = Loop::create().value();
  NetListener listener(*loop);
  Error error = listener.open(SocketAddress::unix_path("/nonexistent/dir/sock"));
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(listener.listener_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, NetListenerTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const auto& info) {
                           return std::string(loop_backend_name(info.param));
                         });

}  // namespace
}  // namespace cr16::io
