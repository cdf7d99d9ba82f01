// One VNC connection (see vnc_client.h).
#include "ui/vnc_client.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "io/channel_tls.h"
#include "io/channel_websock.h"

namespace cr16::ui {

namespace {

// QEMU's extended key event pseudo-encoding: a client that lists it may
// send XT scancodes; the server acknowledges with a rectangle of this type.
constexpr int32_t kQemuExtendedKeyEvent = -258;
// CompressLevel pseudo-encodings: -256 (level 0) to -247 (level 9).
constexpr int32_t kCompressLevel0 = -256;
// Higher CompressLevel requests are served at this level.
constexpr int32_t kMaxZlibLevel = 3;
// After this many bytes written the consumed front of the output is dropped.
constexpr size_t kCompactAfter = 64 * 1024;

void append_u16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

SourceFramebuffer framebuffer_of(const Screen& screen) {
  SourceFramebuffer framebuffer;
  framebuffer.data = reinterpret_cast<const uint8_t*>(screen.pixels.data());
  framebuffer.format = SourceFormat::kXrgb8888;
  framebuffer.width = screen.width;
  framebuffer.height = screen.height;
  framebuffer.stride = screen.width * 4;
  return framebuffer;
}

}  // namespace

VncClient::VncClient(io::Loop& loop, VncClientHost& host, std::unique_ptr<io::Channel> channel,
                     VncTransport transport, VncClientLimits limits, std::string name)
    : loop_(loop),
      host_(host),
      channel_(std::move(channel)),
      transport_(std::move(transport)),
      limits_(limits),
      name_(std::move(name)),
      read_buffer_(std::max<size_t>(limits.read_chunk, 1)) {}

VncClient::~VncClient() {
  if (input_watch_) loop_.remove_watch(input_watch_);
  if (output_watch_) loop_.remove_watch(output_watch_);
  if (handshake_timer_) loop_.cancel_timer(handshake_timer_);
}

void VncClient::start() {
  handshake_timer_ =
      loop_.add_timer(io::ClockType::kRealtime, loop_.now() + limits_.handshake_timeout_ns, [this] {
        handshake_timer_ = 0;
        if (!ready_) {
          close("no ClientInit within " + std::to_string(limits_.handshake_timeout_ns / 1'000'000) +
                " ms");
        }
      });
  if (Error error = channel_->set_blocking(false); !error.ok()) {
    close("cannot make the connection non-blocking: " + error.message());
    return;
  }
  if (transport_.websocket && transport_.tls) {
    start_transport_tls();
  } else if (transport_.websocket) {
    start_transport_websock();
  } else {
    begin_rfb();
  }
}

// Puts a TLS or WebSocket channel over the connection and runs its
// handshake; NEXT continues once it is done, failures close the client.
template <typename Layer>
void VncClient::layer(const char* what, Expected<std::unique_ptr<Layer>> created,
                      std::function<void()> next) {
  if (!created) {
    close(std::string(what) + ": " + created.error().message());
    return;
  }
  Layer* raw = created->get();
  channel_ = std::move(*created);
  raw->start_handshake(loop_, [this, what, next = std::move(next)](Error error) {
    if (!error.ok()) {
      close(std::string(what) + " handshake: " + error.message());
      return;
    }
    next();
  });
}

void VncClient::start_transport_tls() {
  layer("TLS", io::TlsChannel::create_server(std::move(channel_), transport_.tls),
        [this] { start_transport_websock(); });
}

void VncClient::start_transport_websock() {
  layer("WebSocket", io::WebsockChannel::create_server(std::move(channel_)), [this] {
    (void)channel_->set_blocking(false);
    begin_rfb();
  });
}

void VncClient::begin_rfb() {
  RfbServerConfig config;
  if (transport_.tls && !transport_.websocket) {
    // TLS is mandatory: VeNCrypt with X509None only, never plain None.
    config.security_types = {RfbSecurityType::kVeNCrypt};
    config.vencrypt_subtypes = {vencrypt::kX509None};
  } else {
    // Plain sockets without tls-creds, and WebSockets (wss carries the TLS
    // itself when tls-creds is given, as QEMU does).
    config.security_types = {RfbSecurityType::kNone};
  }
  if (const Screen* screen = host_.vnc_screen(); screen != nullptr && screen->width > 0) {
    config.width = static_cast<uint16_t>(screen->width);
    config.height = static_cast<uint16_t>(screen->height);
  }
  config.name = host_.vnc_desktop_name();
  session_ = std::make_unique<RfbServerSession>(std::move(config));
  stage_ = Stage::kRfb;
  queue_session_output();
  if (closed_) return;
  watch_input();
}

void VncClient::watch_input() {
  if (input_watch_) return;
  input_watch_ = channel_->create_watch(loop_, io::kIn, [this](uint32_t) { return on_readable(); });
}

void VncClient::sync_server_init_size() {
  // ServerInit tells the size of the screen at the time it is sent.
  if (session_->phase() == RfbPhase::kNormal) return;
  const Screen* screen = host_.vnc_screen();
  if (screen == nullptr || screen->width == 0 || screen->height == 0) return;
  if (screen->width != session_->width() || screen->height != session_->height()) {
    session_->set_framebuffer_size(static_cast<uint16_t>(screen->width),
                                   static_cast<uint16_t>(screen->height));
  }
}

bool VncClient::on_readable() {
  if (closed_ || stage_ != Stage::kRfb) {
    input_watch_ = 0;
    return false;
  }
  io::IoResult got = channel_->read(read_buffer_.data(), read_buffer_.size());
  if (got.is_would_block()) return true;
  if (got.is_error()) {
    input_watch_ = 0;
    close("read: " + got.error().message());
    return false;
  }
  if (got.is_eof() || got.count() == 0) {
    input_watch_ = 0;
    close("");  // the viewer left
    return false;
  }
  sync_server_init_size();
  Error error = session_->feed({read_buffer_.data(), got.count()});
  queue_session_output();
  if (closed_) {
    input_watch_ = 0;
    return false;
  }
  for (const RfbEvent& event : session_->take_events()) {
    handle_event(event);
    if (closed_) break;
  }
  if (!error.ok()) {
    flush();  // a last SecurityResult with its reason, best effort
    input_watch_ = 0;
    close("protocol error: " + error.message());
    return false;
  }
  if (closed_) {
    input_watch_ = 0;
    return false;
  }
  if (session_->phase() == RfbPhase::kStartTls) {
    input_watch_ = 0;
    start_vencrypt_tls();
    return false;
  }
  return true;
}

void VncClient::start_vencrypt_tls() {
  if (!session_->take_unparsed().empty()) {
    // The client sent its TLS hello before reading our sub-type answer;
    // VeNCrypt clients wait for it, so this is a confused peer.
    close("TLS data arrived before the VeNCrypt sub-type was acknowledged");
    return;
  }
  // The answer to the sub-type must reach the client in clear before TLS
  // starts. It is a few bytes on a fresh connection: wait for them to go.
  while (backlog() > 0 && !closed_) {
    io::IoResult put = channel_->write(output_.data() + output_start_, backlog());
    if (put.is_bytes()) {
      output_start_ += put.count();
    } else if (put.is_would_block()) {
      if (Error error = channel_->wait(io::kOut); !error.ok()) {
        close("write: " + error.message());
        return;
      }
    } else {
      close("write: " + (put.is_error() ? put.error().message() : std::string("end of file")));
      return;
    }
  }
  if (closed_) return;
  output_.clear();
  output_start_ = 0;
  if (output_watch_) {
    loop_.remove_watch(output_watch_);
    output_watch_ = 0;
  }
  stage_ = Stage::kStartTls;
  layer("TLS", io::TlsChannel::create_server(std::move(channel_), transport_.tls), [this] {
    (void)channel_->set_blocking(false);
    stage_ = Stage::kRfb;
    if (Error done = session_->tls_done(); !done.ok()) {
      close("protocol error: " + done.message());
      return;
    }
    queue_session_output();
    if (!closed_) watch_input();
  });
}

void VncClient::handle_event(const RfbEvent& event) {
  if (const auto* init = std::get_if<RfbClientInitEvent>(&event)) {
    (void)init;  // every client shares the screen
    ready_ = true;
    converter_.emplace(SourceFormat::kXrgb8888, session_->client_format());
    mark_all_dirty();
  } else if (const auto* format = std::get_if<RfbSetPixelFormatEvent>(&event)) {
    converter_.emplace(SourceFormat::kXrgb8888, format->format);
    mark_all_dirty();  // what is on the client's side is now in another format
  } else if (std::holds_alternative<RfbSetEncodingsEvent>(event)) {
    if (!extended_keys_acked_ && session_->client_supports(kQemuExtendedKeyEvent)) {
      extended_keys_acked_ = true;
      std::vector<uint8_t> message{0, 0};  // FramebufferUpdate, padding
      append_u16(message, 1);
      append_rect_header(message, RfbRect{0, 0, session_->width(), session_->height()},
                         kQemuExtendedKeyEvent);
      queue(std::move(message));
    }
  } else if (const auto* request = std::get_if<RfbUpdateRequestEvent>(&event)) {
    request_pending_ = true;
    request_ = RfbRect{request->x, request->y, request->width, request->height};
    request_full_ = !request->incremental;
    if (request_full_) {
      const uint32_t end = std::min<uint32_t>(uint32_t{request->y} + request->height,
                                              static_cast<uint32_t>(dirty_.size()));
      for (uint32_t y = request->y; y < end; ++y) dirty_[y] = true;
    }
    try_send_update();
  } else if (const auto* key = std::get_if<RfbKeyEvent>(&event)) {
    std::optional<Scancode> code =
        key->keycode ? scancode_from_qnum(*key->keycode) : scancode_from_keysym(key->keysym);
    if (code) (void)host_.vnc_send_key(*code, key->down);
  }
  // Pointer events and cut text have nowhere to go on this machine.
}

int VncClient::zlib_level() const {
  // Deflate runs on the machine thread: a full-screen animation at level 6
  // took the guest from 60 to 14 frames per second (docs/display.md). The
  // client's CompressLevel pseudo-encoding (-256 + level) is followed up to
  // kMaxZlibLevel; without one, level 1.
  for (int32_t encoding : session_->encodings()) {
    if (encoding >= kCompressLevel0 && encoding <= kCompressLevel0 + 9) {
      return std::min(encoding - kCompressLevel0, kMaxZlibLevel);
    }
  }
  return 1;
}

void VncClient::mark_all_dirty() {
  const Screen* screen = host_.vnc_screen();
  dirty_.assign(screen != nullptr ? screen->height : 0, true);
}

void VncClient::screen_changed(const Screen& screen, const ScreenUpdate& update) {
  if (closed_ || !ready_) return;
  if (update.resized || dirty_.size() != screen.height) {
    dirty_.assign(screen.height, true);
  } else {
    for (const ScreenUpdate::Run& run : update.runs()) {
      const uint32_t end = std::min<uint32_t>(run.first + run.count, screen.height);
      for (uint32_t y = run.first; y < end; ++y) dirty_[y] = true;
    }
  }
  try_send_update();
}

void VncClient::try_send_update() {
  if (closed_ || !ready_ || !request_pending_ || !converter_) return;
  if (backlog() > limits_.update_backlog) {
    ++stats_.updates_deferred;  // the rows stay dirty: sent together later
    return;
  }
  const Screen* screen = host_.vnc_screen();
  if (screen == nullptr) return;
  FramebufferUpdateBuilder builder;
  if ((screen->width != session_->width() || screen->height != session_->height()) &&
      screen->width > 0 && screen->height > 0 &&
      session_->client_supports(rfb_encoding::kDesktopSize)) {
    // The new size alone; the client then asks for the new picture.
    if (Error error = builder.add_desktop_size(static_cast<uint16_t>(screen->width),
                                               static_cast<uint16_t>(screen->height));
        !error.ok()) {
      close("DesktopSize: " + error.message());
      return;
    }
    session_->set_framebuffer_size(static_cast<uint16_t>(screen->width),
                                   static_cast<uint16_t>(screen->height));
    dirty_.assign(screen->height, true);
    request_pending_ = false;
    queue(builder.finish());
    return;
  }
  // A client without DesktopSize keeps the size it was told: it gets the
  // part of the screen that fits in it.
  const uint32_t width = std::min<uint32_t>(screen->width, session_->width());
  const uint32_t height = std::min<uint32_t>(std::min<uint32_t>(screen->height, session_->height()),
                                             static_cast<uint32_t>(dirty_.size()));
  const uint32_t x0 = request_.x;
  const uint32_t x1 = std::min<uint32_t>(uint32_t{request_.x} + request_.width, width);
  const uint32_t y0 = request_.y;
  const uint32_t y1 = std::min<uint32_t>(uint32_t{request_.y} + request_.height, height);
  int32_t encoding = rfb_encoding::kRaw;
  for (int32_t wanted : session_->encodings()) {
    if (wanted == rfb_encoding::kRaw || wanted == rfb_encoding::kZlib) {
      encoding = wanted;
      break;
    }
  }
  const SourceFramebuffer framebuffer = framebuffer_of(*screen);
  if (x0 < x1) {
    uint32_t y = y0;
    while (y < y1) {
      if (!dirty_[y]) {
        ++y;
        continue;
      }
      uint32_t end = y;
      while (end < y1 && dirty_[end]) dirty_[end++] = false;
      RfbRect rect{static_cast<uint16_t>(x0), static_cast<uint16_t>(y),
                   static_cast<uint16_t>(x1 - x0), static_cast<uint16_t>(end - y)};
      Error error;
      if (encoding == rfb_encoding::kZlib) {
        if (!zlib_) zlib_ = std::make_unique<ZlibEncoder>(zlib_level());
        error = builder.add_zlib(framebuffer, rect, *converter_, *zlib_);
      } else {
        error = builder.add_raw(framebuffer, rect, *converter_);
      }
      if (!error.ok()) {
        close("encoding an update: " + error.message());
        return;
      }
      y = end;
    }
  }
  if (builder.rect_count() == 0 && !request_full_) return;  // wait for a change
  // A full request over an empty area still gets its (empty) answer.
  request_pending_ = false;
  request_full_ = false;
  ++stats_.updates_sent;
  stats_.rects_sent += builder.rect_count();
  queue(builder.finish());
}

void VncClient::queue_session_output() {
  std::vector<uint8_t> bytes = session_->take_output();
  if (!bytes.empty()) queue(std::move(bytes));
}

void VncClient::queue(std::vector<uint8_t> bytes) {
  if (closed_) return;
  if (backlog() + bytes.size() > limits_.max_backlog) {
    close("it does not read what it is sent (" + std::to_string(backlog()) + " bytes waiting)");
    return;
  }
  stats_.bytes_queued += bytes.size();
  if (backlog() == 0) {
    output_ = std::move(bytes);
    output_start_ = 0;
  } else {
    output_.insert(output_.end(), bytes.begin(), bytes.end());
  }
  if (stage_ == Stage::kRfb) flush();
}

void VncClient::flush() {
  while (backlog() > 0 && !closed_) {
    // After a would-block, TLS and WebSocket channels want the same bytes
    // again; writing from the same offset (perhaps with more after) does it.
    io::IoResult put = channel_->write(output_.data() + output_start_, backlog());
    if (put.is_bytes() && put.count() > 0) {
      output_start_ += put.count();
      continue;
    }
    if (put.is_would_block()) {
      if (!output_watch_) {
        output_watch_ =
            channel_->create_watch(loop_, io::kOut, [this](uint32_t) { return on_writable(); });
      }
      break;
    }
    close(put.is_error() ? "write: " + put.error().message() : std::string());
    return;
  }
  if (backlog() == 0) {
    output_.clear();
    output_start_ = 0;
  } else if (output_start_ >= kCompactAfter) {
    output_.erase(output_.begin(), output_.begin() + static_cast<ptrdiff_t>(output_start_));
    output_start_ = 0;
  }
}

bool VncClient::on_writable() {
  if (closed_) {
    output_watch_ = 0;
    return false;
  }
  flush();
  if (closed_) {
    output_watch_ = 0;
    return false;
  }
  // Room again: what accumulated meanwhile goes out as one update.
  if (backlog() <= limits_.update_backlog) try_send_update();
  if (backlog() == 0 || closed_) {
    output_watch_ = 0;
    return false;
  }
  return true;
}

void VncClient::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  stage_ = Stage::kClosed;
  if (!reason.empty()) {
    std::fprintf(stderr, "cr16-system: vnc: closed %s: %s\n", name_.c_str(), reason.c_str());
  }
  if (input_watch_) loop_.remove_watch(input_watch_);
  if (output_watch_) loop_.remove_watch(output_watch_);
  if (handshake_timer_) loop_.cancel_timer(handshake_timer_);
  input_watch_ = 0;
  output_watch_ = 0;
  handshake_timer_ = 0;
  if (channel_) (void)channel_->close();
  host_.vnc_client_closed(*this);
}

}  // namespace cr16::ui
