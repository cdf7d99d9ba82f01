// MigrationControl on a real machine: the run states and events of a
// migration (MIGRATION, MIGRATION_PASS, STOP), two machines in one process
// moving a running guest, the migration commands through both front ends'
// argument paths (HMP lines, QMP-style argument dictionaries), and every
// refusal of parameters, capabilities, URIs and -incoming/-object options.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "hw/board.h"
#include "io/loop.h"
#include "machine_test_helpers.h"
#include "system/machine_control.h"
#include "system/migration_control.h"
#include "system/monitor/commands.h"
#include "system/monitor/events.h"
#include "system/monitor/hmp.h"

namespace cr16::system {
namespace {

using monitor::Value;
using test::kCounterProgram;
using test::MachineFixture;

using MigrationControlTest = MachineFixture;

Expected<Options> options_of(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return parse_options(std::span<const std::string_view>(views));
}

Expected<Value> run_command(MachineControl& control, const char* name, const Value& arguments) {
  const monitor::Command* command = monitor::find_command(name);
  if (command == nullptr) return Error(std::string("no command ") + name);
  if (Error error = monitor::validate_arguments(*command, arguments); !error.ok()) return error;
  monitor::CommandContext context{control};
  return command->handler(context, arguments);
}

TEST_F(MigrationControlTest, AMigrationToAFileStopsTheVmInPostmigrateWithItsEvents) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  ASSERT_NE(control.migration(), nullptr);
  std::vector<std::string> events;
  control.events().add([&](const monitor::Event& event) {
    std::string text = event.name;
    if (const Value* status = event.data.find("status")) text += " " + status->as_string();
    if (const Value* pass = event.data.find("pass")) text += " " + std::to_string(pass->as_int());
    events.push_back(text);
  });
  const std::string path = dir_ + "/vm.mig";
  at(20, [&] { EXPECT_TRUE(control.migration()->migrate("file:" + path).ok()); });
  // However long a loaded machine takes: the checks run once it ended.
  auto ended = [&] {
    const migration::MigrationStatus status = control.migration()->query().status;
    return status == migration::MigrationStatus::kCompleted ||
           status == migration::MigrationStatus::kFailed;
  };
  at(21, [&] {
    when(ended, [&] {
      EXPECT_EQ(control.migration()->query().status, migration::MigrationStatus::kCompleted);
      EXPECT_EQ(control.run_state(), RunState::kPostMigrate);
      // QEMU lets a migrated source run again.
      EXPECT_TRUE(control.cont().ok());
      EXPECT_EQ(control.run_state(), RunState::kRunning);
      control.quit();
    });
  });
  EXPECT_EQ(run_with_limit(), 0);
  std::vector<std::string> migration_events;
  for (const std::string& event : events) {
    if (event.starts_with("MIGRATION") || event == "STOP") migration_events.push_back(event);
  }
  ASSERT_GE(migration_events.size(), 6u) << ::testing::PrintToString(events);
  EXPECT_EQ(migration_events[0], "MIGRATION setup");
  EXPECT_EQ(migration_events[1], "MIGRATION active");
  EXPECT_EQ(migration_events[2], "MIGRATION_PASS 1");
  // The last pass runs with the VM stopped (STOP first, as QEMU orders them).
  const std::vector<std::string> tail(migration_events.end() - 4, migration_events.end());
  EXPECT_EQ(tail[0], "STOP");
  EXPECT_EQ(tail[1], "MIGRATION device");
  EXPECT_TRUE(tail[2].starts_with("MIGRATION_PASS ")) << tail[2];
  EXPECT_EQ(tail[3], "MIGRATION completed");
}

TEST_F(MigrationControlTest, TwoMachinesInOneProcessMoveARunningGuest) {
  Machine& source = make(kCounterProgram);
  // The destination: the same program, waiting for the stream.
  const std::string socket_path = dir_ + "/mig.sock";
  const std::string program = dir_ + "/program.bin";
  Expected<Options> options = options_of({"-kernel", program, "-serial", "none", "-monitor", "none",
                                          "-loop", "epoll", "-incoming", "unix:" + socket_path});
  ASSERT_TRUE(options.ok()) << options.error().message();
  Expected<std::unique_ptr<Machine>> destination = Machine::create(*options);
  ASSERT_TRUE(destination.ok()) << destination.error().message();
  EXPECT_EQ((*destination)->control().run_state(), RunState::kInMigrate);
  EXPECT_NE((*destination)->control().cont().message().find("incoming migration"),
            std::string::npos);
  uint64_t r4_at_stop = 0;
  at(30, [&] { EXPECT_TRUE(source.control().migration()->migrate("unix:" + socket_path).ok()); });
  // Both machines share this thread: turn the destination's loop from a timer.
  std::function<void()> pump = [&] {
    (*destination)->loop().run_once(0);
    if ((*destination)->control().run_state() == RunState::kRunning) {
      Expected<uint64_t> r4 = source.control().read_register("r4");
      r4_at_stop = r4.ok() ? *r4 : 0;
      source.control().quit();
      return;
    }
    at(1, pump);
  };
  at(31, pump);
  EXPECT_EQ(run_with_limit(), 0);
  ASSERT_EQ(source.control().migration()->query().status, migration::MigrationStatus::kCompleted);
  EXPECT_EQ(source.control().run_state(), RunState::kPostMigrate);
  // The destination holds the source's registers as they were at the stop.
  Expected<uint64_t> moved = (*destination)->control().read_register("r4");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, r4_at_stop);
  EXPECT_GT(r4_at_stop, 0u);
  EXPECT_EQ((*destination)->control().migration()->query().status,
            migration::MigrationStatus::kCompleted);
}

TEST_F(MigrationControlTest, HmpShowsAndSetsParametersAndCapabilities) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  auto hmp = [&](const std::string& line) { return monitor::execute_hmp_line(line, control); };
  EXPECT_EQ(hmp("info migrate"), "") << "nothing before the first migration";
  EXPECT_EQ(hmp("info migrate_capabilities"),
            "auto-converge: off\nevents: off\nmultifd: off\nzero-copy-send: off\n");
  const std::string parameters = hmp("info migrate_parameters");
  EXPECT_NE(parameters.find("max-bandwidth: 134217728 bytes/second"), std::string::npos)
      << parameters;
  EXPECT_NE(parameters.find("downtime-limit: 300 ms"), std::string::npos);
  EXPECT_NE(parameters.find("multifd-channels: 2"), std::string::npos);
  EXPECT_NE(parameters.find("tls-creds: ''"), std::string::npos);

  EXPECT_NE(hmp("migrate_set_capability zero-copy-send on").find("requires the multifd"),
            std::string::npos);
  EXPECT_EQ(hmp("migrate_set_capability multifd on"), "");
  EXPECT_EQ(hmp("migrate_set_capability zero-copy-send on"), "");
  EXPECT_NE(hmp("info migrate_capabilities").find("zero-copy-send: on"), std::string::npos);
  EXPECT_NE(hmp("migrate_set_capability multifd off").find("requires the multifd"),
            std::string::npos)
      << "turning multifd off under zero-copy-send is refused";
  EXPECT_NE(hmp("migrate_set_capability xbzrle on").find("unknown capability 'xbzrle'"),
            std::string::npos);

  EXPECT_EQ(hmp("migrate_set_parameter max-bandwidth 1G"), "");
  EXPECT_EQ(hmp("migrate_set_parameter downtime-limit 5"), "");
  EXPECT_EQ(control.migration()->parameters().max_bandwidth, uint64_t{1} << 30);
  EXPECT_EQ(control.migration()->parameters().downtime_limit_ms, 5u);
  EXPECT_EQ(hmp("migrate_set_parameter max-bandwidth 512"), "");
  EXPECT_EQ(control.migration()->parameters().max_bandwidth, uint64_t{512} << 20)
      << "a bare number is MiB/s";
  EXPECT_NE(hmp("migrate_set_parameter downtime-limit 2000001").find("between 0 and 2000000"),
            std::string::npos);
  EXPECT_NE(hmp("migrate_set_parameter multifd-channels 0").find("between 1 and 16"),
            std::string::npos);
  EXPECT_NE(hmp("migrate_set_parameter max-bandwidth lots").find("bad size 'lots'"),
            std::string::npos);
  EXPECT_NE(hmp("migrate_set_parameter tls-creds tls9").find("no tls-creds-x509 object"),
            std::string::npos);
  EXPECT_NE(hmp("migrate_set_parameter speed 9").find("unknown parameter 'speed'"),
            std::string::npos);
  EXPECT_EQ(control.migration()->parameters().downtime_limit_ms, 5u) << "refusals change nothing";

  EXPECT_NE(hmp("migrate -d ftp:somewhere").find("'ftp:somewhere': unknown transport"),
            std::string::npos);
  EXPECT_NE(hmp("migrate -d file:" + dir_ + "/x").find("multifd needs a tcp: or unix: URI"),
            std::string::npos);
  EXPECT_NE(hmp("migrate_incoming tcp:127.0.0.1:0").find("-incoming defer"), std::string::npos);
  EXPECT_EQ(hmp("migrate_cancel"), "") << "nothing to cancel is no error";
}

TEST_F(MigrationControlTest, QmpArgumentsFollowQemusSchema) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  Expected<Value> none = run_command(control, "query-migrate", Value::dict());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->as_dict().empty()) << "QEMU answers {} before any migration";

  Value capabilities = Value::dict().set(
      "capabilities", Value::list()
                          .push(Value::dict()
                                    .set("capability", Value::string("multifd"))
                                    .set("state", Value::boolean(true)))
                          .push(Value::dict()
                                    .set("capability", Value::string("auto-converge"))
                                    .set("state", Value::boolean(true))));
  ASSERT_TRUE(run_command(control, "migrate-set-capabilities", capabilities).ok());
  Expected<Value> listed = run_command(control, "query-migrate-capabilities", Value::dict());
  ASSERT_TRUE(listed.ok());
  int on = 0;
  for (const Value& entry : listed->as_list()) on += entry.bool_or("state", false) ? 1 : 0;
  EXPECT_EQ(on, 2);

  Value malformed = Value::dict().set("capabilities", Value::list().push(Value::dict().set(
                                                          "capability", Value::string("multifd"))));
  Expected<Value> refused = run_command(control, "migrate-set-capabilities", malformed);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("\"capability\": NAME, \"state\": BOOL"),
            std::string::npos);
  EXPECT_FALSE(run_command(control, "migrate-set-capabilities",
                           Value::dict().set("capabilities", Value::string("multifd")))
                   .ok());

  Value parameters = Value::dict()
                         .set("max-bandwidth", Value::integer(1'000'000))
                         .set("downtime-limit", Value::integer(7))
                         .set("multifd-channels", Value::integer(4));
  ASSERT_TRUE(run_command(control, "migrate-set-parameters", parameters).ok());
  Expected<Value> shown = run_command(control, "query-migrate-parameters", Value::dict());
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->int_or("max-bandwidth", 0), 1'000'000);
  EXPECT_EQ(shown->int_or("downtime-limit", 0), 7);
  EXPECT_EQ(shown->int_or("multifd-channels", 0), 4);
  EXPECT_FALSE(run_command(control, "migrate-set-parameters",
                           Value::dict().set("downtime-limit", Value::integer(-1)))
                   .ok());
  EXPECT_FALSE(run_command(control, "migrate-set-parameters",
                           Value::dict().set("bandwidth", Value::integer(1)))
                   .ok())
      << "unknown members are refused";
  EXPECT_FALSE(run_command(control, "migrate", Value::dict()).ok()) << "uri is required";
  Expected<Value> blk = run_command(
      control, "migrate",
      Value::dict().set("uri", Value::string("unix:/nowhere")).set("blk", Value::boolean(true)));
  ASSERT_FALSE(blk.ok());
  EXPECT_NE(blk.error().message().find("'blk' is not supported"), std::string::npos);
}

TEST_F(MigrationControlTest, NothingChangesCapabilitiesOrTlsDuringAMigration) {
  Machine& machine = make(kCounterProgram);
  MachineControl& control = machine.control();
  MigrationControl& migration = *control.migration();
  // A destination that accepts (the kernel does) and never reads: setup
  // ends, the first pass stalls at the rate limit.
  const std::string path = dir_ + "/slow.sock";
  auto listener = io::SocketChannel::listen(io::SocketAddress::unix_path(path));
  ASSERT_TRUE(listener.ok());
  MigrationParameterChanges slow;
  slow.max_bandwidth = 4096;
  ASSERT_TRUE(migration.set_parameters(slow).ok());
  at(10, [&] { ASSERT_TRUE(migration.migrate("unix:" + path).ok()); });
  auto status_is = [&](migration::MigrationStatus wanted) {
    return [&migration, wanted] { return migration.query().status == wanted; };
  };
  at(11, [&] {
    when(status_is(migration::MigrationStatus::kActive), [&] {
      EXPECT_NE(migration.migrate("unix:" + path).message().find("in progress"), std::string::npos);
      std::pair<std::string, bool> change{"auto-converge", true};
      EXPECT_NE(migration.set_capabilities(std::span(&change, 1)).message().find("in progress"),
                std::string::npos);
      MigrationParameterChanges channels;
      channels.multifd_channels = 5;
      EXPECT_FALSE(migration.set_parameters(channels).ok());
      MigrationParameterChanges faster;
      faster.downtime_limit_ms = 50;
      EXPECT_TRUE(migration.set_parameters(faster).ok()) << "the downtime limit may change";
      EXPECT_TRUE(migration.cancel().ok());
      when(status_is(migration::MigrationStatus::kCancelled), [&] {
        EXPECT_EQ(control.run_state(), RunState::kRunning);
        control.quit();
      });
    });
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST(MigrationOptions, IncomingAndTlsObjectsAreParsedAndRefused) {
  Expected<Options> good =
      options_of({"-incoming", "defer", "-object",
                  "tls-creds-x509,id=tls0,dir=/etc/pki,endpoint=server,verify-peer=off"});
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_EQ(good->incoming, "defer");
  ASSERT_EQ(good->tls_creds.size(), 1u);
  EXPECT_EQ(good->tls_creds[0].id, "tls0");
  EXPECT_EQ(good->tls_creds[0].dir, "/etc/pki");
  EXPECT_TRUE(good->tls_creds[0].server);
  EXPECT_FALSE(good->tls_creds[0].verify_peer);

  struct Case {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"-object", "memory-backend-ram,id=m"}, "unknown object type 'memory-backend-ram'"},
      {{"-object", "tls-creds-x509,dir=/x"}, "missing id=ID"},
      {{"-object", "tls-creds-x509,id=t"}, "missing dir=DIR"},
      {{"-object", "tls-creds-x509,id=t,dir=/x,endpoint=middle"}, "bad endpoint 'middle'"},
      {{"-object", "tls-creds-x509,id=t,dir=/x,verify-peer=maybe"}, "'verify-peer'"},
      {{"-object", "tls-creds-x509,id=t,dir=/x,color=red"}, "unknown parameter 'color'"},
      {{"-object", "tls-creds-x509,id=t,dir=/x", "-object", "tls-creds-x509,id=t,dir=/y"},
       "duplicate id 't'"},
      {{"-incoming", ""}, "-incoming: empty URI"},
      {{"-incoming", "defer", "-incoming", "defer"}, "-incoming: given twice"},
  };
  for (const Case& c : cases) {
    Expected<Options> options = options_of(c.args);
    ASSERT_FALSE(options.ok()) << c.message;
    EXPECT_NE(options.error().message().find(c.message), std::string::npos)
        << options.error().message();
  }
}

TEST_F(MigrationControlTest, IncomingOnABusyAddressFailsAtStartUp) {
  const int busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(busy, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string uri = "tcp:127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  make(kCounterProgram);  // writes program.bin
  Expected<Options> options = options_of(
      {"-kernel", dir_ + "/program.bin", "-serial", "none", "-monitor", "none", "-incoming", uri});
  ASSERT_TRUE(options.ok());
  Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.error().message().find("-incoming " + uri), std::string::npos)
      << machine.error().message();
  close(busy);
}

}  // namespace
}  // namespace cr16::system
