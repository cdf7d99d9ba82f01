// Live migration end to end inside one process: a source (OutgoingMigration
// over a test host) and a destination (IncomingMigration) on one loop, real
// sockets, files, pipes and commands between them. A "guest" writes the
// source's RAM while passes run; at the end the destination's memory and
// device state must equal the source's byte for byte. Failures, cancels and
// refusals must leave the source as it was.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hw/sysctl.h"
#include "io/loop.h"
#include "migration/incoming.h"
#include "migration/outgoing.h"
#include "stream_machine.h"
#include "tests/unit/io/tls_test_certs.h"

namespace cr16::migration {
namespace {

using test::StreamMachine;

class TestHost : public MigrationHost {
 public:
  explicit TestHost(io::Loop& loop) : loop_(loop) {}
  io::Loop& loop() override { return loop_; }
  AddressSpace& memory() override { return machine.devices.memory; }
  std::vector<StateSection> state_sections() override { return machine.devices.sections(); }
  std::string board_name() const override { return "virt"; }
  std::string cpu_name() const override { return "cr16cplus"; }
  Error stop_vm() override {
    running = false;
    ++stops;
    if (on_stop) on_stop();
    return Error();
  }
  void resume_vm() override {
    running = true;
    ++resumes;
  }
  void vm_migrated() override { migrated = true; }
  void set_cpu_throttle(unsigned percent) override { throttle = percent; }

  StreamMachine machine;
  bool running = true;
  bool migrated = false;
  int stops = 0;
  int resumes = 0;
  unsigned throttle = 0;
  std::function<void()> on_stop;

 private:
  io::Loop& loop_;
};

class LiveMigration : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = io::Loop::create(io::LoopBackend::kEpoll);
    ASSERT_TRUE(created.ok());
    loop = std::move(*created);
    source = std::make_unique<TestHost>(*loop);
    destination = std::make_unique<StreamMachine>();
    std::string pattern = ::testing::TempDir() + "/cr16-live-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    // Guest memory worth sending: random RAM, a pattern in the flash array.
    std::mt19937 random(7);
    uint8_t* ram = source->machine.ram();
    for (uint32_t i = 0; i < test::kStreamRamBytes; ++i) ram[i] = static_cast<uint8_t>(random());
    std::memset(ram + 4 * kPageSize, 0, 2 * kPageSize);  // two zero pages
    std::vector<uint8_t> firmware(3 * kPageSize);
    for (size_t i = 0; i < firmware.size(); ++i) firmware[i] = static_cast<uint8_t>(i * 7);
    ASSERT_TRUE(source->machine.devices.flash->load_image(firmware).ok());
    static_cast<SysctlState*>(source->machine.devices.sysctl.state_data())->scratch = 0x5EED;
  }
  void TearDown() override {
    outgoing.reset();
    incoming.reset();
    std::filesystem::remove_all(dir);
  }

  Error start_incoming(const std::string& uri_text, TlsSettings tls = {},
                       FdLookup fd_lookup = nullptr) {
    Expected<MigrationUri> uri = parse_migration_uri(uri_text);
    if (!uri) return uri.error();
    IncomingMigration::Listeners listeners;
    listeners.finished = [this](Error error) {
      incoming_done = true;
      incoming_error = error;
    };
    incoming = std::make_unique<IncomingMigration>(
        *loop, destination->target(), *uri, [tls] { return Expected<TlsSettings>(tls); },
        std::move(fd_lookup), std::move(listeners));
    return incoming->start();
  }

  void start_outgoing(const std::string& uri_text, MigrationParameters parameters = {},
                      MigrationCapabilities capabilities = {}, TlsSettings tls = {},
                      FdLookup fd_lookup = nullptr) {
    Expected<MigrationUri> uri = parse_migration_uri(uri_text);
    ASSERT_TRUE(uri.ok()) << uri.error().message();
    OutgoingMigration::Listeners listeners;
    listeners.status = [this](MigrationStatus status) { statuses.push_back(status); };
    listeners.pass = [this](uint32_t pass) { passes.push_back(pass); };
    outgoing =
        std::make_unique<OutgoingMigration>(*source, *uri, parameters, capabilities, std::move(tls),
                                            std::move(fd_lookup), std::move(listeners));
    outgoing->start();
  }

  /// Runs the loop until `done()` or the deadline (a failed test, not a hang).
  void run_until(const std::function<bool()>& done, int limit_ms = 20'000) {
    const int64_t deadline = loop->now() + int64_t{limit_ms} * 1'000'000;
    while (!done() && loop->now() < deadline) loop->run_once(5'000'000);
    ASSERT_TRUE(done()) << "timed out";
  }
  bool source_finished() const {
    return outgoing && !migration_status_is_active(outgoing->status());
  }

  /// A guest that writes `writes` times into the source's RAM while it
  /// runs, every 100 us; with `all_pages` each time into each of pages 8-15.
  void start_guest_writer(int writes, bool all_pages = false) {
    writes_left = writes;
    every_page = all_pages;
    schedule_write();
  }
  void schedule_write() {
    loop->add_timer(io::ClockType::kRealtime, loop->now() + 100'000, [this] {
      if (writes_left <= 0 || !source->running) return;
      const uint8_t value[4] = {0xAB, static_cast<uint8_t>(writes_left), 0xCD, 0xEF};
      for (uint32_t i = 0; i < 8; ++i) {
        // Pages 8-15: never the zero pages 4 and 5.
        const uint32_t page = 8 + (every_page ? i : static_cast<uint32_t>(writes_left % 8));
        ASSERT_TRUE(source->machine.devices.memory.write_bytes(page * kPageSize + 64, value).ok());
        if (!every_page) break;
      }
      --writes_left;
      schedule_write();
    });
  }

  /// The destination holds what the source holds: RAM, flash, device state.
  void expect_identical() {
    EXPECT_EQ(std::memcmp(source->machine.ram(), destination->ram(), test::kStreamRamBytes), 0)
        << "RAM differs";
    EXPECT_EQ(std::memcmp(source->machine.devices.flash->contents(),
                          destination->devices.flash->contents(), virt::kFlashSize),
              0)
        << "flash differs";
    Expected<std::vector<uint8_t>> a = save_state_sections(source->machine.devices.sections());
    Expected<std::vector<uint8_t>> b = save_state_sections(destination->devices.sections());
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b) << "device state differs";
  }

  void migrate_and_check(const std::string& uri, MigrationParameters parameters = {},
                         MigrationCapabilities capabilities = {}, TlsSettings client = {},
                         TlsSettings server = {}) {
    ASSERT_TRUE(start_incoming(uri, server).ok());
    std::string target = uri;
    if (uri.starts_with("tcp:")) target = incoming->listen_address();
    start_outgoing(target, parameters, capabilities, client);
    run_until([&] { return source_finished() && incoming_done; });
    ASSERT_EQ(outgoing->status(), MigrationStatus::kCompleted) << outgoing->stats().error;
    ASSERT_TRUE(incoming_error.ok()) << incoming_error.message();
    EXPECT_TRUE(source->migrated);
    EXPECT_FALSE(source->running);
    EXPECT_EQ(source->stops, 1);
    EXPECT_EQ(source->resumes, 0);
    expect_identical();
  }

  std::unique_ptr<io::Loop> loop;
  std::unique_ptr<TestHost> source;
  std::unique_ptr<StreamMachine> destination;
  std::unique_ptr<OutgoingMigration> outgoing;
  std::unique_ptr<IncomingMigration> incoming;
  std::vector<MigrationStatus> statuses;
  std::vector<uint32_t> passes;
  bool incoming_done = false;
  Error incoming_error;
  int writes_left = 0;
  bool every_page = false;
  std::string dir;
};

/// An FdLookup that knows one name.
FdLookup named_fd(std::string known, int fd) {
  return [known = std::move(known), fd](const std::string& name) -> Expected<int> {
    if (name != known) return Error("unknown fd name " + name);
    return fd;
  };
}

MigrationParameters unlimited(uint64_t downtime_ms = 300) {
  MigrationParameters parameters;
  parameters.max_bandwidth = 0;
  parameters.downtime_limit_ms = downtime_ms;
  return parameters;
}

TEST_F(LiveMigration, OverAUnixSocketWhileTheGuestWritesMemory) {
  start_guest_writer(40);
  // downtime-limit 0: only a pass with nothing dirty may end it.
  migrate_and_check("unix:" + dir + "/m.sock", unlimited(0));
  EXPECT_GE(passes.size(), 2u);
  const std::vector<MigrationStatus> expected_start = {
      MigrationStatus::kSetup, MigrationStatus::kActive, MigrationStatus::kDevice,
      MigrationStatus::kCompleted};
  EXPECT_EQ(statuses, expected_start);
  MigrationStats stats = outgoing->stats();
  EXPECT_EQ(stats.passes, passes.size());
  EXPECT_GT(stats.normal_pages, 0u);
  EXPECT_GE(stats.zero_pages, 2u) << "zero pages go as zero records";
  EXPECT_EQ(stats.ram_remaining, 0u);
  EXPECT_GT(stats.ram_transferred, test::kStreamRamBytes);
  EXPECT_EQ(incoming->stats().passes, passes.size());
}

TEST_F(LiveMigration, ZeroPagesCostAFewBytes) {
  std::memset(source->machine.ram(), 0, test::kStreamRamBytes);
  migrate_and_check("unix:" + dir + "/m.sock", unlimited());
  MigrationStats stats = outgoing->stats();
  // 16 zero RAM pages and 253 erased-flash pages (0xFF) sent as data
  // would be a megabyte: they are 4 bytes a page; only the 3 pages of
  // firmware go as data.
  EXPECT_GE(stats.zero_pages, 16u + 253u);
  EXPECT_EQ(stats.normal_pages, 3u);
  EXPECT_LT(stats.ram_transferred - stats.normal_pages * (kPageSize + 4), 4096u);
}

TEST_F(LiveMigration, MultifdWithZeroCopyOverTcp) {
  start_guest_writer(30);
  MigrationParameters parameters = unlimited(0);
  parameters.multifd_channels = 3;
  MigrationCapabilities capabilities;
  capabilities.multifd = true;
  capabilities.zero_copy_send = true;
  migrate_and_check("tcp:127.0.0.1:0", parameters, capabilities);
  MigrationStats stats = outgoing->stats();
  EXPECT_GT(stats.multifd_bytes, test::kStreamRamBytes);
  EXPECT_GT(stats.zero_copy_sends, 0u);
  EXPECT_EQ(stats.zero_copy_completed, stats.zero_copy_sends) << "every send flushed";
}

TEST_F(LiveMigration, OverTlsWithMultifd) {
  Expected<io::testing::TlsTestCertificates> certificates =
      io::testing::TlsTestCertificates::create();
  ASSERT_TRUE(certificates.ok()) << certificates.error().message();
  auto client =
      io::TlsCredentials::load_x509(certificates->client_dir(), io::TlsEndpoint::kClient, true);
  auto server =
      io::TlsCredentials::load_x509(certificates->server_dir(), io::TlsEndpoint::kServer, true);
  ASSERT_TRUE(client.ok() && server.ok());
  MigrationParameters parameters = unlimited();
  MigrationCapabilities capabilities;
  capabilities.multifd = true;
  migrate_and_check("tcp:127.0.0.1:0", parameters, capabilities, {*client, "localhost"},
                    {*server, ""});
}

TEST_F(LiveMigration, TlsWithTheWrongCaIsRefusedAndTheSourceRunsOn) {
  Expected<io::testing::TlsTestCertificates> certificates =
      io::testing::TlsTestCertificates::create();
  ASSERT_TRUE(certificates.ok());
  auto client = io::TlsCredentials::load_x509(certificates->client_wrong_ca_dir(),
                                              io::TlsEndpoint::kClient, true);
  auto server =
      io::TlsCredentials::load_x509(certificates->server_dir(), io::TlsEndpoint::kServer, true);
  ASSERT_TRUE(client.ok() && server.ok());
  ASSERT_TRUE(start_incoming("tcp:127.0.0.1:0", {*server, ""}).ok());
  start_outgoing(incoming->listen_address(), unlimited(), {}, {*client, "localhost"});
  run_until([&] { return source_finished() && incoming_done; });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kFailed);
  EXPECT_NE(outgoing->stats().error.find("TLS handshake"), std::string::npos)
      << outgoing->stats().error;
  EXPECT_FALSE(incoming_error.ok());
  EXPECT_TRUE(source->running);
  EXPECT_EQ(source->stops, 0);
  EXPECT_FALSE(source->migrated);
}

TEST_F(LiveMigration, ToAFileAndBackWithAnOffset) {
  const std::string path = dir + "/vm.mig";
  std::ofstream(path) << std::string(100, 'H');  // the user's own header before the stream
  start_outgoing("file:" + path + ",offset=100", unlimited());
  run_until([&] { return source_finished(); });
  ASSERT_EQ(outgoing->status(), MigrationStatus::kCompleted) << outgoing->stats().error;
  std::ifstream check(path);
  std::string head(100, '\0');
  check.read(head.data(), 100);
  EXPECT_EQ(head, std::string(100, 'H')) << "the bytes before the offset stay";
  ASSERT_TRUE(start_incoming("file:" + path + ",offset=100").ok());
  run_until([&] { return incoming_done; });
  ASSERT_TRUE(incoming_error.ok()) << incoming_error.message();
  expect_identical();
}

TEST_F(LiveMigration, ATruncatedFileIsRefused) {
  const std::string path = dir + "/vm.mig";
  start_outgoing("file:" + path, unlimited());
  run_until([&] { return source_finished(); });
  ASSERT_EQ(outgoing->status(), MigrationStatus::kCompleted);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 200);
  const std::vector<uint8_t> before = destination->devices.fingerprint();
  ASSERT_TRUE(start_incoming("file:" + path).ok());
  run_until([&] { return incoming_done; });
  ASSERT_FALSE(incoming_error.ok());
  EXPECT_NE(incoming_error.message().find("truncated"), std::string::npos)
      << incoming_error.message();
  EXPECT_EQ(destination->devices.fingerprint(), before) << "no device state from a cut stream";
}

TEST_F(LiveMigration, ThroughExecCommands) {
  const std::string path = dir + "/vm.mig";
  start_outgoing("exec:cat > " + path, unlimited());
  run_until([&] { return source_finished(); });
  ASSERT_EQ(outgoing->status(), MigrationStatus::kCompleted) << outgoing->stats().error;
  ASSERT_TRUE(start_incoming("exec:cat " + path).ok());
  run_until([&] { return incoming_done; });
  ASSERT_TRUE(incoming_error.ok()) << incoming_error.message();
  expect_identical();
}

TEST_F(LiveMigration, AFailingExecCommandFailsTheMigration) {
  start_outgoing("exec:cat > /dev/null; exit 3", unlimited());
  run_until([&] { return source_finished(); });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kFailed);
  EXPECT_NE(outgoing->stats().error.find("exited with status 3"), std::string::npos)
      << outgoing->stats().error;
  EXPECT_TRUE(source->running) << "the VM runs again after a failure in the device phase";
  EXPECT_EQ(source->resumes, 1);
}

TEST_F(LiveMigration, OverFileDescriptors) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  Error started = start_incoming("fd:migfd", TlsSettings(), named_fd("migfd", pair[1]));
  ASSERT_TRUE(started.ok()) << started.message();
  start_outgoing("fd:migfd", unlimited(), MigrationCapabilities(), TlsSettings(),
                 named_fd("migfd", pair[0]));
  run_until([&] { return source_finished() && incoming_done; });
  ASSERT_EQ(outgoing->status(), MigrationStatus::kCompleted) << outgoing->stats().error;
  ASSERT_TRUE(incoming_error.ok()) << incoming_error.message();
  expect_identical();
}

TEST_F(LiveMigration, CancelWhileActiveLeavesTheSourceRunning) {
  MigrationParameters parameters;
  parameters.max_bandwidth = 64 * 1024;  // the flash alone takes seconds
  ASSERT_TRUE(start_incoming("unix:" + dir + "/m.sock").ok());
  start_outgoing("unix:" + dir + "/m.sock", parameters);
  run_until([&] { return outgoing->status() == MigrationStatus::kActive; });
  run_until([&] { return outgoing->stats().ram_transferred > 8192; });
  outgoing->cancel();
  EXPECT_EQ(outgoing->status(), MigrationStatus::kCancelling);
  run_until([&] { return source_finished() && incoming_done; });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kCancelled);
  EXPECT_EQ(statuses.back(), MigrationStatus::kCancelled);
  EXPECT_TRUE(source->running);
  EXPECT_EQ(source->stops, 0);
  EXPECT_FALSE(source->migrated);
  EXPECT_FALSE(incoming_error.ok()) << "the destination sees a cut stream";
  EXPECT_FALSE(source->machine.devices.memory.dirty_log_active(DirtyLogClient::kMigration));
}

TEST_F(LiveMigration, CancelInTheDevicePhaseResumesTheSource) {
  ASSERT_TRUE(start_incoming("unix:" + dir + "/m.sock").ok());
  source->on_stop = [this] { outgoing->cancel(); };
  start_outgoing("unix:" + dir + "/m.sock", unlimited());
  run_until([&] { return source_finished(); });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kCancelled);
  EXPECT_EQ(source->stops, 1);
  EXPECT_EQ(source->resumes, 1);
  EXPECT_TRUE(source->running);
  EXPECT_FALSE(source->migrated);
}

TEST_F(LiveMigration, CancelDuringSetup) {
  // A listener that never answers the TLS handshake: setup never ends.
  Expected<io::testing::TlsTestCertificates> certificates =
      io::testing::TlsTestCertificates::create();
  ASSERT_TRUE(certificates.ok());
  auto client =
      io::TlsCredentials::load_x509(certificates->client_dir(), io::TlsEndpoint::kClient, true);
  ASSERT_TRUE(client.ok());
  auto silent = io::SocketChannel::listen(io::SocketAddress::unix_path(dir + "/silent.sock"));
  ASSERT_TRUE(silent.ok());
  start_outgoing("unix:" + dir + "/silent.sock", unlimited(), {}, {*client, "localhost"});
  const int64_t until = loop->now() + 100'000'000;
  while (loop->now() < until) loop->run_once(10'000'000);
  ASSERT_EQ(outgoing->status(), MigrationStatus::kSetup);
  outgoing->cancel();
  EXPECT_EQ(outgoing->status(), MigrationStatus::kCancelled);
  EXPECT_TRUE(source->running);
  EXPECT_EQ(source->stops, 0);
}

TEST_F(LiveMigration, ADestinationThatGoesAwayFailsTheMigration) {
  // A "destination" that reads a little and hangs up.
  auto listener = io::SocketChannel::listen(io::SocketAddress::unix_path(dir + "/m.sock"));
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE((*listener)->set_blocking(false).ok());
  MigrationParameters parameters;
  parameters.max_bandwidth = 256 * 1024;
  start_outgoing("unix:" + dir + "/m.sock", parameters);
  std::unique_ptr<io::SocketChannel> peer;
  run_until([&] {
    auto accepted = (*listener)->accept();
    if (accepted.ok() && *accepted) peer = std::move(*accepted);
    return peer != nullptr;
  });
  run_until([&] { return outgoing->status() == MigrationStatus::kActive; });
  uint8_t buffer[4096];
  ASSERT_TRUE(io::read_all(*peer, buffer, sizeof buffer).ok());
  peer.reset();
  run_until([&] { return source_finished(); });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kFailed);
  EXPECT_FALSE(outgoing->stats().error.empty());
  EXPECT_TRUE(source->running);
  EXPECT_FALSE(source->machine.devices.memory.dirty_log_active(DirtyLogClient::kMigration));
}

TEST_F(LiveMigration, NobodyListeningFailsInSetup) {
  start_outgoing("unix:" + dir + "/nobody.sock", unlimited());
  run_until([&] { return source_finished(); });
  EXPECT_EQ(outgoing->status(), MigrationStatus::kFailed);
  EXPECT_EQ(statuses.front(), MigrationStatus::kSetup);
  EXPECT_TRUE(source->running);
}

TEST_F(LiveMigration, AutoConvergeThrottlesAGuestThatOutrunsTheLink) {
  // A guest rewriting its 16 RAM pages every few ms against 4 MiB/s: dirtying wins.
  MigrationParameters parameters;
  parameters.max_bandwidth = 4u << 20;
  parameters.downtime_limit_ms = 0;  // only a clean pass could end it
  MigrationCapabilities capabilities;
  capabilities.auto_converge = true;
  start_guest_writer(1'000'000, true);
  // Everything but one RAM page is already at the destination: make passes short.
  std::vector<uint8_t> erased(virt::kFlashSize, 0xFF);
  ASSERT_TRUE(source->machine.devices.flash->load_image(erased).ok());
  std::memset(source->machine.ram(), 0, test::kStreamRamBytes);
  ASSERT_TRUE(start_incoming("unix:" + dir + "/m.sock").ok());
  start_outgoing("unix:" + dir + "/m.sock", parameters, capabilities);
  run_until([&] { return source->throttle > 0 || source_finished(); }, 30'000);
  EXPECT_GE(source->throttle, parameters.throttle_initial)
      << "status " << migration_status_name(outgoing->status()) << ", " << passes.size()
      << " passes, " << outgoing->stats().error;
  EXPECT_EQ(outgoing->stats().cpu_throttle_percent, source->throttle);
  outgoing->cancel();
  run_until([&] { return source_finished(); });
  EXPECT_EQ(source->throttle, 0u) << "the throttle ends with the migration";
}

}  // namespace
}  // namespace cr16::migration
