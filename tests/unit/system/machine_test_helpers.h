// A real Machine running hand-assembled code (a raw -kernel image at 0), for
// the MachineControl and monitor tests, and a way to act on it at given
// times while run() owns the thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/loop.h"
#include "system/machine.h"
#include "system/options.h"

namespace cr16::system::test {

// movw $0, r4 / loop: addw $1, r4 / br loop   (cr16-elf-as, linked at 0)
inline const std::vector<uint8_t> kCounterProgram = {
    0x04, 0x5a,  // 0: movw $0x0:s, r4
    0x14, 0x32,  // 2: addw $0x1:s, r4
    0xef, 0x1f,  // 4: br *-0x2
};

// svc: excp svc / movw r0, r4 / addw $1, r4 / br svc
inline const std::vector<uint8_t> kSvcLoopProgram = {
    0xc5, 0x00,  // 0: excp svc
    0x04, 0x5b,  // 2: movw r0, r4
    0x14, 0x32,  // 4: addw $0x1:s, r4
    0xed, 0x1f,  // 6: br *-0x6
};

class MachineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/cr16-machine-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    machine_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// Builds a machine running `program` from address 0, with no console
  /// and no monitor, plus `extra` options.
  Machine& make(const std::vector<uint8_t>& program, std::vector<std::string> extra = {}) {
    const std::string path = dir_ + "/program.bin";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(program.data()),
               static_cast<std::streamsize>(program.size()));
    std::vector<std::string> args = {"-kernel",  path,   "-serial", "none",
                                     "-monitor", "none", "-loop",   "epoll"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string_view> views(args.begin(), args.end());
    Expected<Options> options = parse_options(std::span<const std::string_view>(views));
    EXPECT_TRUE(options) << options.error().message();
    Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
    EXPECT_TRUE(machine) << machine.error().message();
    machine_ = std::move(*machine);
    return *machine_;
  }

  /// Runs `action` on the machine thread `ms` milliseconds from now.
  void at(int ms, std::function<void()> action) {
    io::Loop& loop = machine_->loop();
    loop.add_timer(io::ClockType::kRealtime, loop.now() + int64_t{ms} * 1'000'000,
                   std::move(action));
  }

  /// Runs `then` on the machine thread as soon as `condition` holds, checking
  /// every millisecond: for waiting on what the guest or the machine does
  /// rather than on a guessed time (a loaded machine or a sanitizer build
  /// runs slices slowly). run_with_limit() ends a wait that never comes true.
  void when(std::function<bool()> condition, std::function<void()> then) {
    if (condition()) {
      then();
      return;
    }
    at(1, [this, condition = std::move(condition), then = std::move(then)]() mutable {
      when(std::move(condition), std::move(then));
    });
  }

  /// run() with a safety net: a test that forgets to end the machine fails
  /// after `limit_ms` instead of hanging.
  int run_with_limit(int limit_ms = 10'000) {
    at(limit_ms, [this] {
      ADD_FAILURE() << "the machine was still running after the time limit";
      machine_->control().quit();
    });
    return machine_->run();
  }

  std::string dir_;
  std::unique_ptr<Machine> machine_;
};

}  // namespace cr16::system::test
