#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "system/chardev_common.h"
#include "system/chardev_factory.h"
#include "system/chardev_socket.h"
#include "system/chardev_stdio.h"

namespace cr16::system {
namespace {

class RecordingFrontend : public CharFrontend {
 public:
  size_t can_receive() override { return capacity; }
  void receive(std::span<const uint8_t> bytes) override {
    received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    capacity -= std::min(capacity, bytes.size());
  }
  size_t capacity = 1024;
  std::string received;
};

std::span<const uint8_t> as_bytes(const std::string& text) {
  return std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::unique_ptr<io::Loop> make_loop() {
  signal(SIGPIPE, SIG_IGN);
  Expected<std::unique_ptr<io::Loop>> loop = io::Loop::create(io::LoopBackend::kEpoll);
  EXPECT_TRUE(loop);
  return std::move(*loop);
}

// Runs the loop until `done` or 200 iterations of at most 10 ms.
template <typename Predicate>
bool spin_until(io::Loop& loop, Predicate done) {
  for (int i = 0; i < 200 && !done(); ++i) loop.run_once(10'000'000);
  return done();
}

std::string read_some(int fd) {
  char buffer[256];
  ssize_t got = read(fd, buffer, sizeof buffer);
  return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : std::string();
}

TEST(EscapeFilter, PassesPlainBytes) {
  EscapeFilter filter;
  std::vector<uint8_t> out;
  EXPECT_EQ(filter.feed(as_bytes("help\r"), &out), EscapeFilter::Command::kNone);
  EXPECT_EQ(std::string(out.begin(), out.end()), "help\r");
}

TEST(EscapeFilter, CtrlAXQuits) {
  EscapeFilter filter;
  std::vector<uint8_t> out;
  EXPECT_EQ(filter.feed(as_bytes("ab\x01xcd"), &out), EscapeFilter::Command::kQuit);
  EXPECT_EQ(std::string(out.begin(), out.end()), "ab");
}

TEST(EscapeFilter, EscapeSplitAcrossReads) {
  EscapeFilter filter;
  std::vector<uint8_t> out;
  EXPECT_EQ(filter.feed(as_bytes("\x01"), &out), EscapeFilter::Command::kNone);
  EXPECT_EQ(filter.feed(as_bytes("x"), &out), EscapeFilter::Command::kQuit);
  EXPECT_TRUE(out.empty());
}

TEST(EscapeFilter, CtrlACtrlASendsOneCtrlAAndHelp) {
  EscapeFilter filter;
  std::vector<uint8_t> out;
  EXPECT_EQ(filter.feed(as_bytes("\x01\x01z\x01h\x01q"), &out), EscapeFilter::Command::kHelp);
  EXPECT_EQ(std::string(out.begin(), out.end()), "\x01z");
  EXPECT_NE(std::string(EscapeFilter::help_text()).find("C-a x"), std::string::npos);
}

TEST(FileCharBackend, WritesGuestOutputToTheFile) {
  auto loop = make_loop();
  std::string path = testing::TempDir() + "/chardev-file-test.txt";
  {
    Expected<std::unique_ptr<FileCharBackend>> backend = FileCharBackend::open(*loop, path);
    ASSERT_TRUE(backend) << backend.error().message();
    EXPECT_EQ((*backend)->write(as_bytes("hello file\n")), 11u);
    EXPECT_EQ((*backend)->pending_output(), 0u);
  }
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello file");
  std::filesystem::remove(path);
}

TEST(FileCharBackend, BadPathIsAnErrorNamingIt) {
  auto loop = make_loop();
  Expected<std::unique_ptr<FileCharBackend>> backend =
      FileCharBackend::open(*loop, "/nonexistent-dir/x.txt");
  ASSERT_FALSE(backend);
  EXPECT_NE(backend.error().message().find("/nonexistent-dir/x.txt"), std::string::npos);
}

TEST(NullCharBackend, SwallowsEverything) {
  NullCharBackend backend;
  RecordingFrontend frontend;
  backend.attach(&frontend);
  EXPECT_EQ(backend.write(as_bytes("abc")), 3u);
  EXPECT_TRUE(frontend.received.empty());
}

TEST(PtyCharBackend, RoundTripsThroughTheSlave) {
  auto loop = make_loop();
  Expected<std::unique_ptr<PtyCharBackend>> backend = PtyCharBackend::open(*loop, "serial0");
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_EQ((*backend)->slave_path().rfind("/dev/pts/", 0), 0u);
  int slave = open((*backend)->slave_path().c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  RecordingFrontend frontend;
  (*backend)->attach(&frontend);
  ASSERT_EQ(write(slave, "typed", 5), 5);
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received == "typed"; }));
  (*backend)->write(as_bytes("shown"));
  EXPECT_TRUE(spin_until(*loop, [&] { return (*backend)->pending_output() == 0; }));
  EXPECT_EQ(read_some(slave), "shown");
  close(slave);
}

TEST(ChannelCharBackend, InputWaitsForTheFrontend) {
  auto loop = make_loop();
  Expected<std::unique_ptr<PtyCharBackend>> backend = PtyCharBackend::open(*loop, "serial1");
  ASSERT_TRUE(backend);
  int slave = open((*backend)->slave_path().c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  RecordingFrontend frontend;
  frontend.capacity = 2;
  (*backend)->attach(&frontend);
  ASSERT_EQ(write(slave, "abcdef", 6), 6);
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received.size() == 2; }));
  for (int i = 0; i < 5; ++i) loop->run_once(1'000'000);
  EXPECT_EQ(frontend.received, "ab");  // full: nothing more is read
  frontend.capacity = 100;
  (*backend)->frontend_ready();
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received == "abcdef"; }));
  close(slave);
}

TEST(SocketCharBackend, TcpServerTalksToAClientAndAcceptsAgain) {
  auto loop = make_loop();
  Expected<SerialSpec> spec = parse_serial_spec("tcp:127.0.0.1:0,server=on,wait=off");
  ASSERT_TRUE(spec);
  Expected<std::unique_ptr<SocketCharBackend>> backend =
      SocketCharBackend::open(*loop, *spec, "serial0");
  ASSERT_TRUE(backend) << backend.error().message();
  SocketCharBackend& server = **backend;
  EXPECT_FALSE(server.waiting_for_client());
  ASSERT_NE(server.local_port(), 0);
  RecordingFrontend frontend;
  server.attach(&frontend);
  EXPECT_EQ(server.write(as_bytes("dropped")), 7u);  // nobody connected

  for (int round = 0; round < 2; ++round) {
    int client = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(server.local_port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_TRUE(spin_until(*loop, [&] { return server.connected(); }));
    frontend.received.clear();
    ASSERT_EQ(write(client, "ping", 4), 4);
    EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received == "ping"; }));
    server.write(as_bytes("pong"));
    EXPECT_EQ(read_some(client), "pong");
    close(client);
    EXPECT_TRUE(spin_until(*loop, [&] { return !server.connected(); }));
  }
}

TEST(SocketCharBackend, UnixServerWaitsForItsFirstClient) {
  auto loop = make_loop();
  std::string path = testing::TempDir() + "/chardev-test.sock";
  Expected<SerialSpec> spec = parse_serial_spec("unix:" + path + ",server=on");
  ASSERT_TRUE(spec);
  Expected<std::unique_ptr<SocketCharBackend>> backend =
      SocketCharBackend::open(*loop, *spec, "serial0");
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_TRUE((*backend)->waiting_for_client());
  RecordingFrontend frontend;
  (*backend)->attach(&frontend);
  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_TRUE(spin_until(*loop, [&] { return !(*backend)->waiting_for_client(); }));
  ASSERT_EQ(write(client, "u", 1), 1);
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received == "u"; }));
  close(client);
  backend->reset();
  EXPECT_FALSE(std::filesystem::exists(path));  // the socket file is removed
}

TEST(SocketCharBackend, ClientConnectFailureNamesTheSpec) {
  auto loop = make_loop();
  Expected<SerialSpec> spec = parse_serial_spec("unix:/nonexistent-dir/none.sock");
  ASSERT_TRUE(spec);
  Expected<std::unique_ptr<SocketCharBackend>> backend =
      SocketCharBackend::open(*loop, *spec, "serial0");
  ASSERT_FALSE(backend);
  EXPECT_NE(backend.error().message().find("unix:/nonexistent-dir/none.sock"), std::string::npos);
}

TEST(CharBackendFactory, BuildsEachKind) {
  auto loop = make_loop();
  EXPECT_EQ(create_char_backend(*parse_serial_spec("none"), *loop, "s", nullptr)->get(), nullptr);
  EXPECT_NE(create_char_backend(*parse_serial_spec("null"), *loop, "s", nullptr)->get(), nullptr);
  std::string path = testing::TempDir() + "/chardev-factory.txt";
  EXPECT_NE(create_char_backend(*parse_serial_spec("file:" + path), *loop, "s", nullptr)->get(),
            nullptr);
  std::filesystem::remove(path);
  EXPECT_FALSE(create_char_backend(*parse_serial_spec("tcp:127.0.0.1:1"), *loop, "s", nullptr));
}

}  // namespace
}  // namespace cr16::system
