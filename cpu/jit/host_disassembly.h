// Host (x86-64) code as text, through Capstone: -d out_asm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cr16::jit {

/// Disassembles `size` bytes of x86-64 code at `code` (Intel syntax), one
/// line per instruction: "0xADDRESS:  mnemonic operands". A line saying why
/// when Capstone cannot be opened or stops early. Any thread.
std::vector<std::string> disassemble_host_code(const uint8_t* code, size_t size);

}  // namespace cr16::jit
