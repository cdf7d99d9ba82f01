// GdbSession without a network: packets in, replies out, on a real machine
// (a stopped one: run control with the main loop is gdbstub_server_test).
// qSupported, acknowledgements and no-ack mode, NAK and retransmission,
// bad packets and the drop after too many, unknown packets, memory reads
// that do not pop a device, writes refused outside RAM, breakpoints and
// watchpoints reaching the CPU and leaving with the session, qRcmd, detach.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hw/board.h"
#include "machine_test_helpers.h"
#include "system/gdbstub/session.h"
#include "system/monitor/hmp.h"

namespace cr16::system::gdbstub {
namespace {

using test::kCounterProgram;
using test::MachineFixture;

class GdbSessionTest : public MachineFixture {
 protected:
  void start(std::vector<std::string> extra = {"-S"}) {
    Machine& machine = make(kCounterProgram, extra);
    control_ = &machine.control();
    cpu_ = &machine.board().cpu();
    GdbSession::Hooks hooks;
    hooks.send = [this](std::string_view bytes) { wire_ += bytes; };
    hooks.close = [this] { ++closes_; };
    hooks.kill = [this] { ++kills_; };
    hooks.monitor = [this](std::string_view line) {
      return monitor::execute_hmp_line(line, *control_);
    };
    session_ = std::make_unique<GdbSession>(*control_, *cpu_, std::move(hooks));
  }
  void TearDown() override {
    session_.reset();
    MachineFixture::TearDown();
  }

  void feed(const std::string& bytes) {
    session_->receive(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  // Sends one packet; returns the payloads of the packets that came back
  // (acknowledgements dropped).
  std::vector<std::string> exchange(const std::string& payload) {
    wire_.clear();
    feed(frame_packet(payload));
    return packets();
  }
  std::string ask(const std::string& payload) {
    std::vector<std::string> replies = exchange(payload);
    EXPECT_EQ(replies.size(), 1u) << payload;
    return replies.empty() ? "<none>" : replies.back();
  }
  std::vector<std::string> packets() const {
    PacketReader reader;
    std::vector<std::string> out;
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(wire_.data()), wire_.size());
    while (std::optional<RspEvent> event = reader.next(&rest)) {
      if (event->kind == RspEvent::Kind::kPacket) out.push_back(event->payload);
    }
    return out;
  }

  MachineControl* control_ = nullptr;
  Cpu* cpu_ = nullptr;
  std::unique_ptr<GdbSession> session_;
  std::string wire_;
  int closes_ = 0;
  int kills_ = 0;
};

TEST_F(GdbSessionTest, QSupportedAdvertisesWhatWeServe) {
  start();
  const std::string reply = ask("qSupported:multiprocess+;swbreak+;hwbreak+");
  EXPECT_EQ(reply,
            "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;"
            "QStartNoAckMode+");
  EXPECT_EQ(wire_.front(), '+');  // acknowledged before the reply
}

TEST_F(GdbSessionTest, StatusThreadsAndUnknownPackets) {
  start();
  EXPECT_EQ(ask("?"), "T050f:00000000;10:00000000;thread:01;");
  EXPECT_EQ(ask("qAttached"), "1");
  EXPECT_EQ(ask("qfThreadInfo"), "m01");
  EXPECT_EQ(ask("qsThreadInfo"), "l");
  EXPECT_EQ(ask("qC"), "QC01");
  EXPECT_EQ(ask("Hg0"), "OK");
  EXPECT_EQ(ask("Hc-1"), "OK");
  EXPECT_EQ(ask("Hg2"), "E16");
  EXPECT_EQ(ask("T1"), "OK");
  EXPECT_EQ(ask("T2"), "E16");
  EXPECT_EQ(ask("vCont?"), "vCont;c;C;s;S");
  EXPECT_EQ(ask("vMustReplyEmpty"), "");
  EXPECT_EQ(ask("qTStatus"), "");
  EXPECT_EQ(ask("!"), "");
  EXPECT_EQ(ask("Z9,0,2"), "");  // an unknown breakpoint type is unsupported, not an error
  EXPECT_EQ(ask(""), "");
}

TEST_F(GdbSessionTest, TargetDescriptionInPieces) {
  start();
  std::string xml;
  size_t offset = 0;
  for (int i = 0; i < 100; ++i) {
    char request[64];
    std::snprintf(request, sizeof request, "qXfer:features:read:target.xml:%zx,80", offset);
    const std::string reply = ask(request);
    ASSERT_FALSE(reply.empty());
    ASSERT_TRUE(reply[0] == 'm' || reply[0] == 'l') << reply;
    EXPECT_LE(reply.size() - 1, 0x80u);
    xml += reply.substr(1);
    offset += reply.size() - 1;
    if (reply[0] == 'l') break;
  }
  EXPECT_NE(xml.find("<architecture>cr16</architecture>"), std::string::npos);
  EXPECT_EQ(xml.substr(xml.size() - 10), "</target>\n");
  EXPECT_EQ(ask("qXfer:features:read:other.xml:0,80"), "E00");
  EXPECT_EQ(ask("qXfer:features:read:target.xml:100000,80"), "l");
  EXPECT_EQ(ask("qXfer:features:read:target.xml:0"), "E16");
}

TEST_F(GdbSessionTest, RegistersThroughPacketsAndTheirErrors) {
  start();
  const std::string all = ask("g");
  EXPECT_EQ(all.size(), 168u);
  EXPECT_EQ(ask("P4=3412"), "OK");
  EXPECT_EQ(control_->read_register("r4").value(), 0x1234u);
  EXPECT_EQ(ask("p4"), "3412");
  EXPECT_EQ(ask("p10"), "00000000");
  EXPECT_EQ(ask("P10=06000000"), "OK");
  EXPECT_EQ(control_->read_register("pc").value(), 6u);
  EXPECT_EQ(ask("P10=07000000"), "E16");  // odd pc
  EXPECT_EQ(ask("P4=12"), "E16");         // r4 takes 2 bytes
  EXPECT_EQ(ask("p1b"), "E16");           // 27: no such register
  EXPECT_EQ(ask("pzz"), "E16");
  EXPECT_EQ(ask("G" + all), "OK");
  EXPECT_EQ(control_->read_register("pc").value(), 0u);
  EXPECT_EQ(ask("G00"), "E16");
}

TEST_F(GdbSessionTest, MemoryReadsPeekWritesStayInRam) {
  start();
  EXPECT_EQ(ask("M100,4:deadbeef"), "OK");
  EXPECT_EQ(ask("m100,4"), "deadbeef");
  EXPECT_EQ(ask("m0,6"), "045a1432ef1f");  // the program
  // Binary writes: the framing unescapes '#', '$', '}' and '*'.
  wire_.clear();
  feed(frame_packet(std::string("X200,4:#$}*")));
  ASSERT_EQ(packets(), std::vector<std::string>{"OK"});
  EXPECT_EQ(ask("m200,4"), "23247d2a");
  EXPECT_EQ(ask("X200,0:"), "OK");  // GDB's probe for X
  // Flash and device registers refuse writes; nothing changes.
  const std::string flash = ask("me00000,4");
  EXPECT_EQ(ask("Me00000,4:00000000"), "E0e");
  EXPECT_EQ(ask("me00000,4"), flash);
  EXPECT_EQ(ask("Mff0100,1:41"), "E0e");
  // A write that runs from RAM into a hole is refused as a whole.
  const std::string tail = ask("m1ffffe,2");
  EXPECT_EQ(ask("M1ffffe,4:11223344"), "E0e");
  EXPECT_EQ(ask("m1ffffe,2"), tail);
  // Reads: the readable beginning of a range that runs into a hole; an
  // error when nothing is readable; lengths beyond one reply are cut.
  EXPECT_EQ(ask("m1ffffe,10").size(), 4u);
  EXPECT_EQ(ask("m300000,4"), "E0e");
  EXPECT_EQ(ask("m0,100000").size(), kPacketSize);
  EXPECT_EQ(ask("m1000000,4"), "E16");  // past 24 bits
  EXPECT_EQ(ask("m100,zz"), "E16");
  EXPECT_EQ(ask("M100,2:abc"), "E16");   // odd hex
  EXPECT_EQ(ask("M100,4:abcd"), "E16");  // length mismatch
  EXPECT_EQ(ask("M100,2:zzzz"), "E16");  // bad hex
  EXPECT_EQ(ask("m100"), "E16");
}

TEST_F(GdbSessionTest, ReadingTheUartDataRegisterDoesNotPopIt) {
  start();
  // UART0's data register reads 0 when empty, and a read must not change
  // its status (no device side effect).
  const std::string status = ask("mff0104,4");
  EXPECT_EQ(ask("mff0100,4"), "00000000");
  EXPECT_EQ(ask("mff0104,4"), status);
}

TEST_F(GdbSessionTest, BreakpointsAndWatchpointsReachTheCpuAndLeaveWithTheSession) {
  start();
  EXPECT_EQ(ask("Z0,2,2"), "OK");
  EXPECT_TRUE(cpu_->breakpoint_at(2));
  EXPECT_EQ(ask("Z1,2,2"), "OK");  // hardware and software at one address
  EXPECT_EQ(ask("z0,2,2"), "OK");
  EXPECT_TRUE(cpu_->breakpoint_at(2));  // the hardware one is still there
  EXPECT_EQ(ask("z1,2,2"), "OK");
  EXPECT_FALSE(cpu_->breakpoint_at(2));
  EXPECT_EQ(ask("z0,2,2"), "OK");   // removing what is not there
  EXPECT_EQ(ask("Z0,3,2"), "E16");  // odd
  EXPECT_EQ(ask("Z0,1000000,2"), "E16");
  EXPECT_EQ(ask("Z2,100,4"), "OK");
  EXPECT_EQ(ask("Z3,104,2"), "OK");
  EXPECT_EQ(ask("Z4,108,1"), "OK");
  EXPECT_TRUE(cpu_->watchpoints_active());
  EXPECT_EQ(ask("Z2,100,0"), "E16");     // empty range
  EXPECT_EQ(ask("Z2,ffffff,2"), "E16");  // past 24 bits
  EXPECT_EQ(ask("z3,104,2"), "OK");
  EXPECT_EQ(ask("Z0,4,2"), "OK");
  session_.reset();  // the debugger leaves: its points go
  EXPECT_FALSE(cpu_->breakpoint_at(4));
  EXPECT_FALSE(cpu_->watchpoints_active());
}

TEST_F(GdbSessionTest, TooManyBreakpointsIsAnErrorNotALeak) {
  start();
  std::string reply;
  int set = 0;
  for (uint32_t address = 0x1000; set < 5000; address += 2, ++set) {
    char packet[32];
    std::snprintf(packet, sizeof packet, "Z0,%x,2", address);
    reply = ask(packet);
    if (reply != "OK") break;
  }
  EXPECT_EQ(reply, "E1c");
  EXPECT_LT(set, 5000);
}

TEST_F(GdbSessionTest, BadChecksumsAreNakedAndAPeerThatKeepsSendingThemIsDropped) {
  start();
  wire_.clear();
  feed("$g#00");
  EXPECT_EQ(wire_, "-");
  EXPECT_EQ(session_->statistics().bad_checksums, 1u);
  // A good packet resets the count.
  EXPECT_EQ(ask("qC"), "QC01");
  for (unsigned i = 0; i + 1 < GdbSession::kMaxBadPackets; ++i) feed("$g#00");
  EXPECT_EQ(closes_, 0);
  EXPECT_FALSE(session_->closed());
  feed("$g#00");
  EXPECT_EQ(closes_, 1);
  EXPECT_TRUE(session_->closed());
  wire_.clear();
  feed("$qC#b4");  // nothing more is handled
  EXPECT_EQ(wire_, "");
}

TEST_F(GdbSessionTest, MalformedAndOverlongPacketsGetAnError) {
  start();
  wire_.clear();
  feed("$m0*#c7");  // a run-length count missing
  EXPECT_EQ(packets(), std::vector<std::string>{"E01"});
  EXPECT_EQ(wire_.front(), '+');
  const std::string big = "M100," + std::string(kPacketSize, '0');
  wire_.clear();
  feed(frame_packet(big));
  EXPECT_EQ(packets(), std::vector<std::string>{"E01"});
  EXPECT_EQ(session_->statistics().malformed, 2u);
}

TEST_F(GdbSessionTest, NakResendsTheLastReplyUntilTheLimit) {
  start();
  ask("qC");
  const std::string reply = frame_packet("QC01", true);
  for (unsigned i = 0; i < GdbSession::kMaxRetransmits; ++i) {
    wire_.clear();
    feed("-");
    EXPECT_EQ(wire_, reply);
  }
  EXPECT_EQ(closes_, 0);
  feed("-");
  EXPECT_EQ(closes_, 1);
}

TEST_F(GdbSessionTest, NoAckModeStopsAcknowledgements) {
  start();
  wire_.clear();
  feed(frame_packet("QStartNoAckMode"));
  EXPECT_EQ(wire_, "+" + frame_packet("OK", true));  // acknowledged once more
  EXPECT_TRUE(session_->no_ack_mode());
  wire_.clear();
  feed(frame_packet("qC"));
  EXPECT_EQ(wire_, frame_packet("QC01", true));
  wire_.clear();
  feed("$qC#00");  // a bad checksum is dropped silently
  feed("-");       // and a NAK means nothing
  EXPECT_EQ(wire_, "");
}

TEST_F(GdbSessionTest, MonitorCommandsAnswerInConsolePackets) {
  start();
  std::vector<std::string> replies =
      exchange("qRcmd," + hex_encode(std::string_view("info status")));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0], "O" + hex_encode(std::string_view("VM status: paused (prelaunch)\n")));
  EXPECT_EQ(replies[1], "OK");
  // Long output is cut into packets that fit.
  replies = exchange("qRcmd," + hex_encode(std::string_view("x/4096xb 0")));
  ASSERT_GT(replies.size(), 2u);
  for (const std::string& reply : replies) EXPECT_LE(reply.size(), kPacketSize);
  EXPECT_EQ(replies.back(), "OK");
  EXPECT_EQ(ask("qRcmd,zz"), "E16");
  EXPECT_EQ(ask("qRcmd,"), "OK");  // an empty line prints nothing
}

TEST_F(GdbSessionTest, AttachStopsARunningGuestInDebugAndDetachResumesIt) {
  start({});
  ASSERT_TRUE(control_->vm_start().ok());
  session_->attach();
  EXPECT_EQ(control_->run_state(), RunState::kDebug);
  EXPECT_EQ(ask("Z0,2,2"), "OK");
  EXPECT_EQ(ask("D"), "OK");
  EXPECT_EQ(closes_, 1);
  EXPECT_EQ(control_->run_state(), RunState::kRunning);
  EXPECT_FALSE(cpu_->breakpoint_at(2));
}

TEST_F(GdbSessionTest, ContinueFromAStateThatCannotRunAnswersAtOnce) {
  start();
  ASSERT_TRUE(control_->vm_start().ok());
  ASSERT_TRUE(control_->vm_stop(RunState::kShutdown).ok());  // as -no-shutdown leaves it
  EXPECT_EQ(ask("c"), "T030f:00000000;10:00000000;thread:01;");
  EXPECT_EQ(ask("vCont;c"), "T030f:00000000;10:00000000;thread:01;");
  EXPECT_EQ(ask("vCont;x"), "E16");
  EXPECT_EQ(ask("vCont;c:2"), "E16");  // no action for our thread
  EXPECT_EQ(ask("C0g"), "E16");
}

TEST_F(GdbSessionTest, KillAsksTheOwnerToEndTheEmulator) {
  start();
  EXPECT_TRUE(exchange("k").empty());
  EXPECT_EQ(kills_, 1);
  EXPECT_EQ(ask("vKill;1"), "OK");
  EXPECT_EQ(kills_, 2);
}

}  // namespace
}  // namespace cr16::system::gdbstub
