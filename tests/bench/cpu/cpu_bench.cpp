// Interpreter speed on a CPU-bound loop: 8 instructions (32-bit add, xor,
// move, 16-bit add/and, decrement, compare, branch) iterated 50 million
// times, then exit through semihosting. The same program (loop.s below,
// built with cr16-elf-as/ld at 0x1000) is what docs/performance.md times
// under the GNU simulator, cr16-elf-run.
//
//   _start: movd $50000000,(r1,r0) ; movd $0,(r3,r2) ; movd $0,(r7,r6) ; movw $0,r10
//   loop:   addd $3,(r3,r2) ; xord (r3,r2),(r7,r6) ; movd (r7,r6),(r9,r8)
//           addw r2,r10 ; andw $0xfff,r10 ; addd $-1,(r1,r0) ; cmpd $0,(r1,r0)
//           bne loop
//           movw r10,r2 ; movd $0x410,(r1,r0) ; excp svc     (exit(r10 & 0xff))
//
// Prints wall-clock and CPU-time MIPS. Not a test: no assertion on speed.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/engines.h"
#include "test_bus.h"

namespace {

const std::vector<uint16_t> kProgram = {0x0070, 0x02fa, 0xf080, 0x5402, 0x5406, 0x5a0a, 0x6032,
                                        0x0014, 0xa026, 0x5568, 0x332a, 0x22ba, 0x0fff, 0x6090,
                                        0x5600, 0x1f17, 0x5ba2, 0x54b0, 0x0410, 0x00c5, 0x10e0};
constexpr uint32_t kLoadAddress = 0x1000;
constexpr uint64_t kExpectedInstructions = 4 + 50'000'000ull * 8 + 3;
constexpr int kExpectedExitStatus = 192;  // what cr16-elf-run returns for this program

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t quantum = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100'000;
  cr16::test::TestBus bus;
  bus.load_words(kLoadAddress, kProgram);
  cr16::Cpu cpu(bus, cr16::CpuModel::kCr16cPlus);
  // CR16_BENCH_ACCEL=interp|jit picks the engine; the default otherwise.
  if (const char* accel = std::getenv("CR16_BENCH_ACCEL")) {
    cr16::Expected<cr16::EngineKind> kind = cr16::parse_engine_kind(accel);
    if (!kind) {
      std::fprintf(stderr, "bench-cpu: %s\n", kind.error().message().c_str());
      return 1;
    }
    cr16::Expected<std::unique_ptr<cr16::ExecutionEngine>> engine = cr16::make_engine(*kind, cpu);
    if (!engine) return 1;
    cpu.set_engine(std::move(*engine));
  }
  std::printf("bench-cpu: engine %s\n", cpu.engine().name());
  cpu.reset(kLoadAddress);
  int exit_status = -1;
  cpu.set_svc_hook([&](cr16::Cpu& c) {
    if (c.pair(0) == 0x410) {
      exit_status = static_cast<int>(c.state().r[2] & 0xFF);
      c.request_exit();
    }
    return cr16::SvcResult::kHandled;
  });

  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  while (cpu.run(quantum) == cr16::StopReason::kBudget) {
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu_time = cpu_seconds() - cpu_start;
  const uint64_t executed = cpu.instruction_count();

  std::printf("bench-cpu: %llu instructions, quantum %llu, exit status %d\n",
              static_cast<unsigned long long>(executed), static_cast<unsigned long long>(quantum),
              exit_status);
  std::printf("bench-cpu: wall %.3f s = %.1f MIPS; cpu %.3f s = %.1f MIPS\n", wall,
              executed / wall / 1e6, cpu_time, executed / cpu_time / 1e6);
  if (executed != kExpectedInstructions || exit_status != kExpectedExitStatus) {
    std::printf("bench-cpu: WRONG RESULT (expected %llu instructions, exit %d)\n",
                static_cast<unsigned long long>(kExpectedInstructions), kExpectedExitStatus);
    return 1;
  }
  return 0;
}
