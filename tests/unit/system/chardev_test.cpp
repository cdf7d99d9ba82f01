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

#include "system/chardev/common.h"
#include "system/chardev/factory.h"
#include "system/chardev/mux.h"
#include "system/chardev/socket.h"
#include "system/chardev/stdio.h"

namespace cr16::system {
namespace {

class RecordingFrontend : public CharFrontend {
 public:
  size_t can_receive() override { return capacity; }
  void receive(std::span<const uint8_t> bytes) override {
    received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    capacity -= std::min(capacity, bytes.size());
  }
  void char_event(CharEvent event) override { events.push_back(event); }
  size_t capacity = 1024;
  std::string received;
  std::vector<CharEvent> events;
};

// A private directory under the test temp dir, removed at the end: parallel
// runs of the suite never share a file name.
class TempDir {
 public:
  TempDir() {
    std::string pattern = testing::TempDir() + "/cr16-chardev-XXXXXX";
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
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

// Feeds `text` byte by byte; returns the bytes for the frontend and the
// commands seen, as letters (q quit, h help, c switch).
std::pair<std::string, std::string> feed(EscapeFilter& filter, const std::string& text) {
  std::string out, commands;
  for (char c : text) {
    EscapeFilter::Result result = filter.feed(static_cast<uint8_t>(c));
    if (result.has_byte) out.push_back(static_cast<char>(result.byte));
    switch (result.command) {
      case EscapeFilter::Command::kQuit:
        commands += 'q';
        break;
      case EscapeFilter::Command::kHelp:
        commands += 'h';
        break;
      case EscapeFilter::Command::kSwitch:
        commands += 'c';
        break;
      case EscapeFilter::Command::kNone:
        break;
    }
  }
  return {out, commands};
}

TEST(EscapeFilter, PassesPlainBytes) {
  EscapeFilter filter;
  EXPECT_EQ(feed(filter, "help\r"), std::make_pair(std::string("help\r"), std::string()));
}

TEST(EscapeFilter, CtrlAXQuits) {
  EscapeFilter filter;
  EXPECT_EQ(feed(filter, "ab\x01x"), std::make_pair(std::string("ab"), std::string("q")));
}

TEST(EscapeFilter, EscapeSplitAcrossReads) {
  EscapeFilter filter;
  EXPECT_EQ(feed(filter, "\x01").second, "");
  EXPECT_TRUE(filter.escape_pending());
  EXPECT_EQ(feed(filter, "c").second, "c");
  EXPECT_FALSE(filter.escape_pending());
}

TEST(EscapeFilter, CtrlACtrlASendsOneCtrlAHelpSwitchAndUnknownEscapes) {
  EscapeFilter filter;
  auto [out, commands] = feed(filter,
                              "\x01\x01z\x01h\x01q\x01?\x01"
                              "C\x01X");
  EXPECT_EQ(out, "\x01z");  // \x01q is an unknown escape: nothing passes
  EXPECT_EQ(commands, "hhcq");
  std::string help = EscapeFilter::help_text();
  EXPECT_NE(help.find("C-a x"), std::string::npos);
  EXPECT_NE(help.find("C-a c"), std::string::npos);
}

// A backend whose host side the test plays.
class FakeHostBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override {
    output.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return bytes.size();
  }
  void attach(CharFrontend* frontend_in) override {
    frontend = frontend_in;
    if (frontend && open) frontend->char_event(CharEvent::kOpened);
  }
  void frontend_ready() override { ++ready_calls; }
  /// Types what the frontend accepts now; returns how much.
  size_t type(const std::string& text) {
    size_t room = std::min(frontend->can_receive(), text.size());
    frontend->receive(std::span(reinterpret_cast<const uint8_t*>(text.data()), room));
    return room;
  }
  std::string output;
  CharFrontend* frontend = nullptr;
  bool open = true;
  int ready_calls = 0;
};

struct MuxFixture : ::testing::Test {
  void SetUp() override {
    auto backend = std::make_unique<FakeHostBackend>();
    host = backend.get();
    mux = std::make_unique<MuxCharDevice>(std::move(backend), [this] { ++quits; });
    serial_port = mux->add_port();
    monitor_port = mux->add_port();
    serial_port->attach(&serial);
    monitor_port->attach(&monitor);
  }
  FakeHostBackend* host = nullptr;
  std::unique_ptr<MuxCharDevice> mux;
  CharBackend* serial_port = nullptr;
  CharBackend* monitor_port = nullptr;
  RecordingFrontend serial, monitor;
  int quits = 0;
};

TEST_F(MuxFixture, InputGoesToTheFocusedFrontendAndCtrlACSwitches) {
  EXPECT_EQ(mux->focus(), 0u);
  EXPECT_EQ(serial.events, std::vector<CharEvent>{CharEvent::kOpened});
  EXPECT_EQ(monitor.events, (std::vector<CharEvent>{CharEvent::kFocusOut, CharEvent::kOpened}));
  host->type(
      "ls\r\x01"
      "cinfo status\r\x01"
      "c");
  EXPECT_EQ(serial.received, "ls\r");
  EXPECT_EQ(monitor.received, "info status\r");
  EXPECT_EQ(mux->focus(), 0u);
  EXPECT_EQ(monitor.events.back(), CharEvent::kFocusOut);
  EXPECT_EQ(serial.events.back(), CharEvent::kFocusIn);
  host->type("\x01\x01");
  EXPECT_EQ(serial.received, "ls\r\x01");
}

TEST_F(MuxFixture, OutputOfEveryFrontendReachesTheHost) {
  serial_port->write(std::span(reinterpret_cast<const uint8_t*>("guest "), 6));
  monitor_port->write(std::span(reinterpret_cast<const uint8_t*>("(cr16) "), 7));
  EXPECT_EQ(host->output, "guest (cr16) ");
}

TEST_F(MuxFixture, CtrlAXQuitsAndCtrlAHPrintsHelp) {
  host->type("\x01h");
  EXPECT_NE(host->output.find("C-a c"), std::string::npos);
  EXPECT_EQ(quits, 0);
  host->type("a\x01xb");
  EXPECT_EQ(quits, 1);
  EXPECT_EQ(serial.received, "a");  // nothing after the quit
}

TEST_F(MuxFixture, AFullFrontendHoldsInputUntilReady) {
  serial.capacity = 2;
  EXPECT_EQ(host->type("abcdef"), 6u);  // the port buffers what the UART cannot take yet
  EXPECT_EQ(serial.received, "ab");
  EXPECT_EQ(mux->can_receive(), MuxCharDevice::kPortBuffer - 4);
  serial.capacity = 100;
  int ready_before = host->ready_calls;
  serial_port->frontend_ready();
  EXPECT_EQ(serial.received, "abcdef");
  EXPECT_GT(host->ready_calls, ready_before);  // the host side is read again
  EXPECT_EQ(mux->can_receive(), MuxCharDevice::kPortBuffer);
}

TEST_F(MuxFixture, BytesTypedBeforeASwitchStayWithTheOldFrontend) {
  monitor.capacity = 0;
  host->type(
      "\x01"
      "cab\x01"
      "c");  // the monitor cannot take "ab" yet
  EXPECT_EQ(monitor.received, "");
  host->type("xy");
  EXPECT_EQ(serial.received, "xy");
  monitor.capacity = 10;
  monitor_port->frontend_ready();
  EXPECT_EQ(monitor.received, "ab");
}

TEST_F(MuxFixture, OpenAndCloseReachEveryFrontend) {
  mux->char_event(CharEvent::kClosed);
  EXPECT_EQ(serial.events.back(), CharEvent::kClosed);
  EXPECT_EQ(monitor.events.back(), CharEvent::kClosed);
  mux->set_focus(1);
  EXPECT_EQ(monitor.events.back(), CharEvent::kFocusIn);
}

TEST(FileCharBackend, WritesGuestOutputToTheFile) {
  auto loop = make_loop();
  TempDir dir;
  std::string path = dir.file("out.txt");
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
}

TEST(FileCharBackend, AFullDiskIsReportedOnceAndOutputDropped) {
  auto loop = make_loop();
  Expected<std::unique_ptr<FileCharBackend>> backend =
      FileCharBackend::open(*loop, "/dev/full", "serial0");
  ASSERT_TRUE(backend) << backend.error().message();
  testing::internal::CaptureStderr();
  EXPECT_EQ((*backend)->write(as_bytes("lost\n")), 5u);
  EXPECT_EQ((*backend)->write(as_bytes("lost too\n")), 9u);
  std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_TRUE((*backend)->failed());
  EXPECT_EQ(stderr_text,
            "cr16-system: serial0: writing file:/dev/full failed (No space left on device); "
            "further output is dropped\n");
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
  TempDir dir;
  std::string path = dir.file("console.sock");
  Expected<SerialSpec> spec = parse_serial_spec("unix:" + path + ",server=on");
  ASSERT_TRUE(spec);
  Expected<std::unique_ptr<SocketCharBackend>> backend =
      SocketCharBackend::open(*loop, *spec, "serial0");
  ASSERT_TRUE(backend) << backend.error().message();
  EXPECT_TRUE((*backend)->waiting_for_client());
  RecordingFrontend frontend;
  (*backend)->attach(&frontend);
  EXPECT_TRUE(frontend.events.empty());  // nobody there yet
  int client = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_TRUE(spin_until(*loop, [&] { return !(*backend)->waiting_for_client(); }));
  EXPECT_EQ(frontend.events, std::vector<CharEvent>{CharEvent::kOpened});
  ASSERT_EQ(write(client, "u", 1), 1);
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.received == "u"; }));
  close(client);
  EXPECT_TRUE(spin_until(*loop, [&] { return frontend.events.size() == 2; }));
  EXPECT_EQ(frontend.events.back(), CharEvent::kClosed);
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
  EXPECT_EQ(create_char_backend(*parse_serial_spec("none"), *loop, "s")->get(), nullptr);
  EXPECT_NE(create_char_backend(*parse_serial_spec("null"), *loop, "s")->get(), nullptr);
  TempDir dir;
  EXPECT_NE(create_char_backend(*parse_serial_spec("file:" + dir.file("f.txt")), *loop, "s")->get(),
            nullptr);
  EXPECT_FALSE(create_char_backend(*parse_serial_spec("tcp:127.0.0.1:1"), *loop, "s"));
}

}  // namespace
}  // namespace cr16::system
