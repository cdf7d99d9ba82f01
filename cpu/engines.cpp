// The engine registry behind -accel, query-accelerators and the tests.
#include "cpu/engines.h"

#include "cpu/cpu.h"
#include "cpu/interpreter.h"
#if CR16_HAVE_JIT
#include "cpu/jit/jit_engine.h"
#endif

namespace cr16 {

namespace {

constexpr EngineKindInfo kKinds[] = {
    {EngineKind::kInterpreter, "interp", "the predecoded-block interpreter (the reference engine)"},
    {EngineKind::kJit, "jit",
     "x86-64 translation of guest blocks (x86-64 hosts, where it is the default)"},
};

}  // namespace

std::span<const EngineKindInfo> engine_kinds() {
  return kKinds;
}

const char* engine_kind_name(EngineKind kind) {
  for (const EngineKindInfo& info : kKinds) {
    if (info.kind == kind) return info.name;
  }
  return "?";
}

bool engine_available(EngineKind kind) {
  if (kind == EngineKind::kJit) return CR16_HAVE_JIT != 0;
  return true;
}

EngineKind default_engine_kind() {
  // The JIT where this build has one (x86-64 hosts): it is faster than the
  // interpreter on every benchmark (docs/performance.md).
  return engine_available(EngineKind::kJit) ? EngineKind::kJit : EngineKind::kInterpreter;
}

Expected<EngineKind> parse_engine_kind(std::string_view name) {
  std::string names;
  for (const EngineKindInfo& info : kKinds) {
    if (!engine_available(info.kind)) continue;
    if (name == info.name) return info.kind;
    names += names.empty() ? "" : ", ";
    names += info.name;
  }
  return Error("unknown accelerator '" + std::string(name) + "' (available: " + names + ")");
}

std::string engine_help_text() {
  std::string text = "Accelerators supported in this build:\n";
  for (const EngineKindInfo& info : kKinds) {
    if (!engine_available(info.kind)) continue;
    std::string line = "  " + std::string(info.name);
    line.resize(10, ' ');
    text += line + info.description;
    if (info.kind == default_engine_kind()) text += " (default)";
    text += "\n";
  }
  return text;
}

Expected<std::unique_ptr<ExecutionEngine>> make_engine(EngineKind kind, Cpu& cpu) {
  switch (kind) {
    case EngineKind::kInterpreter:
      return std::unique_ptr<ExecutionEngine>(std::make_unique<Interpreter>(cpu));
    case EngineKind::kJit:
#if CR16_HAVE_JIT
      return std::unique_ptr<ExecutionEngine>(std::make_unique<jit::JitEngine>(cpu));
#else
      break;
#endif
  }
  return Error(std::string("accelerator '") + engine_kind_name(kind) +
               "' is not available in this build");
}

}  // namespace cr16
