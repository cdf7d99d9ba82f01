// libFuzzer target: arbitrary bytes as QMP input.
//  1. JSON: the splitter cuts the bytes into messages; a message that parses
//     must serialize (compact and pretty) and parse back to the same value.
//  2. QMP: the bytes, cut into chunks whose size the first byte picks, go
//     to a negotiated session on one real machine (built once); every
//     answer must be one JSON object ending in CR LF — a reply, an error or
//     an event — and there is one reply per request.
// Requests that would run memsave/pmemsave, screendump or gdbserver (also through
// human-monitor-command) are not dispatched: the fuzzer must not write
// files or open sockets wherever its input says.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "system/machine.h"
#include "system/machine_control.h"
#include "system/monitor/json.h"
#include "system/monitor/qmp.h"
#include "tests/fuzz/common/fuzz_machine.h"

namespace {

using cr16::system::monitor::JsonSplitter;
using cr16::system::monitor::parse_json;
using cr16::system::monitor::QmpSession;
using cr16::system::monitor::to_json;
using cr16::system::monitor::Value;

// movw $0, r4 / loop: addw $1, r4 / br loop
const uint8_t kProgram[] = {0x04, 0x5a, 0x14, 0x32, 0xef, 0x1f};

cr16::system::Machine& machine() {
  static std::unique_ptr<cr16::system::Machine> instance = cr16::fuzz::make_fuzz_machine(kProgram);
  return *instance;
}

void check(bool condition) {
  if (!condition) std::abort();
}

// Every message: one JSON object — a reply, an event or the greeting — with
// CR LF at the end and nowhere else.
void check_answer(std::string_view text, uint64_t* replies) {
  check(text.size() >= 2 && text.ends_with("\r\n"));
  text.remove_suffix(2);
  check(text.find("\r\n") == std::string_view::npos);
  cr16::Expected<Value> message = parse_json(text);
  check(message.ok());
  check(message->type() == Value::Type::kDict);
  const bool reply = message->find("return") != nullptr || message->find("error") != nullptr;
  const bool event = message->find("event") != nullptr && message->find("timestamp") != nullptr;
  const bool greeting = message->find("QMP") != nullptr;
  check(int{reply} + int{event} + int{greeting} == 1);
  if (reply) ++*replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // messages are small; keep runs fast
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. JSON round trips; and whether a request would write a file.
  bool writes_files = false;
  uint64_t messages = 0;
  JsonSplitter splitter;
  splitter.feed(input, [&](cr16::Expected<Value> message) {
    ++messages;
    if (!message.ok()) return;
    const std::string compact = to_json(*message);
    const std::string pretty = to_json(*message, true);
    cr16::Expected<Value> again = parse_json(compact);
    check(again.ok() && *again == *message);
    cr16::Expected<Value> pretty_again = parse_json(pretty);
    check(pretty_again.ok() && *pretty_again == *message);
    check(to_json(*again) == compact);
    writes_files = writes_files || compact.find("memsave") != std::string::npos ||
                   compact.find("screendump") != std::string::npos ||
                   compact.find("gdbserver") != std::string::npos;
  });
  if (writes_files) return 0;

  // 2. The same bytes through a negotiated session.
  cr16::system::MachineControl& control = machine().control();
  uint64_t replies = 0;
  QmpSession session(control, [&replies](std::string_view text) {
    check_answer(text, &replies);
    return true;
  });
  session.start();
  replies = 0;  // the greeting is not a reply
  session.receive(R"({"execute": "qmp_capabilities"})");
  check(session.negotiated() && replies == 1);
  replies = 0;
  const size_t chunk = size == 0 ? 1 : 1 + data[0] % 64;
  for (size_t offset = 0; offset < input.size(); offset += chunk) {
    session.receive(input.substr(offset, chunk));
  }
  check(replies == messages);
  check(session.requests() == messages + 1);
  return 0;
}
