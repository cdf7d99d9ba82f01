// SnapshotControl on a real machine, through the command table both front
// ends use: QMP's snapshot jobs with their events and query-jobs, HMP's
// savevm/loadvm/delvm/info snapshots that return when done, -loadvm at
// start-up, and refusals (no store, one operation at a time, a damaged
// snapshot, another RAM size) that leave the VM running as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "hw/virtual_clock.h"
#include "machine_test_helpers.h"
#include "system/machine_control.h"
#include "system/monitor/commands.h"
#include "system/monitor/events.h"
#include "system/monitor/hmp.h"
#include "system/snapshot_control.h"

namespace cr16::system {
namespace {

using monitor::Value;
using test::kCounterProgram;

class SnapshotControlTest : public test::MachineFixture {
 protected:
  std::string store() const { return dir_ + "/snapshots"; }
  Machine& make_with_store(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"-snapshot-dir", store()});
    return make(kCounterProgram, extra);
  }

  Expected<Value> call(const char* name, Value arguments = Value::dict()) {
    const monitor::Command* command = monitor::find_command(name);
    if (command == nullptr) return Error(std::string("no command ") + name);
    if (Error error = monitor::validate_arguments(*command, arguments); !error.ok()) return error;
    monitor::CommandContext context{machine_->control()};
    return command->handler(context, arguments);
  }
  static Value job_arguments(const std::string& id, const std::string& tag, bool with_vmstate) {
    Value arguments = Value::dict()
                          .set("job-id", Value::string(id))
                          .set("tag", Value::string(tag))
                          .set("devices", Value::list().push(Value::string("snapshot-dir")));
    if (with_vmstate) arguments.set("vmstate", Value::string("snapshot-dir"));
    return arguments;
  }
  std::string job_status(const std::string& id) {
    Expected<Value> jobs = call("query-jobs");
    if (!jobs) return "?";
    for (const Value& job : jobs->as_list()) {
      if (job.string_or("id", "") == id) return job.string_or("status", "");
    }
    return "none";
  }
  std::string hmp(const std::string& line) {
    return monitor::execute_hmp_line(line, machine_->control());
  }
  /// Polls `ready` every 2 ms on the machine thread, then runs `then`.
  void when(std::function<bool()> ready, std::function<void()> then) {
    io::Loop& loop = machine_->loop();
    loop.add_timer(io::ClockType::kRealtime, loop.now() + 2'000'000,
                   [this, ready = std::move(ready), then = std::move(then)]() mutable {
                     if (ready()) {
                       then();
                     } else {
                       when(std::move(ready), std::move(then));
                     }
                   });
  }
  std::vector<uint8_t> memory_at(uint32_t address, size_t length) {
    std::vector<uint8_t> bytes(length);
    EXPECT_TRUE(machine_->control().read_memory(address, bytes).ok());
    return bytes;
  }
  void poke(uint32_t address, std::vector<uint8_t> bytes) {
    EXPECT_TRUE(machine_->control().write_memory(address, bytes).ok());
  }
};

TEST_F(SnapshotControlTest, SaveAndLoadJobsRestoreMemoryAndReportEveryStep) {
  Machine& machine = make_with_store();
  MachineControl& control = machine.control();
  std::vector<std::string> events;
  control.events().add([&](const monitor::Event& event) {
    events.push_back(event.name == "JOB_STATUS_CHANGE"
                         ? event.data.string_or("id", "") + ":" + event.data.string_or("status", "")
                         : event.name);
  });
  const std::vector<uint8_t> saved = {1, 2, 3, 4};
  at(20, [&] {
    events.clear();
    poke(0x8000, saved);
    Expected<Value> started = call("snapshot-save", job_arguments("save0", "first", true));
    ASSERT_TRUE(started.ok()) << started.error().message();
    EXPECT_EQ(*started, Value::dict());
    EXPECT_EQ(control.run_state(), RunState::kSaveVm);
    when([&] { return job_status("save0") == "concluded"; },
         [&] {
           EXPECT_EQ(control.run_state(), RunState::kRunning);
           poke(0x8000, {9, 9, 9, 9});
           ASSERT_TRUE(call("snapshot-load", job_arguments("load0", "first", true)).ok());
           when([&] { return job_status("load0") == "concluded"; },
                [&] {
                  EXPECT_EQ(memory_at(0x8000, 4), saved);
                  EXPECT_EQ(control.run_state(), RunState::kRunning);
                  Expected<Value> jobs = call("query-jobs");
                  ASSERT_EQ(jobs->as_list().size(), 2u);
                  const Value& save = jobs->as_list()[0];
                  EXPECT_EQ(save.string_or("type", ""), "snapshot-save");
                  EXPECT_EQ(save.find("error"), nullptr);
                  EXPECT_GT(save.int_or("total-progress", 0), 0);
                  EXPECT_EQ(save.int_or("current-progress", -1), save.int_or("total-progress", 0));
                  EXPECT_TRUE(
                      call("job-dismiss", Value::dict().set("id", Value::string("save0"))).ok());
                  ASSERT_TRUE(call("snapshot-delete", job_arguments("del0", "first", false)).ok());
                  when([&] { return job_status("del0") == "concluded"; }, [&] { control.quit(); });
                });
         });
  });
  EXPECT_EQ(run_with_limit(), 0);
  const std::vector<std::string> expected = {
      "save0:created", "save0:running",   "STOP",          "RESUME",          "save0:waiting",
      "save0:pending", "save0:concluded", "load0:created", "load0:running",   "STOP",
      "RESUME",        "load0:waiting",   "load0:pending", "load0:concluded", "save0:null",
      "del0:created",  "del0:running",    "del0:waiting",  "del0:pending",    "del0:concluded"};
  ASSERT_GE(events.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(events.begin(), events.begin() + expected.size()), expected);
  EXPECT_FALSE(std::filesystem::exists(store() + "/manifests/first.snap"));
}

TEST_F(SnapshotControlTest, HumanMonitorCommandsReturnWhenTheWorkIsDone) {
  Machine& machine = make_with_store();
  at(20, [&] {
    poke(0x9000, {5, 6, 7, 8});
    EXPECT_EQ(hmp("savevm one"), "");
    EXPECT_EQ(machine.control().run_state(), RunState::kRunning);
    std::string list = hmp("info snapshots");
    EXPECT_NE(list.find("List of snapshots in " + store()), std::string::npos) << list;
    EXPECT_NE(list.find("1         one "), std::string::npos) << list;
    poke(0x9000, {0, 0, 0, 0});
    EXPECT_EQ(hmp("loadvm one"), "");
    EXPECT_EQ(memory_at(0x9000, 4), (std::vector<uint8_t>{5, 6, 7, 8}));
    EXPECT_EQ(hmp("loadvm 1"), "");  // by id
    EXPECT_EQ(hmp("delvm one"), "");
    EXPECT_EQ(hmp("info snapshots"), "There is no snapshot available.\n");
    EXPECT_EQ(hmp("loadvm one"), "Error: snapshot 'one' not found\n");
    EXPECT_EQ(hmp("savevm bad/name").find("Error: invalid snapshot name 'bad/name'"), 0u);
    std::string unnamed = hmp("savevm");
    EXPECT_EQ(unnamed, "");
    EXPECT_NE(hmp("info snapshots").find(" vm-2"), std::string::npos);
    EXPECT_EQ(hmp("info jobs"), "No active jobs\n");  // HMP commands are not jobs
    EXPECT_EQ(machine.control().snapshots()->restarted_saves(), 0u);
    machine.control().quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, SaveAndLoadMidRunUnderTheJit) {
  if (!engine_available(EngineKind::kJit)) GTEST_SKIP() << "no JIT in this build";
  Machine& machine = make_with_store({"-accel", "jit"});
  at(20, [&] {
    EXPECT_EQ(hmp("stop"), "");
    const uint64_t saved = *machine.control().read_register("r4");
    EXPECT_EQ(hmp("savevm one"), "");
    EXPECT_EQ(hmp("cont"), "");
    at(20, [&, saved] {
      EXPECT_EQ(hmp("stop"), "");
      EXPECT_NE(*machine.control().read_register("r4"), saved);  // counted on
      EXPECT_EQ(hmp("loadvm one"), "");  // translations are a cache: dropped, not state
      EXPECT_EQ(*machine.control().read_register("r4"), saved);
      EXPECT_EQ(hmp("cont"), "");
      at(20, [&, saved] {
        EXPECT_EQ(hmp("stop"), "");
        EXPECT_NE(*machine.control().read_register("r4"), saved);  // and the JIT runs on
        EXPECT_NE(hmp("info jit").find("engine: jit"), std::string::npos);
        machine.control().quit();
      });
    });
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, WithoutAStoreEveryCommandSaysHowToGetOne) {
  make(kCounterProgram);
  at(10, [&] {
    const std::string hint =
        "no place for snapshots: give the machine a flash image (-pflash FILE) or a snapshot "
        "directory (-snapshot-dir DIR)";
    EXPECT_EQ(hmp("savevm x"), "Error: " + hint + "\n");
    EXPECT_EQ(hmp("loadvm x"), "Error: " + hint + "\n");
    EXPECT_EQ(hmp("info snapshots"), "Error: " + hint + "\n");
    Value arguments = job_arguments("j", "x", false);
    arguments.set("devices", Value::list());
    Expected<Value> job = call("snapshot-save", arguments.set("vmstate", Value::string("x")));
    ASSERT_FALSE(job.ok());
    EXPECT_NE(job.error().message().find("Cannot find device='x'"), std::string::npos);
    job = call("snapshot-delete", job_arguments("j", "x", false).set("devices", Value::list()));
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().message(), hint);
    EXPECT_EQ(call("query-jobs")->as_list().size(), 0u);
    machine_->control().quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, OneOperationAtATimeAndBadArgumentsAreNamed) {
  make_with_store();
  at(20, [&] {
    ASSERT_TRUE(call("snapshot-save", job_arguments("a", "s", true)).ok());
    Expected<Value> second = call("snapshot-save", job_arguments("b", "s", true));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().message(), "a snapshot operation is already running (job 'a')");
    EXPECT_EQ(hmp("loadvm s"), "Error: a snapshot operation is already running (job 'a')\n");
    EXPECT_EQ(call("snapshot-save", job_arguments("a", "s", true)).error().message(),
              "Job ID 'a' already in use");
    EXPECT_EQ(call("job-dismiss", Value::dict().set("id", Value::string("a"))).error().message(),
              "Job 'a' in state 'running' cannot accept command verb 'dismiss'");
    Value bad = job_arguments("c", "s", true);
    bad.set("devices", Value::string("snapshot-dir"));
    EXPECT_NE(call("snapshot-save", bad).error().message().find("'devices' must be a list"),
              std::string::npos);
    when([&] { return job_status("a") == "concluded"; },
         [&] {
           // A bad tag makes a job that fails, as QEMU's do; so does saving
           // over an existing tag (HMP's savevm replaces it instead).
           ASSERT_TRUE(call("snapshot-load", job_arguments("d", "no/such", true)).ok());
           ASSERT_TRUE(call("snapshot-save", job_arguments("f", "s", true)).ok());
           when([&] { return job_status("f") == "concluded"; },
                [&] {
                  ASSERT_TRUE(call("snapshot-load", job_arguments("e", "missing", true)).ok());
                  when(
                      [&] { return job_status("e") == "concluded"; },
                      [&] {
                        Expected<Value> jobs = call("query-jobs");
                        ASSERT_EQ(jobs->as_list().size(), 4u);
                        EXPECT_NE(
                            jobs->as_list()[1].string_or("error", "").find("invalid snapshot name"),
                            std::string::npos);
                        EXPECT_EQ(jobs->as_list()[2].string_or("error", ""),
                                  "snapshot 's' already exists");
                        EXPECT_EQ(jobs->as_list()[3].string_or("error", ""),
                                  "snapshot 'missing' not found");
                        EXPECT_EQ(hmp("savevm s"), "");  // HMP replaces
                        machine_->control().quit();
                      });
                });
         });
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, ADamagedSnapshotIsRefusedAndTheVmRunsOnUntouched) {
  Machine& machine = make_with_store();
  at(20, [&] {
    poke(0xA000, {1, 1, 1, 1});
    ASSERT_EQ(hmp("savevm t"), "");
    poke(0xA000, {2, 2, 2, 2});
    // Damage the manifest: refused, nothing changes, the VM keeps running.
    const std::string manifest = store() + "/manifests/t.snap";
    std::vector<char> bytes(std::filesystem::file_size(manifest));
    std::ifstream(manifest, std::ios::binary).read(bytes.data(), bytes.size());
    bytes[bytes.size() / 2] ^= 1;
    std::ofstream(manifest, std::ios::binary).write(bytes.data(), bytes.size());
    const uint64_t before = machine.instruction_count();
    std::string reply = hmp("loadvm t");
    EXPECT_NE(reply.find("snapshot 't': the manifest is damaged (SHA-256 mismatch)"),
              std::string::npos)
        << reply;
    EXPECT_EQ(memory_at(0xA000, 4), (std::vector<uint8_t>{2, 2, 2, 2}));
    EXPECT_EQ(machine.control().run_state(), RunState::kRunning);
    at(20, [&, before] {
      EXPECT_GT(machine.instruction_count(), before);  // it still runs
      std::string list = hmp("info snapshots");
      EXPECT_NE(list.find("(cannot be used: snapshot 't': the manifest is damaged"),
                std::string::npos)
          << list;
      EXPECT_EQ(hmp("delvm t"), "");  // a damaged snapshot can be deleted
      machine.control().quit();
    });
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, MemoryWrittenWhileASaveReadsItMakesTheSaveStartOverFromACopy) {
  make_with_store();
  at(20, [&] {
    poke(0xC000, {1, 1, 1, 1});
    ASSERT_TRUE(call("snapshot-save", job_arguments("save", "s", true)).ok());
    // The save reads guest memory from a worker; this write lands after the
    // capture, so the dirty log makes the save start over from a copy.
    poke(0xC000, {2, 2, 2, 2});
    when([&] { return job_status("save") == "concluded"; },
         [&] {
           Expected<Value> jobs = call("query-jobs");
           EXPECT_EQ(jobs->as_list()[0].find("error"), nullptr);
           EXPECT_EQ(machine_->control().snapshots()->restarted_saves(), 1u);
           poke(0xC000, {3, 3, 3, 3});
           EXPECT_EQ(hmp("loadvm s"), "");  // every page checks out
           EXPECT_EQ(memory_at(0xC000, 4), (std::vector<uint8_t>{2, 2, 2, 2}));
           machine_->control().quit();
         });
  });
  EXPECT_EQ(run_with_limit(), 0);
}

TEST_F(SnapshotControlTest, QuittingDuringASaveLeavesNoHalfSnapshot) {
  make_with_store({"-m", "4M"});
  at(20, [&] {
    ASSERT_TRUE(call("snapshot-save", job_arguments("save", "s", true)).ok());
    machine_->control().quit();
  });
  EXPECT_EQ(run_with_limit(), 0);
  machine_.reset();  // waits for the worker to stop reading guest memory
  // The snapshot is whole or absent.
  const bool saved = std::filesystem::exists(store() + "/manifests/s.snap");
  Expected<migration::SnapshotStore> snapshots = migration::SnapshotStore::open(store(), false);
  if (snapshots.ok()) {
    EXPECT_EQ(snapshots->load("s").ok(), saved);
  }
}

TEST_F(SnapshotControlTest, LoadvmAtStartUpRestoresTheMachineBeforeItRuns) {
  int64_t saved_clock = 0;
  {
    Machine& first = make_with_store();
    at(30, [&] {
      poke(0xB000, {7, 7, 7, 7});
      ASSERT_EQ(hmp("savevm boot"), "");
      saved_clock = 1;
      first.control().quit();
    });
    EXPECT_EQ(run_with_limit(), 0);
    machine_.reset();
  }
  ASSERT_EQ(saved_clock, 1);
  Machine& second = make_with_store({"-loadvm", "boot", "-S"});
  EXPECT_EQ(second.control().run_state(), RunState::kPrelaunch);
  EXPECT_EQ(memory_at(0xB000, 4), (std::vector<uint8_t>{7, 7, 7, 7}));
  EXPECT_GT(second.clock().now_ns(), 0);  // the guest's time continues from the snapshot
  machine_.reset();

  // A snapshot that does not exist, or of another RAM size, stops the start.
  std::vector<std::string> args = {
      "-kernel", dir_ + "/program.bin", "-serial", "none",   "-monitor",
      "none",    "-snapshot-dir",       store(),   "-loadvm"};
  for (auto [name, ram, message] :
       {std::tuple<std::string, std::string, std::string>{"nope", "2M",
                                                          "-loadvm: snapshot 'nope' not found"},
        {"boot", "4M",
         "-loadvm: snapshot 'boot': memory block 'ram' is 2 MiB in the snapshot but 4 MiB in "
         "this machine (start it with the same -m)"}}) {
    std::vector<std::string> all = args;
    all.push_back(name);
    all.push_back("-m");
    all.push_back(ram);
    std::vector<std::string_view> views(all.begin(), all.end());
    Expected<Options> options = parse_options(std::span<const std::string_view>(views));
    ASSERT_TRUE(options.ok()) << options.error().message();
    Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
    ASSERT_FALSE(machine.ok());
    EXPECT_EQ(machine.error().message(), message);
  }
}

}  // namespace
}  // namespace cr16::system

namespace cr16::system {
namespace {

Expected<Options> parse(std::vector<std::string_view> args) {
  return parse_options(std::span<const std::string_view>(args));
}

TEST(SnapshotOptions, LoadvmSnapshotAndSnapshotDirAreParsed) {
  Expected<Options> options =
      parse({"-loadvm", "boot", "-snapshot", "-snapshot-dir", "/tmp/snaps"});
  ASSERT_TRUE(options.ok()) << options.error().message();
  EXPECT_EQ(options->loadvm, "boot");
  EXPECT_TRUE(options->snapshot);
  EXPECT_EQ(options->snapshot_dir, "/tmp/snaps");
  EXPECT_FALSE(parse({}).value().snapshot);
  EXPECT_EQ(parse({"-loadvm", ""}).error().message(), "-loadvm: empty snapshot name");
  EXPECT_EQ(parse({"-snapshot-dir", ""}).error().message(), "-snapshot-dir: empty directory name");
  EXPECT_EQ(parse({"-loadvm"}).error().message(), "option '-loadvm' needs a value");
  EXPECT_NE(usage_text().find("-snapshot-dir DIR"), std::string::npos);
}

TEST(SnapshotOptions, TheStoreIsTheDirectoryElseBesideTheFlashImageElseNone) {
  EXPECT_EQ(snapshot_store_path("/d", "/img/flash.img"), "/d");
  EXPECT_EQ(snapshot_store_path("", "/img/flash.img"), "/img/flash.img.snapshots");
  EXPECT_EQ(snapshot_store_path("", ""), "");
}

}  // namespace
}  // namespace cr16::system
