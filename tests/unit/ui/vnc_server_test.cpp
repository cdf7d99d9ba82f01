// The VNC server in process: a synthetic screen fed to its DisplayListener,
// real sockets to it from RFB clients written here (driven by the same
// loop, so nothing blocks): handshakes 3.3 and 3.8, full and incremental
// updates, zlib, keys into a real keyboard FIFO, several clients, a client
// that never reads, bad input, VeNCrypt with TLS, and a WebSocket client.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../io/tls_test_certs.h"
#include "hw/keyboard.h"
#include "io/channel_socket.h"
#include "io/channel_tls.h"
#include "io/loop.h"
#include "ui/keymap.h"
#include "ui/vnc_server.h"

namespace cr16::ui {
namespace {

using Bytes = std::vector<uint8_t>;

uint32_t pattern(uint32_t x, uint32_t y, uint32_t seed = 0) {
  return ((x * 5 + seed) & 0xFF) << 16 | ((y * 3) & 0xFF) << 8 | ((x ^ y) & 0xFF);
}

Screen make_screen(uint32_t width, uint32_t height, uint32_t seed = 0) {
  Screen screen;
  screen.width = width;
  screen.height = height;
  screen.enabled = true;
  screen.pixels.resize(size_t{width} * height);
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) screen.pixels[size_t{y} * width + x] = pattern(x, y, seed);
  }
  return screen;
}

ScreenUpdate all_rows(const Screen& screen, bool resized) {
  ScreenUpdate update;
  update.resized = resized;
  update.rows.assign(screen.height, true);
  return update;
}

void put_u16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
void put_u32(Bytes& out, uint32_t value) {
  put_u16(out, static_cast<uint16_t>(value >> 16));
  put_u16(out, static_cast<uint16_t>(value));
}
uint16_t get_u16(const Bytes& in, size_t at) {
  return static_cast<uint16_t>(in[at] << 8 | in[at + 1]);
}
uint32_t get_u32(const Bytes& in, size_t at) {
  return uint32_t{get_u16(in, at)} << 16 | get_u16(in, at + 2);
}

struct Rect {
  uint16_t x, y, width, height;
  int32_t encoding;
  Bytes data;  // Raw: the pixels; Zlib: the compressed bytes
};

class VncServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Expected<std::unique_ptr<io::Loop>> created = io::Loop::create();
    ASSERT_TRUE(created) << created.error().message();
    loop = std::move(*created);
  }

  void open_server(VncServerConfig config = {}) {
    if (!config.rfb_address) config.rfb_address = io::SocketAddress::inet("127.0.0.1", 0);
    Expected<std::unique_ptr<VncServer>> opened =
        VncServer::open(*loop, nullptr, std::move(config));
    ASSERT_TRUE(opened) << opened.error().message();
    server = std::move(*opened);
    server->set_key_sink([this](Scancode code, bool down) {
      Bytes codes = scancode_bytes(code, down);
      return keyboard.push_scancodes(codes);
    });
    server->screen_updated(screen, all_rows(screen, true));
  }

  // One RFB client over a non-blocking channel, pumped by the test's loop.
  struct Client {
    VncServerTest* test = nullptr;
    std::unique_ptr<io::Channel> channel;
    Bytes input;
    bool eof = false;

    void send(const Bytes& bytes) {
      ASSERT_TRUE(io::write_all(*channel, bytes.data(), bytes.size(), test->loop.get()).ok());
    }
    // Runs the loop until N bytes arrived (or the deadline); takes them.
    Bytes take(size_t count, int timeout_ms = 5000) {
      test->pump_until([&] { return input.size() >= count || eof; }, timeout_ms, this);
      if (input.size() < count) {
        ADD_FAILURE() << "wanted " << count << " bytes, got " << input.size();
        return {};
      }
      Bytes head(input.begin(), input.begin() + static_cast<ptrdiff_t>(count));
      input.erase(input.begin(), input.begin() + static_cast<ptrdiff_t>(count));
      return head;
    }
    void receive_some() {
      uint8_t buffer[65536];
      for (;;) {
        io::IoResult got = channel->read(buffer, sizeof buffer);
        if (got.is_bytes() && got.count() > 0) {
          input.insert(input.end(), buffer, buffer + got.count());
          continue;
        }
        if (!got.is_would_block()) eof = true;
        return;
      }
    }
    // One FramebufferUpdate's rectangles.
    std::vector<Rect> update(int timeout_ms = 5000) {
      Bytes header = take(4, timeout_ms);
      std::vector<Rect> rects;
      if (header.size() < 4) return rects;
      EXPECT_EQ(header[0], 0) << "not a FramebufferUpdate";
      const uint16_t count = get_u16(header, 2);
      for (uint16_t i = 0; i < count; ++i) {
        Bytes rect_header = take(12);
        if (rect_header.size() < 12) return rects;
        Rect rect{get_u16(rect_header, 0),
                  get_u16(rect_header, 2),
                  get_u16(rect_header, 4),
                  get_u16(rect_header, 6),
                  static_cast<int32_t>(get_u32(rect_header, 8)),
                  {}};
        if (rect.encoding == 0) {
          rect.data = take(size_t{rect.width} * rect.height * 4);
        } else if (rect.encoding == 6) {
          Bytes length = take(4);
          rect.data = take(get_u32(length, 0));
        }
        rects.push_back(std::move(rect));
      }
      return rects;
    }
    void request(bool incremental, uint16_t x, uint16_t y, uint16_t width, uint16_t height) {
      Bytes message{3, static_cast<uint8_t>(incremental)};
      put_u16(message, x);
      put_u16(message, y);
      put_u16(message, width);
      put_u16(message, height);
      send(message);
    }
    void set_encodings(const std::vector<int32_t>& encodings) {
      Bytes message{2, 0};
      put_u16(message, static_cast<uint16_t>(encodings.size()));
      for (int32_t encoding : encodings) put_u32(message, static_cast<uint32_t>(encoding));
      send(message);
    }
  };

  std::unique_ptr<Client> connect() {
    auto client = std::make_unique<Client>();
    client->test = this;
    Expected<std::unique_ptr<io::SocketChannel>> socket =
        io::SocketChannel::connect(server->rfb_addresses().front());
    EXPECT_TRUE(socket) << socket.error().message();
    if (!socket) return client;
    EXPECT_TRUE((*socket)->set_blocking(false).ok());
    client->channel = std::move(*socket);
    clients.push_back(client.get());
    return client;
  }

  // Version 3.8, security None, ClientInit: returns ServerInit's width and height.
  std::pair<uint16_t, uint16_t> handshake(Client& client) {
    EXPECT_EQ(client.take(12), Bytes(std::begin("RFB 003.008\n"), std::end("RFB 003.008\n") - 1));
    client.send(Bytes(std::begin("RFB 003.008\n"), std::end("RFB 003.008\n") - 1));
    Bytes count = client.take(1);
    EXPECT_EQ(client.take(count.empty() ? 0 : count[0]), Bytes{1});
    client.send({1});
    EXPECT_EQ(client.take(4), (Bytes{0, 0, 0, 0}));
    client.send({1});  // shared
    Bytes init = client.take(24);
    if (init.size() < 24) return {0, 0};
    client.take(get_u32(init, 20));  // the name
    return {get_u16(init, 0), get_u16(init, 2)};
  }

  // Runs the loop (clients read as they go) until DONE or the deadline.
  template <typename Done>
  void pump_until(Done done, int timeout_ms, Client* = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      (void)loop->run_once(2'000'000);
      for (Client* client : clients) {
        if (client->channel && reading) client->receive_some();
      }
    }
  }
  void pump(int milliseconds) {
    pump_until([] { return false; }, milliseconds);
  }

  // The expected Raw pixels (default format: 32 bpp little-endian, red at
  // 16, the padding byte 0xFF).
  static Bytes raw_pixels(const Screen& screen, uint16_t x, uint16_t y, uint16_t w, uint16_t h) {
    Bytes out;
    for (uint32_t row = y; row < uint32_t{y} + h; ++row) {
      for (uint32_t column = x; column < uint32_t{x} + w; ++column) {
        uint32_t pixel = screen.pixels[size_t{row} * screen.width + column] | 0xFF000000;
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(pixel >> (8 * i)));
      }
    }
    return out;
  }

  std::vector<Client*> clients;
  bool reading = true;
  std::unique_ptr<io::Loop> loop;
  KeyboardDevice keyboard{IrqLine()};
  Screen screen = make_screen(320, 240);
  std::unique_ptr<VncServer> server;
};

TEST_F(VncServerTest, Handshake38AndAFullUpdateCarriesTheScreen) {
  open_server();
  auto client = connect();
  auto [width, height] = handshake(*client);
  EXPECT_EQ(width, 320);
  EXPECT_EQ(height, 240);
  client->request(false, 0, 0, 320, 240);
  std::vector<Rect> rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].encoding, 0);
  EXPECT_EQ(rects[0].width, 320);
  EXPECT_EQ(rects[0].height, 240);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 0, 320, 240));
  // A partial non-incremental request gets exactly that rectangle.
  client->request(false, 10, 20, 30, 40);
  rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].x, 10);
  EXPECT_EQ(rects[0].y, 20);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 10, 20, 30, 40));
}

TEST_F(VncServerTest, Handshake33HasNoSecurityListAndNoResult) {
  open_server();
  auto client = connect();
  client->take(12);
  client->send(Bytes(std::begin("RFB 003.003\n"), std::end("RFB 003.003\n") - 1));
  EXPECT_EQ(client->take(4), (Bytes{0, 0, 0, 1}));  // the server picks None
  client->send({1});
  Bytes init = client->take(24);
  ASSERT_EQ(init.size(), 24u);
  EXPECT_EQ(get_u16(init, 0), 320);
  EXPECT_EQ(init[4], 32);  // bits per pixel
  client->take(get_u32(init, 20));
  client->request(false, 0, 0, 320, 240);
  EXPECT_EQ(client->update().size(), 1u);
}

TEST_F(VncServerTest, IncrementalUpdateCarriesOnlyTheChangedRows) {
  open_server();
  auto client = connect();
  handshake(*client);
  client->request(false, 0, 0, 320, 240);
  client->update();
  client->request(true, 0, 0, 320, 240);
  pump(100);
  EXPECT_TRUE(client->input.empty()) << "nothing changed, yet an update came";
  // Rows 10..12 and 100 change.
  ScreenUpdate update;
  update.rows.assign(240, false);
  for (uint32_t y : {10u, 11u, 12u, 100u}) {
    update.rows[y] = true;
    for (uint32_t x = 0; x < 320; ++x) screen.pixels[y * 320 + x] = 0x00FF00FF;
  }
  server->screen_updated(screen, update);
  std::vector<Rect> rects = client->update();
  ASSERT_EQ(rects.size(), 2u);
  EXPECT_EQ(rects[0].y, 10);
  EXPECT_EQ(rects[0].height, 3);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 10, 320, 3));
  EXPECT_EQ(rects[1].y, 100);
  EXPECT_EQ(rects[1].height, 1);
  // Changes while no request is pending wait for the next request.
  update.rows.assign(240, false);
  update.rows[50] = true;
  server->screen_updated(screen, update);
  pump(50);
  EXPECT_TRUE(client->input.empty());
  client->request(true, 0, 0, 320, 240);
  rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].y, 50);
}

TEST_F(VncServerTest, ZlibRectangleInflatesToTheScreenPixels) {
  open_server();
  auto client = connect();
  handshake(*client);
  client->set_encodings({6, 0});
  z_stream inflater{};
  ASSERT_EQ(inflateInit(&inflater), Z_OK);
  auto inflate_rect = [&](const Rect& rect) {
    Bytes out(size_t{rect.width} * rect.height * 4);
    inflater.next_in = const_cast<uint8_t*>(rect.data.data());
    inflater.avail_in = static_cast<uInt>(rect.data.size());
    inflater.next_out = out.data();
    inflater.avail_out = static_cast<uInt>(out.size());
    int result = inflate(&inflater, Z_SYNC_FLUSH);
    EXPECT_TRUE(result == Z_OK || result == Z_BUF_ERROR) << result;
    EXPECT_EQ(inflater.avail_out, 0u);
    return out;
  };
  client->request(false, 0, 0, 320, 240);
  std::vector<Rect> rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].encoding, 6);
  EXPECT_LT(rects[0].data.size(), 320u * 240 * 4);
  EXPECT_EQ(inflate_rect(rects[0]), raw_pixels(screen, 0, 0, 320, 240));
  // The stream continues over the next rectangle (one zlib stream per client).
  screen = make_screen(320, 240, 77);
  server->screen_updated(screen, all_rows(screen, false));
  client->request(true, 0, 0, 320, 240);
  rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(inflate_rect(rects[0]), raw_pixels(screen, 0, 0, 320, 240));
  inflateEnd(&inflater);
}

TEST_F(VncServerTest, PixelFormatIsNegotiated) {
  open_server();
  auto client = connect();
  handshake(*client);
  // RGB565 big-endian.
  Bytes message{0, 0, 0, 0, 16, 16, 1, 1};
  put_u16(message, 31);
  put_u16(message, 63);
  put_u16(message, 31);
  message.insert(message.end(), {11, 5, 0, 0, 0, 0});
  client->send(message);
  client->request(false, 0, 0, 2, 1);
  Bytes header = client->take(16);
  ASSERT_EQ(header.size(), 16u);
  Bytes pixels = client->take(4);
  ASSERT_EQ(pixels.size(), 4u);
  for (int x = 0; x < 2; ++x) {
    uint32_t source = pattern(x, 0);
    uint32_t r = ((source >> 16 & 0xFF) * 31 + 127) / 255,
             g = ((source >> 8 & 0xFF) * 63 + 127) / 255, b = ((source & 0xFF) * 31 + 127) / 255;
    EXPECT_EQ(get_u16(pixels, 2 * x), r << 11 | g << 5 | b) << x;
  }
}

TEST_F(VncServerTest, KeyEventsReachTheKeyboardFifoAsSet1Bytes) {
  open_server();
  auto client = connect();
  handshake(*client);
  // KeyEvent 'a' down and up, then cursor up (an 0xE0 key) down.
  Bytes message{4, 1, 0, 0};
  put_u32(message, 'a');
  message.insert(message.end(), {4, 0, 0, 0});
  put_u32(message, 'a');
  message.insert(message.end(), {4, 1, 0, 0});
  put_u32(message, 0xFF52);  // XK_Up
  client->send(message);
  // The QEMU extended key event: announced, acknowledged, then used (qnum 0x1c: Enter).
  client->set_encodings({0, -258});
  std::vector<Rect> ack = client->update();
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0].encoding, -258);
  Bytes extended{255, 0};
  put_u16(extended, 1);
  put_u32(extended, 0);  // no keysym: the keycode decides
  put_u32(extended, 0x1C);
  client->send(extended);
  pump_until([&] { return keyboard.level() >= 7; }, 3000);
  Bytes fifo;
  const KeyboardState& state = keyboard.state();
  for (uint32_t i = 0; i < state.count; ++i) fifo.push_back(state.fifo[(state.head + i) % 32]);
  EXPECT_EQ(fifo, (Bytes{0x1E, 0x9E, 0xE0, 0x48, 0x1C}));
}

TEST_F(VncServerTest, TwoClientsAtOnceEachGetTheChanges) {
  open_server();
  auto first = connect();
  auto second = connect();
  handshake(*first);
  handshake(*second);
  EXPECT_EQ(server->client_count(), 2u);
  for (Client* client : {first.get(), second.get()}) {
    client->request(false, 0, 0, 320, 240);
    EXPECT_EQ(client->update().size(), 1u);
    client->request(true, 0, 0, 320, 240);
  }
  ScreenUpdate update;
  update.rows.assign(240, false);
  update.rows[7] = true;
  screen.pixels[7 * 320] = 0x123456;
  server->screen_updated(screen, update);
  for (Client* client : {first.get(), second.get()}) {
    std::vector<Rect> rects = client->update();
    ASSERT_EQ(rects.size(), 1u);
    EXPECT_EQ(rects[0].y, 7);
    EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 7, 320, 1));
  }
}

TEST_F(VncServerTest, AClientThatNeverReadsBlocksNeitherTheOtherNorTheLoop) {
  VncServerConfig config;
  config.limits.update_backlog = 64 * 1024;
  screen = make_screen(640, 480);
  open_server(std::move(config));
  auto stuck = connect();
  auto good = connect();
  handshake(*stuck);
  handshake(*good);
  // The stuck client asks for full updates over and over and never reads.
  Bytes requests;
  for (int i = 0; i < 200; ++i) {
    requests.insert(requests.end(), {3, 0, 0, 0, 0, 0});
    put_u16(requests, 640);
    put_u16(requests, 480);
  }
  stuck->send(requests);
  stuck->channel->set_name("stuck");
  // Only the good client reads from now on.
  clients.erase(std::find(clients.begin(), clients.end(), stuck.get()));
  const VncClient* stuck_server_side = server->clients().front();
  size_t most_backlog = 0;
  for (int frame = 0; frame < 40; ++frame) {
    screen = make_screen(640, 480, static_cast<uint32_t>(frame));
    server->screen_updated(screen, all_rows(screen, false));
    good->request(frame == 0 ? false : true, 0, 0, 640, 480);
    std::vector<Rect> rects = good->update();
    ASSERT_EQ(rects.size(), 1u) << frame;
    EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 0, 640, 480)) << frame;
    most_backlog = std::max(most_backlog, stuck_server_side->backlog());
  }
  // Bounded: the limit plus one full update (640x480x4 and headers).
  EXPECT_LE(most_backlog, 64u * 1024 + 640 * 480 * 4 + 64);
  EXPECT_GT(stuck_server_side->stats().updates_deferred, 0u);
  EXPECT_EQ(server->client_count(), 2u);
}

TEST_F(VncServerTest, BadInputClosesOnlyThatClientAndAVanishedClientIsCleanedUp) {
  open_server();
  auto good = connect();
  handshake(*good);
  auto bad = connect();
  bad->take(12);
  bad->send(Bytes(std::begin("HELLO there\n"), std::end("HELLO there\n") - 1));
  pump_until([&] { return bad->eof; }, 3000);
  EXPECT_TRUE(bad->eof);
  // A client asking for a full update and leaving at once.
  auto leaving = connect();
  handshake(*leaving);
  screen = make_screen(320, 240, 9);
  leaving->request(false, 0, 0, 320, 240);
  leaving->channel.reset();
  clients.erase(std::find(clients.begin(), clients.end(), leaving.get()));
  server->screen_updated(screen, all_rows(screen, false));
  pump_until([&] { return server->client_count() == 1; }, 3000);
  EXPECT_EQ(server->client_count(), 1u);
  good->request(false, 0, 0, 320, 240);
  std::vector<Rect> rects = good->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 0, 320, 240));
}

TEST_F(VncServerTest, AConnectionThatNeverFinishesItsHandshakeIsClosed) {
  VncServerConfig config;
  config.limits.handshake_timeout_ns = 200'000'000;
  open_server(std::move(config));
  auto ready = connect();
  handshake(*ready);
  auto silent = connect();
  auto start = std::chrono::steady_clock::now();
  pump_until([&] { return silent->eof; }, 5000);
  EXPECT_TRUE(silent->eof);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  pump(300);
  EXPECT_EQ(server->client_count(), 1u);  // the one that finished stays
  ready->request(false, 0, 0, 320, 240);
  EXPECT_EQ(ready->update().size(), 1u);
}

TEST_F(VncServerTest, DesktopSizeTellsANewResolution) {
  open_server();
  auto client = connect();
  handshake(*client);
  client->set_encodings({0, -223});
  client->request(false, 0, 0, 320, 240);
  client->update();
  client->request(true, 0, 0, 320, 240);
  screen = make_screen(640, 480, 3);
  server->screen_updated(screen, all_rows(screen, true));
  std::vector<Rect> rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].encoding, -223);
  EXPECT_EQ(rects[0].width, 640);
  EXPECT_EQ(rects[0].height, 480);
  client->request(false, 0, 0, 640, 480);
  rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 0, 640, 480));
}

TEST_F(VncServerTest, VeNCryptX509NoneRunsRfbOverTls) {
  Expected<io::testing::TlsTestCertificates> certificates =
      io::testing::TlsTestCertificates::create();
  ASSERT_TRUE(certificates) << certificates.error().message();
  Expected<std::shared_ptr<const io::TlsCredentials>> server_credentials =
      io::TlsCredentials::load_x509(certificates->server_dir(), io::TlsEndpoint::kServer, false);
  ASSERT_TRUE(server_credentials) << server_credentials.error().message();
  Expected<std::shared_ptr<const io::TlsCredentials>> client_credentials =
      io::TlsCredentials::load_x509(certificates->client_dir(), io::TlsEndpoint::kClient, true);
  ASSERT_TRUE(client_credentials) << client_credentials.error().message();
  VncServerConfig config;
  config.tls = *server_credentials;
  open_server(std::move(config));
  auto client = connect();
  client->take(12);
  client->send(Bytes(std::begin("RFB 003.008\n"), std::end("RFB 003.008\n") - 1));
  EXPECT_EQ(client->take(2), (Bytes{1, 19}));  // VeNCrypt only, no None
  client->send({19});
  EXPECT_EQ(client->take(2), (Bytes{0, 2}));  // VeNCrypt 0.2
  client->send({0, 2});
  EXPECT_EQ(client->take(6), (Bytes{0, 1, 0, 0, 1, 4}));  // accepted; one sub-type: 260
  client->send({0, 0, 1, 4});
  EXPECT_EQ(client->take(1), Bytes{1});
  // TLS from here on.
  reading = false;
  Expected<std::unique_ptr<io::TlsChannel>> tls =
      io::TlsChannel::create_client(std::move(client->channel), *client_credentials, "localhost");
  ASSERT_TRUE(tls) << tls.error().message();
  io::TlsChannel* raw = tls->get();
  client->channel = std::move(*tls);
  bool done = false;
  Error handshake_error;
  raw->start_handshake(*loop, [&](Error error) {
    handshake_error = std::move(error);
    done = true;
  });
  pump_until([&] { return done; }, 5000);
  ASSERT_TRUE(done);
  ASSERT_TRUE(handshake_error.ok()) << handshake_error.message();
  ASSERT_TRUE(client->channel->set_blocking(false).ok());
  reading = true;
  EXPECT_EQ(client->take(4), (Bytes{0, 0, 0, 0}));  // SecurityResult ok, inside TLS
  client->send({1});
  Bytes init = client->take(24);
  ASSERT_EQ(init.size(), 24u);
  client->take(get_u32(init, 20));
  client->request(false, 0, 0, 320, 240);
  std::vector<Rect> rects = client->update();
  ASSERT_EQ(rects.size(), 1u);
  EXPECT_EQ(rects[0].data, raw_pixels(screen, 0, 0, 320, 240));
}

TEST_F(VncServerTest, UnixSocketListener) {
  std::string path = ::testing::TempDir() + "vnc-test-" + std::to_string(getpid()) + ".sock";
  VncServerConfig config;
  config.rfb_address = io::SocketAddress::unix_path(path);
  open_server(std::move(config));
  auto client = connect();
  auto [width, height] = handshake(*client);
  EXPECT_EQ(width, 320);
  client->request(false, 0, 0, 320, 240);
  EXPECT_EQ(client->update().size(), 1u);
  server.reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "the socket file stays behind";
}

}  // namespace
}  // namespace cr16::ui
