// libFuzzer target: arbitrary bytes from a debugger. Each input is a new
// GdbSession on one real machine (built once): the bytes go through the
// framing (checksums, escapes, run-length, acknowledgements, Ctrl-C) and
// the packet dispatcher (registers, memory, breakpoints, watchpoints,
// resume, vCont, qXfer, qRcmd, no-ack mode, detach), in pieces whose size
// the first byte picks; whenever the session left the VM running, one
// short CPU slice runs and its stop goes back to the session, as the
// machine's main loop would do. Every byte the session sends must be an
// acknowledgement or a well-formed packet within PacketSize.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "hw/board.h"
#include "system/gdbstub/packet.h"
#include "system/gdbstub/session.h"
#include "system/machine.h"
#include "system/machine_control.h"
#include "system/monitor/hmp.h"
#include "tests/fuzz/common/fuzz_machine.h"

namespace {

using cr16::system::gdbstub::GdbSession;
using cr16::system::gdbstub::kPacketSize;
using cr16::system::gdbstub::PacketReader;
using cr16::system::gdbstub::RspEvent;

// movw $0, r4 / loop: addw $1, r4 / storw r4, 0x2000 / loadw 0x2002, r5 / br loop
// (data on another page than the code: stores there do not drop translations)
const uint8_t kProgram[] = {0x04, 0x5a, 0x14, 0x32, 0x40, 0xc9, 0x00,
                            0x20, 0x50, 0x89, 0x02, 0x20, 0xeb, 0x1f};

cr16::system::Machine& machine() {
  static std::unique_ptr<cr16::system::Machine> instance =
      cr16::fuzz::make_fuzz_machine(kProgram, {"-S"});
  return *instance;
}

// Everything the session sent must frame correctly.
void check_output(const std::string& wire) {
  PacketReader reader(kPacketSize);
  std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
  while (std::optional<RspEvent> event = reader.next(&rest)) {
    if (event->kind != RspEvent::Kind::kPacket && event->kind != RspEvent::Kind::kAck &&
        event->kind != RspEvent::Kind::kNak) {
      std::abort();
    }
  }
  if (reader.in_packet()) std::abort();  // a packet cut short
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  cr16::system::Machine& vm = machine();
  cr16::system::MachineControl& control = vm.control();
  cr16::Cpu& cpu = vm.board().cpu();
  if (cpu.panicked()) (void)control.reset();
  (void)control.write_memory(0, std::span(kProgram, sizeof kProgram));

  std::string wire;
  GdbSession::Hooks hooks;
  hooks.send = [&wire](std::string_view bytes) { wire += bytes; };
  hooks.close = [] {};
  hooks.kill = [] {};
  hooks.monitor = [&control](std::string_view line) -> std::string {
    // gdbserver would open sockets on the host: not from a fuzzer.
    if (line.find("gdbserver") != std::string_view::npos) return "refused\n";
    return cr16::system::monitor::execute_hmp_line(line, control);
  };
  auto session = std::make_unique<GdbSession>(control, cpu, std::move(hooks));
  session->attach();

  const size_t piece = 1 + data[0] % 32;
  for (size_t at = 1; at < size && !session->closed(); at += piece) {
    const size_t length = std::min(piece, size - at);
    session->receive(std::span<const uint8_t>(data + at, length));
    if (control.running()) {
      // One short slice, as the main loop would run, and its stop.
      const uint64_t before = cpu.instruction_count();
      const cr16::StopReason reason = vm.board().run_slice(session->slice_budget(64));
      session->cpu_stopped(reason, cpu.instruction_count() - before);
    }
  }
  session->release();
  session.reset();
  check_output(wire);
  // The session's breakpoints and watchpoints left with it.
  if (cpu.watchpoints_active() || cpu.breakpoint_at(2) || cpu.breakpoint_at(4)) std::abort();
  return 0;
}
