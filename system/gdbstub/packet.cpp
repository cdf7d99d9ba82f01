#include "system/gdbstub/packet.h"

#include <algorithm>

namespace cr16::system::gdbstub {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr uint8_t kEscape = '}';
constexpr uint8_t kRepeat = '*';
constexpr uint8_t kEscapeXor = 0x20;
// A repeat count character N stands for N - 29 more copies; only printable
// characters may be used, and never '#' or '$' (they frame packets).
constexpr int kRepeatBias = 29;
constexpr uint8_t kFirstCountChar = ' ';
constexpr uint8_t kLastCountChar = '~';

enum class DecodeStatus : uint8_t { kOk, kMalformed, kTooLong };

DecodeStatus decode(std::string_view raw, size_t max_length, std::string* out) {
  out->clear();
  bool have_previous = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    uint8_t byte = static_cast<uint8_t>(raw[i]);
    if (byte == kEscape) {
      if (++i == raw.size()) return DecodeStatus::kMalformed;
      byte = static_cast<uint8_t>(raw[i]) ^ kEscapeXor;
    } else if (byte == kRepeat) {
      if (!have_previous || ++i == raw.size()) return DecodeStatus::kMalformed;
      const uint8_t count = static_cast<uint8_t>(raw[i]);
      if (count < kFirstCountChar || count > kLastCountChar || count == '#' || count == '$') {
        return DecodeStatus::kMalformed;
      }
      const size_t repeats = static_cast<size_t>(count - kRepeatBias);
      if (out->size() + repeats > max_length) return DecodeStatus::kTooLong;
      out->append(repeats, out->back());
      continue;
    }
    if (out->size() == max_length) return DecodeStatus::kTooLong;
    out->push_back(static_cast<char>(byte));
    have_previous = true;
  }
  return DecodeStatus::kOk;
}

bool needs_escape(uint8_t byte) {
  return byte == '#' || byte == '$' || byte == kEscape || byte == kRepeat;
}

}  // namespace

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<RspEvent> PacketReader::next(std::span<const uint8_t>* input) {
  // Escaped bytes take two raw bytes and runs compress: a raw payload twice
  // the limit can only decode to more than the limit.
  const size_t max_raw = 2 * max_payload_;
  while (!input->empty()) {
    const uint8_t byte = input->front();
    *input = input->subspan(1);
    switch (state_) {
      case State::kIdle:
        if (byte == '$') {
          state_ = State::kPayload;
          raw_.clear();
          overflow_ = false;
          sum_ = 0;
        } else if (byte == '+') {
          return RspEvent{RspEvent::Kind::kAck, {}};
        } else if (byte == '-') {
          return RspEvent{RspEvent::Kind::kNak, {}};
        } else if (byte == kInterruptByte) {
          return RspEvent{RspEvent::Kind::kInterrupt, {}};
        }
        break;  // anything else between packets is noise
      case State::kPayload:
        if (byte == '#') {
          state_ = State::kChecksum1;
        } else if (byte == '$') {
          // The rest of the previous packet was lost: start again.
          raw_.clear();
          overflow_ = false;
          sum_ = 0;
        } else {
          sum_ = static_cast<uint8_t>(sum_ + byte);
          if (raw_.size() < max_raw) {
            raw_.push_back(static_cast<char>(byte));
          } else {
            overflow_ = true;
          }
        }
        break;
      case State::kChecksum1: {
        const int value = hex_digit_value(static_cast<char>(byte));
        given_sum_ok_ = value >= 0;
        given_sum_ = static_cast<uint8_t>(value >= 0 ? value << 4 : 0);
        state_ = State::kChecksum2;
        break;
      }
      case State::kChecksum2: {
        const int value = hex_digit_value(static_cast<char>(byte));
        if (value < 0) given_sum_ok_ = false;
        given_sum_ = static_cast<uint8_t>(given_sum_ | (value >= 0 ? value : 0));
        state_ = State::kIdle;
        return finish();
      }
    }
  }
  return std::nullopt;
}

RspEvent PacketReader::finish() {
  RspEvent event;
  if (!given_sum_ok_ || given_sum_ != sum_) {
    event.kind = RspEvent::Kind::kBadChecksum;
  } else if (overflow_) {
    event.kind = RspEvent::Kind::kTooLong;
  } else {
    switch (decode(raw_, max_payload_, &event.payload)) {
      case DecodeStatus::kOk:
        event.kind = RspEvent::Kind::kPacket;
        break;
      case DecodeStatus::kMalformed:
        event.kind = RspEvent::Kind::kMalformed;
        event.payload.clear();
        break;
      case DecodeStatus::kTooLong:
        event.kind = RspEvent::Kind::kTooLong;
        event.payload.clear();
        break;
    }
  }
  raw_.clear();
  raw_.shrink_to_fit();  // a flood of huge packets does not keep the memory
  return event;
}

void PacketReader::reset() {
  state_ = State::kIdle;
  raw_.clear();
  overflow_ = false;
  sum_ = 0;
}

std::optional<std::string> decode_payload(std::string_view raw, size_t max_length) {
  std::string out;
  if (decode(raw, max_length, &out) != DecodeStatus::kOk) return std::nullopt;
  return out;
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    const uint8_t byte = static_cast<uint8_t>(c);
    if (needs_escape(byte)) {
      out.push_back(static_cast<char>(kEscape));
      out.push_back(static_cast<char>(byte ^ kEscapeXor));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string frame_packet(std::string_view payload, bool run_length) {
  std::string body;
  body.reserve(payload.size() + 8);
  size_t i = 0;
  while (i < payload.size()) {
    const uint8_t byte = static_cast<uint8_t>(payload[i]);
    if (needs_escape(byte)) {
      // An escape pair is never part of a run, so a decoder that repeats
      // the raw byte (GDB) and one that repeats the decoded byte agree.
      body.push_back(static_cast<char>(kEscape));
      body.push_back(static_cast<char>(byte ^ kEscapeXor));
      ++i;
      continue;
    }
    size_t run = 1;
    while (i + run < payload.size() && payload[i + run] == payload[i]) ++run;
    i += run;
    body.push_back(static_cast<char>(byte));
    size_t more = run - 1;  // copies still to emit after the first
    if (!run_length) {
      body.append(more, static_cast<char>(byte));
      continue;
    }
    while (more > 0) {
      // Repeats of 3..97 fit one count character; 6 and 7 would read as
      // '#' and '$', so those use 5 and leave the rest for later.
      size_t repeat = std::min<size_t>(more, kLastCountChar - kRepeatBias);
      if (repeat == 6 || repeat == 7) repeat = 5;
      if (repeat < 3) {
        body.append(more, static_cast<char>(byte));  // too short to be worth a count
        break;
      }
      body.push_back(static_cast<char>(kRepeat));
      body.push_back(static_cast<char>(repeat + kRepeatBias));
      more -= repeat;
    }
  }
  uint8_t sum = 0;
  for (char c : body) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  std::string packet;
  packet.reserve(body.size() + 4);
  packet.push_back('$');
  packet += body;
  packet.push_back('#');
  packet.push_back(kHexDigits[sum >> 4]);
  packet.push_back(kHexDigits[sum & 0xF]);
  return packet;
}

std::string hex_encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    out.push_back(kHexDigits[byte >> 4]);
    out.push_back(kHexDigits[byte & 0xF]);
  }
  return out;
}

std::string hex_encode(std::string_view text) {
  return hex_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_digit_value(hex[i]);
    const int low = hex_digit_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high << 4 | low));
  }
  return out;
}

std::optional<uint64_t> parse_hex(std::string_view text, uint64_t limit) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    const int digit = hex_digit_value(c);
    if (digit < 0) return std::nullopt;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  if (value > limit) return std::nullopt;
  return value;
}

}  // namespace cr16::system::gdbstub
