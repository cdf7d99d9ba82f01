// Feeds arbitrary bytes to the WebSocket frame decoder, split at a point
// chosen by the first input byte, with small limits so the size checks are
// reached. Checks the decoder's own invariants; any crash, leak or sanitizer
// report is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "io/websock_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cr16::io::WebsockEvent;
  if (size == 0) return 0;
  const bool expect_masked = (data[0] & 1) == 0;
  std::span<const uint8_t> input(data + 1, size - 1);
  const size_t split = input.empty() ? 0 : (data[0] >> 1) % (input.size() + 1);

  cr16::io::WebsockStreamDecoder decoder(cr16::io::WebsockLimits{4096, 16384}, expect_masked);
  size_t data_bytes = 0;
  auto drain = [&] {
    for (int guard = 0; guard < 100000; ++guard) {
      const bool announced = decoder.has_event();
      WebsockEvent event = decoder.next();
      // has_event() must predict exactly whether next() has something.
      if (announced != (event.kind != WebsockEvent::Kind::kNeedMore)) std::abort();
      switch (event.kind) {
        case WebsockEvent::Kind::kNeedMore:
          return;
        case WebsockEvent::Kind::kData:
          data_bytes += event.payload.size();
          if (event.payload.size() > 4096) std::abort();
          break;
        case WebsockEvent::Kind::kPing:
        case WebsockEvent::Kind::kPong:
          if (event.payload.size() > 125) std::abort();
          break;
        case WebsockEvent::Kind::kClose:
        case WebsockEvent::Kind::kProtocolError:
          if (!decoder.finished() || event.close_code == 0) std::abort();
          return;
      }
    }
    std::abort();  // next() must make progress or stop
  };
  decoder.feed(input.first(split));
  drain();
  decoder.feed(input.subspan(split));
  drain();
  if (data_bytes > input.size()) std::abort();

  // The header parser alone, on the raw input.
  cr16::io::parse_websock_frame_header(input, cr16::io::WebsockLimits{}, expect_masked);
  return 0;
}
