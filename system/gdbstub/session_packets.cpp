// GdbSession's packet handlers: one function per packet family, each
// returning the reply payload (or nothing for packets that resume the
// target: their reply is the stop reply, sent when it stops). Arguments are
// hostile input: every number is range-checked, every length bounded.
#include <algorithm>

#include "system/gdbstub/session.h"
#include "system/gdbstub/target.h"

namespace cr16::system::gdbstub {

namespace {

constexpr uint64_t kAddressLimit = uint64_t{1} << 24;  // CR16's 16 MiB
constexpr size_t kMaxBreakpoints = 1024;
constexpr size_t kMaxWatchpoints = 64;
// Error replies: EINVAL (22) for arguments we cannot use, EFAULT (14) for memory that
// cannot be read or written, ENOSPC (28) when a session set too many points.
constexpr const char* kInvalid = "E16";
constexpr const char* kFault = "E0e";
constexpr const char* kNoSpace = "E1c";

// The one thread the target has, as thread-id 1.
constexpr const char* kThreadId = "01";

// "a,b" → {a, b}; anything else → nullopt.
std::optional<std::pair<std::string_view, std::string_view>> split_pair(std::string_view text,
                                                                        char separator) {
  const size_t at = text.find(separator);
  if (at == std::string_view::npos) return std::nullopt;
  return std::make_pair(text.substr(0, at), text.substr(at + 1));
}

// A thread-id naming our thread: -1 (all), 0 (any) or 1.
bool our_thread(std::string_view id) {
  if (id == "-1") return true;
  std::optional<uint64_t> value = parse_hex(id);
  return value && *value <= 1;
}

bool has_feature(std::string_view features, std::string_view name) {
  size_t start = 0;
  while (start <= features.size()) {
    size_t end = features.find(';', start);
    if (end == std::string_view::npos) end = features.size();
    if (features.substr(start, end - start) == name) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> GdbSession::handle_packet(std::string_view packet) {
  if (packet.empty()) return std::string();
  const std::string_view rest = packet.substr(1);
  switch (packet[0]) {
    case '?':
      return stop_reply(last_stop_);
    case 'g':
      return read_all_registers(control_);
    case 'G':
      return write_all_registers(control_, rest).ok() ? "OK" : kInvalid;
    case 'p':
      return read_register(rest);
    case 'P':
      return write_register(rest);
    case 'm':
      return read_memory(rest);
    case 'M':
      return write_memory(rest, /*binary=*/false);
    case 'X':
      return write_memory(rest, /*binary=*/true);
    case 'c':
    case 'C':
    case 's':
    case 'S':
      return resume_packet(packet[0], rest);
    case 'v':
      if (packet.starts_with("vCont;")) return vcont(packet.substr(6));
      return handle_v(packet);
    case 'q':
      return handle_query(packet);
    case 'Q':
      return packet == "QStartNoAckMode" ? "OK" : "";
    case 'H':
      // Hg/Hc: the thread later packets are about; we have one.
      return rest.size() >= 2 && our_thread(rest.substr(1)) ? "OK" : kInvalid;
    case 'T':
      return our_thread(rest) && rest != "-1" ? "OK" : kInvalid;
    case 'Z':
      return breakpoint(rest, /*insert=*/true);
    case 'z':
      return breakpoint(rest, /*insert=*/false);
    case 'k':
      if (hooks_.kill) hooks_.kill();
      return std::nullopt;  // no reply: the connection goes with the emulator
    case 'D':
      release();
      close_after_reply_ = true;
      return "OK";
    default:
      return std::string();  // unsupported: the empty reply
  }
}

std::string GdbSession::handle_query(std::string_view packet) {
  if (packet == "qSupported" || packet.starts_with("qSupported:")) {
    const std::string_view features = packet.size() > 11 ? packet.substr(11) : std::string_view();
    peer_swbreak_ = has_feature(features, "swbreak+");
    peer_hwbreak_ = has_feature(features, "hwbreak+");
    char reply[160];
    std::snprintf(reply, sizeof reply,
                  "PacketSize=%zx;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
                  "QStartNoAckMode+",
                  kPacketSize);
    return reply;
  }
  if (packet.starts_with("qXfer:features:read:")) return features_read(packet.substr(20));
  if (packet == "qAttached" || packet.starts_with("qAttached:")) return "1";  // D keeps it alive
  if (packet == "qfThreadInfo") return std::string("m") + kThreadId;
  if (packet == "qsThreadInfo") return "l";
  if (packet == "qC") return std::string("QC") + kThreadId;
  if (packet.starts_with("qThreadExtraInfo,")) {
    if (!our_thread(packet.substr(17))) return kInvalid;
    return hex_encode(std::string_view("CR16 CPU"));
  }
  if (packet.starts_with("qRcmd,")) return monitor_command(packet.substr(6));
  if (packet == "qSymbol::") return "OK";  // no symbols needed
  return std::string();
}

std::string GdbSession::handle_v(std::string_view packet) {
  if (packet == "vCont?") return "vCont;c;C;s;S";
  if (packet == "vKill" || packet.starts_with("vKill;")) {
    if (hooks_.kill) hooks_.kill();
    return "OK";
  }
  return std::string();  // vMustReplyEmpty and everything we do not have
}

std::string GdbSession::features_read(std::string_view arguments) {
  // "target.xml:OFFSET,LENGTH"
  const size_t colon = arguments.rfind(':');
  if (colon == std::string_view::npos) return kInvalid;
  if (arguments.substr(0, colon) != "target.xml") return "E00";  // no such annex
  auto numbers = split_pair(arguments.substr(colon + 1), ',');
  if (!numbers) return kInvalid;
  std::optional<uint64_t> offset = parse_hex(numbers->first);
  std::optional<uint64_t> length = parse_hex(numbers->second);
  if (!offset || !length || *length == 0) return kInvalid;
  const std::string& xml = target_xml();
  if (*offset >= xml.size()) return "l";
  // As much as was asked for and fits one packet once escaped.
  std::string data;
  size_t escaped = 1;  // the 'm'/'l' in front
  size_t at = static_cast<size_t>(*offset);
  while (at < xml.size() && data.size() < *length) {
    const char c = xml[at];
    const size_t cost = (c == '#' || c == '$' || c == '}' || c == '*') ? 2 : 1;
    if (escaped + cost > kPacketSize) break;
    escaped += cost;
    data.push_back(c);
    ++at;
  }
  return (at == xml.size() ? "l" : "m") + data;
}

std::string GdbSession::read_register(std::string_view arguments) {
  std::optional<uint64_t> number = parse_hex(arguments, kGdbRegisterCount - 1);
  if (!number) return kInvalid;
  Expected<uint32_t> value = read_gdb_register(control_, static_cast<unsigned>(*number));
  if (!value) return kInvalid;
  return encode_register_value(*value, gdb_registers()[*number].bytes);
}

std::string GdbSession::write_register(std::string_view arguments) {
  auto parts = split_pair(arguments, '=');
  if (!parts) return kInvalid;
  std::optional<uint64_t> number = parse_hex(parts->first, kGdbRegisterCount - 1);
  if (!number) return kInvalid;
  std::optional<uint32_t> value =
      decode_register_value(parts->second, gdb_registers()[*number].bytes);
  if (!value) return kInvalid;
  return write_gdb_register(control_, static_cast<unsigned>(*number), *value).ok() ? "OK"
                                                                                   : kInvalid;
}

std::string GdbSession::read_memory(std::string_view arguments) {
  auto parts = split_pair(arguments, ',');
  if (!parts) return kInvalid;
  std::optional<uint64_t> address = parse_hex(parts->first, kAddressLimit - 1);
  std::optional<uint64_t> length = parse_hex(parts->second);
  if (!address || !length) return kInvalid;
  // At most what fits one reply; a debugger asks again for the rest.
  const size_t count =
      static_cast<size_t>(std::min<uint64_t>({*length, kPacketSize / 2, kAddressLimit - *address}));
  if (count == 0) return std::string();
  std::vector<uint8_t> bytes(count);
  const uint32_t start = static_cast<uint32_t>(*address);
  if (!control_.read_memory(start, bytes).ok()) {
    // Answer the readable beginning (a read that runs into a hole), or
    // an error when not even the first byte can be read.
    size_t readable = 0;
    while (readable < count && control_
                                   .read_memory(start + static_cast<uint32_t>(readable),
                                                std::span(bytes.data() + readable, 1))
                                   .ok()) {
      ++readable;
    }
    if (readable == 0) return kFault;
    bytes.resize(readable);
  }
  return hex_encode(bytes);
}

std::string GdbSession::write_memory(std::string_view arguments, bool binary) {
  auto header_and_data = split_pair(arguments, ':');
  if (!header_and_data) return kInvalid;
  auto parts = split_pair(header_and_data->first, ',');
  if (!parts) return kInvalid;
  std::optional<uint64_t> address = parse_hex(parts->first, kAddressLimit - 1);
  std::optional<uint64_t> length = parse_hex(parts->second, kPacketSize);
  if (!address || !length) return kInvalid;
  std::string data;
  if (binary) {
    data = std::string(header_and_data->second);  // the framing already unescaped it
  } else {
    std::optional<std::string> decoded = hex_decode(header_and_data->second);
    if (!decoded) return kInvalid;
    data = std::move(*decoded);
  }
  if (data.size() != *length) return kInvalid;
  if (data.empty()) return "OK";  // GDB probes X support this way
  if (*address + data.size() > kAddressLimit) return kInvalid;
  // RAM only (MachineControl::write_memory): flash, ROM and device
  // registers refuse the whole write and nothing changes.
  Error error =
      control_.write_memory(static_cast<uint32_t>(*address),
                            std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  return error.ok() ? "OK" : kFault;
}

std::string GdbSession::breakpoint(std::string_view arguments, bool insert) {
  // "TYPE,ADDR,KIND[;conditions]": conditions are not evaluated here (we do
  // not offer ConditionalBreakpoints), so they are ignored.
  arguments = arguments.substr(0, arguments.find(';'));
  auto type_rest = split_pair(arguments, ',');
  if (!type_rest) return kInvalid;
  auto address_kind = split_pair(type_rest->second, ',');
  if (!address_kind) return kInvalid;
  std::optional<uint64_t> type = parse_hex(type_rest->first);
  std::optional<uint64_t> address = parse_hex(address_kind->first, kAddressLimit - 1);
  std::optional<uint64_t> kind = parse_hex(address_kind->second);
  if (!type || *type > 4) return std::string();  // unknown types: unsupported
  if (!address || !kind) return kInvalid;
  const uint32_t at = static_cast<uint32_t>(*address);

  if (*type <= 1) {  // 0 software, 1 hardware: the same CPU breakpoint
    if (at & 1) return kInvalid;
    const bool software = *type == 0;
    if (insert) {
      auto found = breakpoints_.find(at);
      if (found == breakpoints_.end()) {
        if (breakpoints_.size() >= kMaxBreakpoints) return kNoSpace;
        if (!cpu_.set_breakpoint(at).ok()) return kInvalid;
        found = breakpoints_.emplace(at, BreakpointUse{}).first;
      }
      (software ? found->second.software : found->second.hardware) = true;
      return "OK";
    }
    auto found = breakpoints_.find(at);
    if (found == breakpoints_.end()) return "OK";  // nothing there: already gone
    (software ? found->second.software : found->second.hardware) = false;
    if (!found->second.software && !found->second.hardware) {
      breakpoints_.erase(found);
      if (step_over_ && *step_over_ == at) {
        step_over_.reset();  // lifted already; nothing to put back
      } else {
        cpu_.clear_breakpoint(at);
      }
    }
    return "OK";
  }

  // 2 write, 3 read, 4 access watchpoints; KIND is the length in bytes.
  if (*kind == 0 || *kind > kAddressLimit - at) return kInvalid;
  const uint32_t length = static_cast<uint32_t>(*kind);
  const WatchKind watch = *type == 2   ? WatchKind::kWrite
                          : *type == 3 ? WatchKind::kRead
                                       : WatchKind::kAccess;
  if (insert) {
    if (watchpoints_.size() >= kMaxWatchpoints) return kNoSpace;
    if (!cpu_.set_watchpoint(at, length, watch).ok()) return kInvalid;
    watchpoints_.push_back({at, length, watch});
    return "OK";
  }
  auto found = std::find_if(watchpoints_.begin(), watchpoints_.end(), [&](const Watch& w) {
    return w.address == at && w.length == length && w.kind == watch;
  });
  if (found == watchpoints_.end()) return "OK";
  cpu_.clear_watchpoint(at, length, watch);
  watchpoints_.erase(found);
  return "OK";
}

std::string GdbSession::monitor_command(std::string_view hex) {
  std::optional<std::string> line = hex_decode(hex);
  if (!line) return kInvalid;
  const std::string output = hooks_.monitor ? hooks_.monitor(*line) : std::string();
  // The output as console-output packets, each within PacketSize.
  constexpr size_t kChunk = (kPacketSize - 1) / 2;
  for (size_t at = 0; at < output.size() && !closed_; at += kChunk) {
    send_packet("O" + hex_encode(std::string_view(output).substr(at, kChunk)));
  }
  return "OK";
}

std::optional<std::string> GdbSession::resume_packet(char action, std::string_view arguments) {
  // c [ADDR], s [ADDR], C SIG[;ADDR], S SIG[;ADDR]. There are no signals to
  // deliver to a bare-metal guest: SIG is checked and ignored.
  if (action == 'C' || action == 'S') {
    const size_t semicolon = arguments.find(';');
    if (!parse_hex(arguments.substr(0, semicolon), 0xFF)) return kInvalid;
    arguments =
        semicolon == std::string_view::npos ? std::string_view() : arguments.substr(semicolon + 1);
  }
  std::optional<uint32_t> pc;
  if (!arguments.empty()) {
    std::optional<uint64_t> address = parse_hex(arguments, kAddressLimit - 1);
    if (!address) return kInvalid;
    pc = static_cast<uint32_t>(*address);
  }
  const bool step = action == 's' || action == 'S';
  return resume(step ? Resume::kStep : Resume::kContinue, pc);
}

std::optional<std::string> GdbSession::vcont(std::string_view actions) {
  // ACTION[:THREAD];ACTION[:THREAD]...: the leftmost action that applies to
  // our one thread decides.
  size_t start = 0;
  while (start <= actions.size()) {
    size_t end = actions.find(';', start);
    if (end == std::string_view::npos) end = actions.size();
    std::string_view item = actions.substr(start, end - start);
    start = end + 1;
    std::string_view thread;
    if (size_t colon = item.find(':'); colon != std::string_view::npos) {
      thread = item.substr(colon + 1);
      item = item.substr(0, colon);
    }
    if (item.empty()) return kInvalid;
    const char action = item[0];
    if (action != 'c' && action != 's' && action != 'C' && action != 'S') return kInvalid;
    if ((action == 'C' || action == 'S') && !parse_hex(item.substr(1), 0xFF)) return kInvalid;
    if ((action == 'c' || action == 's') && item.size() != 1) return kInvalid;
    if (!thread.empty() && !our_thread(thread)) continue;
    return resume(action == 's' || action == 'S' ? Resume::kStep : Resume::kContinue, std::nullopt);
  }
  return kInvalid;  // nothing for our thread
}

}  // namespace cr16::system::gdbstub
