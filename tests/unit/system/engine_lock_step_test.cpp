// The committed firmware images on the whole virt board under the interpreter
// and the JIT side by side (issue 13's lock-step test for firmware): the
// whole CPU state compared after every slice (mostly 1..97 instructions, so
// translated blocks are cut everywhere) and all of RAM at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/engines.h"
#include "system/machine.h"
#include "system/options.h"

namespace cr16::system {
namespace {

std::unique_ptr<Machine> make_machine(const std::string& image, const char* engine,
                                      bool semihosting) {
  std::vector<std::string_view> args = {"-kernel",  image,  "-serial", "none",
                                        "-monitor", "none", "-accel",  engine};
  if (semihosting) args.push_back("-semihosting");
  Expected<Options> options = parse_options(std::span<const std::string_view>(args));
  EXPECT_TRUE(options.ok()) << options.error().message();
  if (!options.ok()) return nullptr;
  Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
  EXPECT_TRUE(machine.ok()) << machine.error().message();
  return machine.ok() ? std::move(*machine) : nullptr;
}

std::vector<uint8_t> ram_of(Machine& machine) {
  std::vector<uint8_t> ram(machine.board().ram_bytes());
  EXPECT_TRUE(machine.board().memory().read_bytes(0, ram).ok());
  return ram;
}

/// Runs `image` under both engines, in slices of 1..97 instructions and now
/// and then a long one, until `instructions` ran or the guest
/// halted (waiting for a device: this board's clock and timers do not run
/// here); at least `at_least` must have run.
void lock_step_once(const std::string& image, bool semihosting, uint64_t instructions,
                    uint64_t at_least) {
  const std::string path = std::string(CR16_SOURCE_DIR) + "/roms/" + image;
  std::unique_ptr<Machine> jit = make_machine(path, "jit", semihosting);
  std::unique_ptr<Machine> interp = make_machine(path, "interp", semihosting);
  ASSERT_TRUE(jit && interp);
  uint64_t slice = 0;
  while (jit->board().cpu().instruction_count() < instructions) {
    // Mostly short slices (blocks cut everywhere), every fourth a long one.
    const uint64_t budget = slice % 4 == 3 ? 5000 + slice % 7 : 1 + (slice * 37) % 97;
    const StopReason a = jit->board().run_slice(budget);
    const StopReason b = interp->board().run_slice(budget);
    ASSERT_EQ(a, b) << image << " slice " << slice;
    const CpuState& x = jit->board().cpu().state();
    const CpuState& y = interp->board().cpu().state();
    ASSERT_EQ(std::memcmp(&x, &y, sizeof(CpuState)), 0)
        << image << " slice " << slice << "\njit:    " << format_cpu_state(x)
        << "\ninterp: " << format_cpu_state(y);
    if (jit->board().cpu().panicked() || x.halted) break;
    ++slice;
  }
  EXPECT_GE(jit->board().cpu().instruction_count(), at_least) << image;
  EXPECT_TRUE(ram_of(*jit) == ram_of(*interp)) << image;
}

/// lock_step_once with the JIT's default (blocks translated after 16 runs),
/// then with every block translated before its first run for the first
/// `translated` instructions (the self-test rewrites its own code pages
/// thousands of times: each rewrite costs that page's translations again).
void lock_step(const std::string& image, bool semihosting, uint64_t instructions, uint64_t at_least,
               uint64_t translated) {
  if (!engine_available(EngineKind::kJit)) GTEST_SKIP() << "no JIT in this build";
  lock_step_once(image, semihosting, instructions, at_least);
  if (::testing::Test::HasFatalFailure()) return;
  setenv("CR16_JIT_TRANSLATE_AFTER", "0", 1);
  lock_step_once(image, semihosting, translated, std::min(at_least, translated));
  unsetenv("CR16_JIT_TRANSLATE_AFTER");
}

TEST(EngineLockStep, SelfTestFirmwareUntilItWaitsForItsTimer) {
  lock_step("selftest.elf", false, 2'000'000, 15'000, 2'000'000);
}

TEST(EngineLockStep, SemihostingSelfTestToItsEnd) {
#if CR16_SANITIZED
  const uint64_t translated = 30'000;  // the emitter runs ~20x slower
#else
  const uint64_t translated = 150'000;
#endif
  lock_step("selftest-sim.elf", true, 2'000'000, 400'000, translated);
}

TEST(EngineLockStep, DefaultFirmwareToItsPrompt) {
  lock_step("virt-firmware.elf", false, 2'000'000, 600'000, 2'000'000);
}

}  // namespace
}  // namespace cr16::system
