// Helper for engines_bench.py: runs one semihosting ELF on the virt board
// through system::Machine, exactly as `cr16-system -kernel ELF -semihosting`
// does (any further arguments are more cr16-system options), lets the guest
// print to stdout, then prints "instructions: N" and "exit: S" so the script
// can turn wall times into MIPS. cr16-system itself does not report its
// instruction count; the count is the same under every engine.
#include <cstdio>
#include <string>
#include <vector>

#include "system/machine.h"
#include "system/options.h"

int main(int argc, char** argv) {
  using namespace cr16::system;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ELF [cr16-system options...]\n", argv[0]);
    return 2;
  }
  std::vector<std::string_view> args = {"-kernel", argv[1], "-semihosting"};
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  cr16::Expected<Options> options = parse_options(args);
  if (!options) {
    std::fprintf(stderr, "count-instructions: %s\n", options.error().message().c_str());
    return 2;
  }
  cr16::Expected<std::unique_ptr<Machine>> machine = Machine::create(*options);
  if (!machine) {
    std::fprintf(stderr, "count-instructions: %s\n", machine.error().message().c_str());
    return 2;
  }
  const int status = (*machine)->run();
  std::fflush(stdout);
  std::printf("instructions: %llu\nexit: %d\n",
              static_cast<unsigned long long>((*machine)->instruction_count()), status);
  return 0;
}
