// The integer expressions HMP arguments are written in: numbers (decimal,
// 0x hex, 0 octal), $register, unary + - ~, * / %, + -, and & | ^, with
// parentheses. As in QEMU's monitor, & | ^ share the loosest precedence
// (left to right), then + -, then * / %. Arithmetic is 64-bit and wraps.
#pragma once

#include <cstdint>
#include <string_view>

#include "system/machine_control.h"
#include "util/error.h"

namespace cr16::system::monitor {

/// Evaluates `text` ($registers are read through `control`). Errors are one
/// line: "division by zero", "unknown register 'foo'", "bad number '0xg'",
/// "missing ')' in '(1'", "unexpected 'x' in '1 x'", "expression too deep".
Expected<int64_t> evaluate_hmp_expression(std::string_view text, MachineControl& control);

}  // namespace cr16::system::monitor
