// The execution engines a Cpu can run with (-accel): their names, which ones
// this build has, the default, and the factory that makes one for a Cpu.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cpu/engine.h"
#include "util/error.h"

namespace cr16 {

class Cpu;

/// An execution engine kind. The interpreter exists everywhere; the JIT
/// only in builds for x86-64 hosts with xbyak (engine_available()).
enum class EngineKind : uint8_t { kInterpreter, kJit };

/// What -accel help and query-accelerators say about one engine kind.
struct EngineKindInfo {
  EngineKind kind;
  const char* name;         // the -accel / QMP name: "interp", "jit"
  const char* description;  // one line for -accel help
};

/// Every engine kind, interpreter first (whether or not this build has it).
std::span<const EngineKindInfo> engine_kinds();
/// The -accel name of a kind ("interp", "jit").
const char* engine_kind_name(EngineKind kind);
/// True when this build can run `kind`.
bool engine_available(EngineKind kind);
/// The engine a machine uses when -accel is not given.
EngineKind default_engine_kind();
/// Parses an -accel name; the error lists the names this build accepts.
Expected<EngineKind> parse_engine_kind(std::string_view name);
/// -accel help: the engines, which ones this build has, the default.
std::string engine_help_text();
/// A new engine of `kind` for `cpu` (install it with Cpu::set_engine).
/// Error when this build does not have that engine.
Expected<std::unique_ptr<ExecutionEngine>> make_engine(EngineKind kind, Cpu& cpu);

}  // namespace cr16
