// libFuzzer target: arbitrary bytes as human-monitor input. Each input is
// split into lines; every line goes through parse, validation and execution
// (execute_hmp_line) on one real machine built once, the way a monitor
// session would run it. A line may fail, but never crash or hang, and any
// answer is whole lines. Lines that would write files (memsave, pmemsave, screendump)
// are skipped.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "system/machine.h"
#include "system/machine_control.h"
#include "system/monitor/hmp.h"
#include "tests/fuzz/common/fuzz_machine.h"

namespace {

// movw $0, r4 / loop: addw $1, r4 / br loop
const uint8_t kProgram[] = {0x04, 0x5a, 0x14, 0x32, 0xef, 0x1f};

cr16::system::Machine& machine() {
  static std::unique_ptr<cr16::system::Machine> instance = cr16::fuzz::make_fuzz_machine(kProgram);
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // a monitor line is short; keep runs fast
  cr16::system::MachineControl& control = machine().control();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    // memsave, pmemsave and screendump write where the line says: not from a fuzzer.
    if (line.find("memsave") != std::string_view::npos) continue;
    if (line.find("screendump") != std::string_view::npos) continue;
    // gdbserver would open sockets on the host: not from a fuzzer.
    if (line.find("gdbserver") != std::string_view::npos) continue;
    const std::string answer = cr16::system::monitor::execute_hmp_line(line, control);
    // Errors and results alike end with a newline; only commands with no
    // output (stop, cont, a blank line) answer nothing.
    if (!answer.empty() && answer.back() != '\n') std::abort();
  }
  return 0;
}
