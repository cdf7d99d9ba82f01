// -d out_asm: Capstone's x86-64 disassembly of generated code.
#include "cpu/jit/host_disassembly.h"

#include <capstone/capstone.h>

#include <cinttypes>
#include <cstdio>

namespace cr16::jit {

std::vector<std::string> disassemble_host_code(const uint8_t* code, size_t size) {
  std::vector<std::string> lines;
  csh handle = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
    lines.emplace_back("(capstone cannot open x86-64)");
    return lines;
  }
  cs_insn* instructions = nullptr;
  const auto address = reinterpret_cast<uint64_t>(code);
  const size_t count = cs_disasm(handle, code, size, address, 0, &instructions);
  size_t covered = 0;
  for (size_t i = 0; i < count; ++i) {
    char line[256];
    std::snprintf(line, sizeof line, "0x%" PRIx64 ":  %-6s %s", instructions[i].address,
                  instructions[i].mnemonic, instructions[i].op_str);
    lines.emplace_back(line);
    covered += instructions[i].size;
  }
  if (covered < size)
    lines.emplace_back("(" + std::to_string(size - covered) + " bytes not decoded)");
  if (instructions != nullptr) cs_free(instructions, count);
  cs_close(&handle);
  return lines;
}

}  // namespace cr16::jit
