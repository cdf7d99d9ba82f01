// -d in_asm, exec and cpu output of the interpreter (through util/log.h).
#include <string>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/interpreter.h"
#include "util/log.h"

namespace cr16 {
namespace {

std::string describe(const Op& op) {
  char text[32];
  const int words = op.size / 2;
  int used = 0;
  for (int i = 0; i < 3; ++i) {
    if (i < words) {
      used += std::snprintf(text + used, sizeof text - used, "%04x ", op.words[i]);
    } else {
      used += std::snprintf(text + used, sizeof text - used, "     ");
    }
  }
  const isa::Decoded decoded = isa::decode(op.words[0], op.words[1], op.words[2]);
  return std::string(text) + " " + disassemble(decoded, op.pc);
}

}  // namespace

void Interpreter::trace_translation(const Block& block) {
  log_printf(LogCategory::kInAsm, "IN: block 0x%06x (%u instructions)", block.pc,
             block.instruction_count);
  for (uint32_t i = 0; i < block.instruction_count; ++i) {
    const Op& op = block.ops[i];
    log_printf(LogCategory::kInAsm, "0x%06x:  %s", op.pc, describe(op).c_str());
  }
}

void Interpreter::trace_block(const Block& block) {
  if (log_enabled(LogCategory::kCpu)) {
    log_printf(LogCategory::kCpu, "%s", format_cpu_state(cpu_.state()).c_str());
  }
  if (log_enabled(LogCategory::kExec)) {
    log_printf(LogCategory::kExec, "exec: block 0x%06x..0x%06x icount=%llu", block.pc, block.end_pc,
               static_cast<unsigned long long>(cpu_.state().icount));
  }
}

}  // namespace cr16
