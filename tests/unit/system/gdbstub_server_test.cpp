// The gdbstub server in a real machine's main loop, driven by a debugger
// on another thread over a unix socket: attach stops the guest, breakpoints
// and watchpoints stop it where they should with the right stop replies,
// single steps execute one instruction, Ctrl-C interrupts, a monitor's
// `stop` is reported, detach and disconnect resume, `k` ends the machine,
// and HMP `gdbserver` starts and stops the server.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hw/board.h"
#include "machine_test_helpers.h"
#include "system/gdbstub/gdb_server_control.h"
#include "system/gdbstub/packet.h"
#include "system/gdbstub/target.h"
#include "system/monitor/hmp.h"

namespace cr16::system::gdbstub {
namespace {

using test::kCounterProgram;
using test::MachineFixture;

// movw $0, r4 / loop: addw $1, r4 / storw r4, 0x100 / loadw 0x102, r5 / br loop
const std::vector<uint8_t> kStoreLoadProgram = {
    0x04, 0x5a,              // 0: movw $0x0:s, r4
    0x14, 0x32,              // 2: addw $0x1:s, r4
    0x40, 0xc9, 0x00, 0x01,  // 4: storw r4, 0x100
    0x50, 0x89, 0x02, 0x01,  // 8: loadw 0x102, r5
    0xeb, 0x1f,              // c: br 2
};

// A blocking RSP client for the test thread (ack mode, as GDB starts).
class Debugger {
 public:
  bool connect(const std::string& path) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        timeval timeout{10, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        return true;
      }
      close(fd_);
      fd_ = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  ~Debugger() {
    if (fd_ >= 0) close(fd_);
  }
  void disconnect() {
    close(fd_);
    fd_ = -1;
  }
  void raw(const std::string& bytes) { (void)!write(fd_, bytes.data(), bytes.size()); }
  void send(const std::string& payload) { raw(frame_packet(payload)); }
  // The next packet (acknowledged); "<eof>" or "<timeout>" otherwise.
  std::string receive() {
    while (true) {
      std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(pending_.data()),
                                    pending_.size());
      std::optional<RspEvent> event = reader_.next(&rest);
      pending_.erase(0, pending_.size() - rest.size());
      if (event && event->kind == RspEvent::Kind::kPacket) {
        raw("+");
        return event->payload;
      }
      if (event) continue;  // '+'
      char buffer[4096];
      const ssize_t got = read(fd_, buffer, sizeof buffer);
      if (got == 0) return "<eof>";
      if (got < 0) return "<timeout>";
      pending_.append(buffer, static_cast<size_t>(got));
    }
  }
  std::string ask(const std::string& payload) {
    send(payload);
    std::string reply = receive();
    while (reply.starts_with("O") && reply != "OK") {
      console_ += *hex_decode(reply.substr(1));
      reply = receive();
    }
    return reply;
  }
  std::string console_;

 private:
  int fd_ = -1;
  PacketReader reader_;
  std::string pending_;
};

// The value of "NN:" in a stop reply, as a little-endian 32-bit number.
uint32_t stop_register(const std::string& reply, const std::string& number) {
  const size_t at = reply.find(";" + number + ":");
  if (at == std::string::npos) return 0xFFFFFFFF;
  return *decode_register_value(reply.substr(at + 4, 8), 4);
}

class GdbServerTest : public MachineFixture {
 protected:
  std::string socket_path() { return dir_ + "/gdb.sock"; }
  Machine& start(const std::vector<uint8_t>& program, std::vector<std::string> extra = {}) {
    extra.push_back("-gdb");
    extra.push_back("unix:" + socket_path() + ",server=on");
    return make(program, extra);
  }
  // Runs `script` on a thread while the machine runs here; the script ends
  // the machine (k) or the time limit does.
  int run_with(const std::function<void(Debugger&)>& script) {
    std::thread thread([&] {
      Debugger debugger;
      if (!debugger.connect(socket_path())) {
        ADD_FAILURE() << "cannot connect";
        return;
      }
      script(debugger);
    });
    const int status = run_with_limit(20'000);
    thread.join();
    return status;
  }
};

TEST_F(GdbServerTest, BreakpointContinueAndSingleStep) {
  Machine& machine = start(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  std::vector<std::string> stops;
  uint32_t r4_at_break = 99;
  const int status = run_with([&](Debugger& gdb) {
    EXPECT_EQ(gdb.ask("qSupported:swbreak+"),
              "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
              "QStartNoAckMode+");
    EXPECT_EQ(gdb.ask("?"), "T050f:00000000;10:00000000;thread:01;");
    EXPECT_EQ(gdb.ask("Z0,4,2"), "OK");
    stops.push_back(gdb.ask("c"));  // from prelaunch (-S) to the breakpoint
    r4_at_break = *decode_register_value(gdb.ask("p4"), 2);
    stops.push_back(gdb.ask("s"));        // the br at the breakpoint: back to 2
    stops.push_back(gdb.ask("s"));        // addw: to 4
    stops.push_back(gdb.ask("vCont;c"));  // around the loop once more, to the breakpoint
    EXPECT_EQ(*decode_register_value(gdb.ask("p4"), 2), 3u);
    EXPECT_EQ(gdb.ask("z0,4,2"), "OK");
    gdb.send("k");
  });
  EXPECT_EQ(status, 0);
  ASSERT_EQ(stops.size(), 4u);
  EXPECT_TRUE(stops[0].starts_with("T05swbreak:;")) << stops[0];
  EXPECT_EQ(stop_register(stops[0], "10"), 4u);
  EXPECT_EQ(r4_at_break, 1u);
  EXPECT_EQ(stops[1], "T050f:00000000;10:02000000;thread:01;");
  EXPECT_EQ(stop_register(stops[2], "10"), 4u);
  EXPECT_EQ(stops[2].find("swbreak"), std::string::npos);  // a step, not the breakpoint
  EXPECT_TRUE(stops[3].starts_with("T05swbreak:;")) << stops[3];
  EXPECT_EQ(stop_register(stops[3], "10"), 4u);
  (void)control;
}

TEST_F(GdbServerTest, WatchpointsReportTheirKindAndAddress) {
  Machine& machine = start(kStoreLoadProgram, {"-S"});
  std::vector<std::string> stops;
  const int status = run_with([&](Debugger& gdb) {
    gdb.ask("qSupported:swbreak+;hwbreak+");
    EXPECT_EQ(gdb.ask("Z2,100,2"), "OK");
    stops.push_back(gdb.ask("c"));
    EXPECT_EQ(gdb.ask("m100,2"), "0100");  // the store completed
    EXPECT_EQ(gdb.ask("z2,100,2"), "OK");
    EXPECT_EQ(gdb.ask("Z3,102,2"), "OK");
    stops.push_back(gdb.ask("c"));
    EXPECT_EQ(gdb.ask("z3,102,2"), "OK");
    EXPECT_EQ(gdb.ask("Z4,100,4"), "OK");  // access: the store hits it first
    stops.push_back(gdb.ask("c"));
    stops.push_back(gdb.ask("c"));  // then the load
    EXPECT_EQ(gdb.ask("z4,100,4"), "OK");
    EXPECT_EQ(gdb.ask("Z1,c,2"), "OK");
    stops.push_back(gdb.ask("c"));
    gdb.send("k");
  });
  EXPECT_EQ(status, 0);
  ASSERT_EQ(stops.size(), 5u);
  EXPECT_TRUE(stops[0].starts_with("T05watch:100;")) << stops[0];
  EXPECT_EQ(stop_register(stops[0], "10"), 8u);  // after the storw
  EXPECT_TRUE(stops[1].starts_with("T05rwatch:102;")) << stops[1];
  EXPECT_EQ(stop_register(stops[1], "10"), 0xcu);  // after the loadw
  EXPECT_TRUE(stops[2].starts_with("T05awatch:100;")) << stops[2];
  EXPECT_EQ(stop_register(stops[2], "10"), 8u);
  EXPECT_TRUE(stops[3].starts_with("T05awatch:100;")) << stops[3];
  EXPECT_EQ(stop_register(stops[3], "10"), 0xcu);
  EXPECT_TRUE(stops[4].starts_with("T05hwbreak:;")) << stops[4];
  EXPECT_EQ(stop_register(stops[4], "10"), 0xcu);
  (void)machine;
}

TEST_F(GdbServerTest, AttachStopsInDebugCtrlCInterruptsAndMonitorStopIsReported) {
  Machine& machine = start(kCounterProgram);
  MachineControl& control = machine.control();
  std::string status_line;
  std::string interrupted;
  std::string monitor_stopped;
  uint64_t count_while_stopped[2] = {0, 1};
  const int status = run_with([&](Debugger& gdb) {
    EXPECT_TRUE(gdb.ask("?").starts_with("T05"));
    status_line = (gdb.ask("qRcmd," + hex_encode(std::string_view("info status"))), gdb.console_);
    gdb.send("c");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gdb.raw("\x03");
    interrupted = gdb.receive();
    // The guest stays still while stopped.
    count_while_stopped[0] = *decode_register_value(gdb.ask("p4"), 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    count_while_stopped[1] = *decode_register_value(gdb.ask("p4"), 2);
    // A monitor's stop while the debugger waits in a continue.
    gdb.send("c");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gdb.send("qRcmd," + hex_encode(std::string_view("stop")));
    // The OK of qRcmd and the stop reply may come in either order.
    std::string first = gdb.receive();
    std::string second = gdb.receive();
    monitor_stopped = first == "OK" ? second : first;
    gdb.send("k");
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(status_line, "VM status: paused (debug)\n");
  EXPECT_TRUE(interrupted.starts_with("T02")) << interrupted;
  EXPECT_EQ(count_while_stopped[0], count_while_stopped[1]);
  EXPECT_TRUE(monitor_stopped.starts_with("T02")) << monitor_stopped;
  (void)control;
}

// The instruction count `info registers` shows, read through qRcmd.
uint64_t guest_icount(Debugger& gdb) {
  gdb.console_.clear();
  gdb.ask("qRcmd," + hex_encode(std::string_view("info registers")));
  const size_t at = gdb.console_.find("icount=");
  if (at == std::string::npos) return 0;
  return std::stoull(gdb.console_.substr(at + 7), nullptr, 16);
}

TEST_F(GdbServerTest, DetachAndDisconnectLeaveTheGuestRunningWithoutBreakpoints) {
  Machine& machine = start(kCounterProgram);
  MachineControl& control = machine.control();
  std::vector<std::pair<RunState, RunState>> changes;
  control.add_state_listener([&](RunState from, RunState to) { changes.emplace_back(from, to); });
  uint64_t icount[3] = {};
  std::string exit_reply;
  const int status = run_with([&](Debugger& gdb) {
    icount[0] = guest_icount(gdb);
    EXPECT_EQ(gdb.ask("Z0,2,2"), "OK");
    EXPECT_EQ(gdb.ask("D"), "OK");
    EXPECT_EQ(gdb.receive(), "<eof>");  // the stub closes after D
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    // A second debugger: attach stops the guest, which ran meanwhile (the
    // breakpoint left with the first); it vanishes in the middle of a packet.
    Debugger second;
    ASSERT_TRUE(second.connect(socket_path()));
    icount[1] = guest_icount(second);
    EXPECT_EQ(second.ask("Z0,2,2"), "OK");
    second.raw("$m0,4");
    second.disconnect();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    Debugger third;
    ASSERT_TRUE(third.connect(socket_path()));
    icount[2] = guest_icount(third);
    third.send("k");
    exit_reply = third.receive();
  });
  EXPECT_EQ(status, 0);
  EXPECT_GT(icount[1], icount[0]);
  EXPECT_GT(icount[2], icount[1]);
  EXPECT_EQ(exit_reply, "W00");
  EXPECT_FALSE(machine.board().cpu().breakpoint_at(2));
  int resumed = 0;
  for (const auto& change : changes) {
    if (change == std::make_pair(RunState::kDebug, RunState::kRunning)) ++resumed;
  }
  EXPECT_EQ(resumed, 2);  // after D, after the disconnect
}

TEST_F(GdbServerTest, ADebuggerStoppingItsOwnServerIsDroppedCleanly) {
  Machine& machine = start(kCounterProgram);
  MachineControl& control = machine.control();
  RunState after = RunState::kPrelaunch;
  bool breakpoint_left = true;
  std::string end;
  at(1500, [&] {
    after = control.run_state();
    breakpoint_left = machine.board().cpu().breakpoint_at(2);
    control.quit();
  });
  const int status = run_with([&](Debugger& gdb) {
    EXPECT_EQ(gdb.ask("Z0,2,2"), "OK");
    // The monitor command drops this very connection; what follows it in
    // the same write is not acted upon.
    gdb.raw(frame_packet("qRcmd," + hex_encode(std::string_view("gdbserver none"))) +
            frame_packet("Z0,4,2"));
    do {
      end = gdb.receive();
    } while (end != "<eof>" && end != "<timeout>");
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(end, "<eof>");
  EXPECT_EQ(after, RunState::kRunning);  // the debugger held it; it is gone
  EXPECT_FALSE(breakpoint_left);
  EXPECT_FALSE(machine.board().cpu().breakpoint_at(4));
  EXPECT_FALSE(control.gdb_server()->status().listening);
}

TEST_F(GdbServerTest, MonitorGdbserverStartsAndStopsTheServer) {
  Machine& machine = make(kCounterProgram, {"-S"});
  MachineControl& control = machine.control();
  ASSERT_NE(control.gdb_server(), nullptr);
  EXPECT_FALSE(control.gdb_server()->status().listening);
  const std::string path = socket_path();
  std::string answer = monitor::execute_hmp_line("gdbserver unix:" + path, control);
  EXPECT_EQ(answer, "Waiting for gdb connection on device 'unix:" + path +
                        "' (listening on unix:" + path + ")\n");
  EXPECT_TRUE(control.gdb_server()->status().listening);
  EXPECT_EQ(monitor::execute_hmp_line("gdbserver bogus", control).substr(0, 7), "Error: ");
  EXPECT_TRUE(control.gdb_server()->status().listening);  // a bad device keeps the old server
  // The same address again replaces the server.
  EXPECT_EQ(monitor::execute_hmp_line("gdbserver unix:" + path, control).substr(0, 7), "Waiting");
  EXPECT_EQ(monitor::execute_hmp_line("gdbserver none", control), "Disabled gdbserver\n");
  EXPECT_FALSE(control.gdb_server()->status().listening);
  EXPECT_NE(access(path.c_str(), F_OK), 0);  // the socket file is gone
  answer = monitor::execute_hmp_line("gdbserver tcp:127.0.0.1:0", control);
  EXPECT_NE(answer.find("(listening on tcp:127.0.0.1:"), std::string::npos) << answer;
  EXPECT_EQ(monitor::execute_hmp_line("help gdbserver", control).substr(0, 18),
            "gdbserver [device]");
}

}  // namespace
}  // namespace cr16::system::gdbstub
