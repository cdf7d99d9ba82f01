// The gdbstub's costs, measured in one process: a real machine runs a small
// store/load loop under `-gdb unix:...` on this thread while a debugger on
// another thread talks RSP (no-ack mode) over the socket. Reports single
// steps, breakpoint hits (continue to a breakpoint and back), `g` and 2 KiB
// `m` round trips per second, and the guest's MIPS with no watchpoint, with
// a watchpoint on another page, and with one on the page it stores to.
// Not a test: results are checked (the counter register must advance
// exactly), speed is only printed.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "system/gdbstub/packet.h"
#include "system/gdbstub/target.h"
#include "system/machine.h"
#include "system/machine_control.h"
#include "system/options.h"

namespace {

using cr16::system::gdbstub::frame_packet;
using cr16::system::gdbstub::hex_decode;
using cr16::system::gdbstub::hex_encode;
using cr16::system::gdbstub::PacketReader;
using cr16::system::gdbstub::RspEvent;
using Clock = std::chrono::steady_clock;

// movw $0, r4 / loop: addw $1, r4 / storw r4, 0x2000 / loadw 0x2002, r5 / br loop
// (data on another page than the code, which stores would otherwise invalidate)
const std::vector<uint8_t> kProgram = {0x04, 0x5a, 0x14, 0x32, 0x40, 0xc9, 0x00,
                                       0x20, 0x50, 0x89, 0x02, 0x20, 0xeb, 0x1f};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench-gdb: %s\n", what.c_str());
  std::exit(1);
}

class Debugger {
 public:
  explicit Debugger(const std::string& path) {
    for (int attempt = 0; attempt < 500 && fd_ < 0; ++attempt) {
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        fd_ = fd;
      } else {
        close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (fd_ < 0) fail("cannot connect to the gdbstub");
  }
  ~Debugger() { close(fd_); }
  void raw(const std::string& bytes) {
    if (write(fd_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      fail("write");
    }
  }
  void send(const std::string& payload) {
    raw(frame_packet(payload));
    if (ack_) expect_ack();
  }
  std::string receive() {
    while (true) {
      std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(pending_.data()),
                                    pending_.size());
      std::optional<RspEvent> event = reader_.next(&rest);
      pending_.erase(0, pending_.size() - rest.size());
      if (event && event->kind == RspEvent::Kind::kPacket) {
        if (ack_) raw("+");
        return event->payload;
      }
      if (event) continue;
      char buffer[8192];
      const ssize_t got = read(fd_, buffer, sizeof buffer);
      if (got <= 0) fail("the stub closed the connection");
      pending_.append(buffer, static_cast<size_t>(got));
    }
  }
  std::string ask(const std::string& payload) {
    send(payload);
    std::string reply = receive();
    while (reply.size() > 1 && reply[0] == 'O' && reply != "OK") {
      console_ += hex_decode(reply.substr(1)).value_or("");
      reply = receive();
    }
    return reply;
  }
  void no_ack() {
    if (ask("QStartNoAckMode") != "OK") fail("no-ack mode refused");
    ack_ = false;
  }
  uint64_t icount() {
    console_.clear();
    ask("qRcmd," + hex_encode(std::string_view("info registers")));
    const size_t at = console_.find("icount=");
    if (at == std::string::npos) fail("no icount in info registers");
    return std::stoull(console_.substr(at + 7), nullptr, 16);
  }
  uint32_t r4() { return cr16::system::gdbstub::decode_register_value(ask("p4"), 2).value_or(0); }

 private:
  void expect_ack() {
    char byte = 0;
    if (read(fd_, &byte, 1) != 1 || byte != '+') fail("no acknowledgement");
  }
  int fd_ = -1;
  bool ack_ = true;
  PacketReader reader_;
  std::string pending_;
  std::string console_;
};

double rate(int count, Clock::time_point since) {
  return count / std::chrono::duration<double>(Clock::now() - since).count();
}

// The guest's MIPS over `ms` of running, with whatever watchpoints are set.
double guest_mips(Debugger& gdb, int ms) {
  const uint64_t before = gdb.icount();
  gdb.send("c");
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  gdb.raw("\x03");
  const std::string stop = gdb.receive();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (stop.rfind("T02", 0) != 0) fail("interrupt answered " + stop);
  return (gdb.icount() - before) / seconds / 1e6;
}

void debugger_script(const std::string& path) {
  Debugger gdb(path);
  gdb.ask("qSupported:swbreak+");
  gdb.no_ack();

  // Single steps: the loop is addw, storw, loadw, br (4 instructions).
  constexpr int kSteps = 20000;
  auto start = Clock::now();
  for (int i = 0; i < kSteps; ++i) {
    if (gdb.ask("s").rfind("T05", 0) != 0) fail("step");
  }
  const double steps = rate(kSteps, start);
  const uint32_t after_steps = gdb.r4();
  if (after_steps != (kSteps + 2) / 4) fail("steps: r4 = " + std::to_string(after_steps));

  // Breakpoint hits: continue to the addw, once per loop iteration.
  constexpr int kHits = 5000;
  if (gdb.ask("Z0,2,2") != "OK") fail("Z0");
  const uint32_t before_hits = gdb.r4();
  start = Clock::now();
  for (int i = 0; i < kHits; ++i) {
    if (gdb.ask("c").rfind("T05swbreak", 0) != 0) fail("breakpoint");
  }
  const double hits = rate(kHits, start);
  if (gdb.r4() != static_cast<uint16_t>(before_hits + kHits - 1) &&
      gdb.r4() != static_cast<uint16_t>(before_hits + kHits)) {
    fail("breakpoint hits: r4 did not advance once per hit");
  }
  gdb.ask("z0,2,2");

  constexpr int kReads = 20000;
  start = Clock::now();
  for (int i = 0; i < kReads; ++i) {
    if (gdb.ask("g").size() != 168) fail("g");
  }
  const double registers = rate(kReads, start);
  start = Clock::now();
  for (int i = 0; i < kReads / 4; ++i) {
    if (gdb.ask("m0,800").size() != 4096) fail("m");
  }
  const double memory = rate(kReads / 4, start) * 2048 / 1e6;

  const double plain = guest_mips(gdb, 400);
  gdb.ask("Z2,8000,4");  // another page: the guest's accesses stay fast
  const double other_page = guest_mips(gdb, 400);
  gdb.ask("z2,8000,4");
  gdb.ask("Z2,2800,4");  // the page the guest stores to, never hit
  const double same_page = guest_mips(gdb, 400);
  gdb.ask("z2,2800,4");

  std::printf("gdbstub round trips over a unix socket (no-ack mode):\n");
  std::printf("  single steps            %9.0f /s\n", steps);
  std::printf("  breakpoint hits (c)     %9.0f /s\n", hits);
  std::printf("  g (all registers)       %9.0f /s\n", registers);
  std::printf("  m (2 KiB reads)         %9.1f MB/s\n", memory);
  std::printf("guest speed (store/load loop):\n");
  std::printf("  no watchpoint           %9.1f MIPS\n", plain);
  std::printf("  watchpoint, other page  %9.1f MIPS\n", other_page);
  std::printf("  watchpoint, same page   %9.1f MIPS\n", same_page);
  std::fflush(stdout);
  gdb.send("k");
}

}  // namespace

int main() {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("cr16-bench-gdb-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string program = (dir / "program.bin").string();
  const std::string socket_path = (dir / "gdb.sock").string();
  std::ofstream(program, std::ios::binary)
      .write(reinterpret_cast<const char*>(kProgram.data()),
             static_cast<std::streamsize>(kProgram.size()));
  const std::string gdb_device = "unix:" + socket_path;
  const std::vector<std::string_view> args = {"-kernel", program, "-serial", "none",    "-monitor",
                                              "none",    "-S",    "-gdb",    gdb_device};
  auto options = cr16::system::parse_options(std::span<const std::string_view>(args));
  if (!options) fail(options.error().message());
  auto machine = cr16::system::Machine::create(*options);
  if (!machine) fail(machine.error().message());
  std::thread debugger(debugger_script, socket_path);
  const int status = (*machine)->run();
  debugger.join();
  machine->reset();
  std::filesystem::remove_all(dir);
  return status;
}
