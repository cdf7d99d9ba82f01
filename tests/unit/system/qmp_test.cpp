// QMP on a real machine: the session (greeting, capabilities negotiation,
// QEMU's errors and member order, the id echoed, events after negotiation,
// a transport that refuses output), every QMP command of the table called
// with bad arguments, and the socket server with real clients (several at
// once, one that never reads, one that leaves mid-request, too many).
#include "system/monitor/qmp.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "machine_test_helpers.h"
#include "system/monitor/commands.h"
#include "system/monitor/json.h"
#include "system/monitor/qmp_server.h"

namespace cr16::system::monitor {
namespace {

using cr16::system::test::kCounterProgram;
using cr16::system::test::MachineFixture;

class QmpTest : public MachineFixture {
 protected:
  void SetUp() override {
    MachineFixture::SetUp();
    make(kCounterProgram, {"-S", "-name", "unit"});
    session_ = std::make_unique<QmpSession>(machine_->control(), [this](std::string_view text) {
      sent_.emplace_back(text);
      return accept_;
    });
  }
  void TearDown() override {
    session_.reset();
    MachineFixture::TearDown();
  }
  // Sends `request` and returns everything the session wrote, one message
  // per entry without the CR LF.
  std::vector<std::string> send(std::string_view request) {
    sent_.clear();
    session_->receive(request);
    std::vector<std::string> out;
    for (const std::string& text : sent_) {
      EXPECT_TRUE(text.ends_with("\r\n")) << text;
      out.push_back(text.substr(0, text.size() - 2));
    }
    return out;
  }
  std::string one(std::string_view request) {
    std::vector<std::string> out = send(request);
    EXPECT_EQ(out.size(), 1u) << request;
    return out.empty() ? "" : out.back();
  }
  void negotiate() {
    session_->start();
    ASSERT_EQ(one(R"({"execute": "qmp_capabilities"})"), R"({"return": {}})");
  }

  std::unique_ptr<QmpSession> session_;
  std::vector<std::string> sent_;
  bool accept_ = true;
};

TEST_F(QmpTest, GreetsThenNegotiatesCapabilities) {
  sent_.clear();
  session_->start();
  ASSERT_EQ(sent_.size(), 1u);
  const VersionNumbers version = emulator_version();
  EXPECT_EQ(sent_[0], R"({"QMP": {"version": {"qemu": {"micro": )" + std::to_string(version.micro) +
                          R"(, "minor": )" + std::to_string(version.minor) + R"(, "major": )" +
                          std::to_string(version.major) +
                          R"(}, "package": "cr16-system"}, "capabilities": []}})"
                          "\r\n");
  EXPECT_EQ(one(R"({"execute": "query-status"})"),
            R"({"error": {"class": "CommandNotFound", "desc": "Expecting capabilities )"
            R"(negotiation with 'qmp_capabilities'"}})");
  EXPECT_EQ(one(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}})"),
            R"({"error": {"class": "GenericError", "desc": "Capability 'oob' not available"}})");
  EXPECT_EQ(one(R"({"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'enable' does not accept )"
            R"(value 'x'"}})");
  EXPECT_EQ(one(R"({"execute": "qmp_capabilities", "arguments": {"enable": "oob"}})"),
            R"({"error": {"class": "GenericError", "desc": "Invalid parameter type for 'enable', )"
            R"(expected: array"}})");
  EXPECT_FALSE(session_->negotiated());
  EXPECT_EQ(one(R"({"execute": "qmp_capabilities", "arguments": {"enable": []}, "id": 1})"),
            R"({"return": {}, "id": 1})");
  EXPECT_TRUE(session_->negotiated());
  EXPECT_EQ(one(R"({"execute": "qmp_capabilities"})"),
            R"({"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is )"
            R"(already complete, command ignored"}})");
  EXPECT_EQ(one(R"({"execute": "query-status"})"),
            R"({"return": {"status": "prelaunch", "singlestep": false, "running": false}})");
}

TEST_F(QmpTest, MalformedRequestsGetQemusErrors) {
  negotiate();
  const std::pair<const char*, const char*> cases[] = {
      {"[1]", "QMP input must be a JSON object"},
      {R"("query-status")", "QMP input must be a JSON object"},
      {R"({"foo": 1})", "QMP input member 'foo' is unexpected"},
      {R"({"exec-oob": "query-status"})", "QMP input member 'exec-oob' is unexpected"},
      {R"({"id": 1})", "QMP input lacks member 'execute'"},
      {R"({"execute": 1})", "QMP input member 'execute' must be a string"},
      {R"({"execute": "stop", "arguments": []})", "QMP input member 'arguments' must be an object"},
      {R"({"execute": "stop", "arguments": {"force": true}})", "Parameter 'force' is unexpected"},
      {R"({"execute": "memsave", "arguments": {"size": 1, "filename": "f"}})",
       "Parameter 'val' is missing"},
      {R"({"execute": "memsave", "arguments": {"val": "0", "size": 1, "filename": "f"}})",
       "Invalid parameter type for 'val', expected: integer"},
      {R"({"execute": "memsave", "arguments": {"val": 1.5, "size": 1, "filename": "f"}})",
       "Invalid parameter type for 'val', expected: integer"},
      {R"({"execute": "memsave", "arguments": {"val": 18446744073709551615, "size": 1, "filename": "f"}})",
       "Invalid parameter type for 'val', expected: integer"},
      {R"({"execute": "human-monitor-command", "arguments": {"command-line": 7}})",
       "Invalid parameter type for 'command-line', expected: string"},
      {R"({"execute": "stop" "id": 1})",
       "JSON parse error, expecting ',' or '}' in an object, found '\"' (at byte 19)"},
  };
  for (const auto& [request, description] : cases) {
    Expected<Value> response = parse_json(one(request));
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->find("error")->string_or("class", ""), "GenericError") << request;
    EXPECT_EQ(response->find("error")->string_or("desc", ""), description) << request;
  }
  EXPECT_EQ(one(R"({"execute": "nope", "id": "x"})"),
            R"({"id": "x", "error": {"class": "CommandNotFound", "desc": "The command nope has )"
            R"(not been found"}})");
  // HMP-only commands are not QMP commands.
  EXPECT_EQ(parse_json(one(R"({"execute": "x"})"))->find("error")->string_or("class", ""),
            "CommandNotFound");
  EXPECT_EQ(
      parse_json(one(R"({"execute": "info registers"})"))->find("error")->string_or("class", ""),
      "CommandNotFound");
}

TEST_F(QmpTest, TheIdIsEchoedExactlyWhateverItIs) {
  negotiate();
  for (const char* id : {R"("a")", "7", "-1.5", "null", "true", R"([1, {"b": []}])",
                         R"({"nested": {"x": "\u00E9"}})"}) {
    EXPECT_EQ(one(std::string(R"({"execute": "query-name", "id": )") + id + "}"),
              std::string(R"({"return": {"name": "unit"}, "id": )") + id + "}");
    // Errors carry it too, first (QEMU's order).
    EXPECT_EQ(
        one(std::string(R"({"execute": "stop", "arguments": {"z": 1}, "id": )") + id + "}"),
        std::string(R"({"id": )") + id +
            R"(, "error": {"class": "GenericError", "desc": "Parameter 'z' is unexpected"}})");
  }
}

TEST_F(QmpTest, EventsFlowOnlyAfterNegotiationWithTimestamps) {
  session_->start();
  sent_.clear();
  EXPECT_TRUE(machine_->control().cont().ok());  // RESUME before negotiation: not sent
  EXPECT_TRUE(machine_->control().stop().ok());
  EXPECT_TRUE(sent_.empty());
  ASSERT_EQ(one(R"({"execute": "qmp_capabilities"})"), R"({"return": {}})");
  // cont: RESUME, then the reply (QEMU's order); RESUME carries no "data".
  std::vector<std::string> out = send(R"({"execute": "cont", "id": 1})");
  ASSERT_EQ(out.size(), 2u);
  Expected<Value> event = parse_json(out[0]);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->string_or("event", ""), "RESUME");
  EXPECT_EQ(event->find("data"), nullptr);
  const Value* stamp = event->find("timestamp");
  ASSERT_NE(stamp, nullptr);
  EXPECT_GT(stamp->int_or("seconds", 0), 1600000000);
  EXPECT_GE(stamp->int_or("microseconds", -1), 0);
  EXPECT_LT(stamp->int_or("microseconds", -1), 1000000);
  EXPECT_EQ(out[0].substr(0, 14), R"({"timestamp": )");
  EXPECT_EQ(out[1], R"({"return": {}, "id": 1})");
  out = send(R"({"execute": "system_reset"})");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].find(R"("event": "RESET", "data": {"guest": false, "reason": )"
                        R"("host-qmp-system-reset"}})"),
            std::string::npos);
  // Events from elsewhere (another client's command, the machine) arrive too.
  sent_.clear();
  EXPECT_TRUE(machine_->control().stop().ok());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_NE(sent_[0].find(R"("event": "STOP")"), std::string::npos);
}

TEST_F(QmpTest, ASessionWhoseTransportRefusesGoesQuiet) {
  negotiate();
  accept_ = false;
  EXPECT_EQ(send(R"({"execute": "query-status"})").size(), 1u);  // refused
  EXPECT_TRUE(session_->quiet());
  EXPECT_TRUE(send(R"({"execute": "query-status"})").empty());
  sent_.clear();
  EXPECT_TRUE(machine_->control().cont().ok());
  EXPECT_TRUE(sent_.empty());  // no events either
}

TEST_F(QmpTest, SeveralRequestsInOneReadAreAnsweredInOrder) {
  negotiate();
  std::vector<std::string> out =
      send(R"({"execute": "query-name", "id": 1}{"execute": "nope", "id": 2} ] )"
           R"({"execute": "query-target", "id": 3})");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], R"({"return": {"name": "unit"}, "id": 1})");
  EXPECT_NE(out[1].find("CommandNotFound"), std::string::npos);
  EXPECT_NE(out[2].find("unexpected ']' between messages"), std::string::npos);
  EXPECT_EQ(out[3], R"({"return": {"arch": "cr16"}, "id": 3})");
  EXPECT_EQ(session_->requests(), 5u);  // qmp_capabilities and these four
}

TEST_F(QmpTest, PrettyOutputIsIndented) {
  std::vector<std::string> sent;
  QmpSessionOptions options;
  options.pretty = true;
  QmpSession pretty(
      machine_->control(),
      [&sent](std::string_view text) {
        sent.emplace_back(text);
        return true;
      },
      options);
  pretty.start();
  pretty.receive(R"({"execute": "qmp_capabilities"})");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1], "{\n    \"return\": {\n    }\n}\r\n");
}

TEST_F(QmpTest, HumanMonitorCommandReturnsTheTextWithCrLf) {
  negotiate();
  Expected<Value> reply = parse_json(
      one(R"({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}})"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->string_or("return", ""), "VM status: paused (prelaunch)\r\n");
  reply = parse_json(
      one(R"({"execute": "human-monitor-command", "arguments": {"command-line": "frob"}})"));
  EXPECT_EQ(reply->string_or("return", ""), "unknown command: 'frob' (try 'help')\r\n");
  reply = parse_json(one(R"({"execute": "human-monitor-command", "arguments": )"
                         R"({"command-line": "info status", "cpu-index": 1}})"));
  EXPECT_EQ(reply->find("error")->string_or("desc", ""),
            "cpu-index 1 does not exist (this machine has CPU 0 only)");
}

TEST_F(QmpTest, EveryQmpCommandAnswersBadArgumentsWithAnError) {
  negotiate();
  for (const Command& command : commands()) {
    if (!command.qmp || std::string_view(command.name) == "quit" ||
        std::string_view(command.name) == "qmp_capabilities") {
      continue;
    }
    // An unknown argument is refused before anything runs.
    Expected<Value> reply = parse_json(one(std::string(R"({"execute": ")") + command.name +
                                           R"(", "arguments": {"no-such-argument": 1}})"));
    ASSERT_TRUE(reply) << command.name;
    ASSERT_NE(reply->find("error"), nullptr) << command.name;
    EXPECT_EQ(reply->find("error")->string_or("desc", ""),
              command.parameters.empty() ||
                      std::all_of(command.parameters.begin(), command.parameters.end(),
                                  [](const Parameter& p) { return p.optional; })
                  ? "Parameter 'no-such-argument' is unexpected"
                  : "Parameter '" + std::string(command.parameters.front().name) + "' is missing")
        << command.name;
  }
  EXPECT_EQ(machine_->control().run_state(), RunState::kPrelaunch);  // nothing ran
}

TEST_F(QmpTest, QueryCommandsListsWhatQmpServes) {
  negotiate();
  Expected<Value> reply = parse_json(one(R"({"execute": "query-commands"})"));
  ASSERT_TRUE(reply);
  std::vector<std::string> names;
  for (const Value& entry : reply->find("return")->as_list())
    names.push_back(entry.string_or("name", ""));
  for (const char* name : {"qmp_capabilities", "query-commands", "query-status", "stop", "cont",
                           "quit", "memsave", "pmemsave", "inject-nmi", "human-monitor-command"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  EXPECT_EQ(std::find(names.begin(), names.end(), "x"), names.end());
}

// ---- QMP on a character backend (stdio, pty, a socket client, a mux port)

class FakeBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override {
    const size_t taken = std::min(bytes.size(), room);
    output.append(reinterpret_cast<const char*>(bytes.data()), taken);
    room -= taken;
    return taken;
  }
  void attach(CharFrontend* frontend_in) override { frontend = frontend_in; }
  void frontend_ready() override {}
  void type(std::string_view text) {
    frontend->receive(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  std::string take() { return std::exchange(output, std::string()); }
  std::string output;
  size_t room = SIZE_MAX;
  CharFrontend* frontend = nullptr;
};

TEST_F(QmpTest, EachPeerOfACharBackendGetsItsOwnSession) {
  FakeBackend backend;
  QmpCharFrontend frontend(machine_->control(), backend, "test");
  EXPECT_FALSE(frontend.has_session());
  backend.type(R"({"execute": "qmp_capabilities"})");  // no peer yet: ignored
  EXPECT_EQ(backend.take(), "");
  frontend.char_event(CharEvent::kOpened);
  EXPECT_TRUE(backend.take().starts_with(R"({"QMP": )"));
  backend.type(R"({"execute": "qmp_capabilities"}{"execute": "query-target"})");
  EXPECT_EQ(backend.take(), "{\"return\": {}}\r\n{\"return\": {\"arch\": \"cr16\"}}\r\n");
  // The peer leaves and another comes: a new greeting, a new negotiation.
  frontend.char_event(CharEvent::kClosed);
  EXPECT_FALSE(frontend.has_session());
  frontend.char_event(CharEvent::kOpened);
  EXPECT_TRUE(backend.take().starts_with(R"({"QMP": )"));
  backend.type(R"({"execute": "query-target"})");
  EXPECT_NE(backend.take().find("CommandNotFound"), std::string::npos);
  // A peer that stops reading: the backend refuses output and the session
  // goes quiet until the next peer.
  backend.type(R"({"execute": "qmp_capabilities"})");
  backend.take();
  backend.room = 10;
  backend.type(R"({"execute": "query-target"}{"execute": "query-target"})");
  EXPECT_EQ(backend.take().size(), 10u);
  backend.room = SIZE_MAX;
  EXPECT_TRUE(machine_->control().cont().ok());  // an event: not sent any more
  EXPECT_EQ(backend.take(), "");
  frontend.char_event(CharEvent::kClosed);
  frontend.char_event(CharEvent::kOpened);
  EXPECT_TRUE(backend.take().starts_with(R"({"QMP": )"));
}

// ---- the socket server, with real clients on threads while the machine runs

class QmpClient {
 public:
  explicit QmpClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{10, 0};  // a broken server fails the test instead of hanging it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~QmpClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  // Ends the write side and reads until the server closes the connection:
  // once this returns, the server has dropped this client.
  void leave() {
    ::shutdown(fd_, SHUT_WR);
    while (!line().empty()) {
    }
  }
  void send(std::string_view text) {
    while (!text.empty()) {
      const ssize_t put = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (put <= 0) return;
      text.remove_prefix(static_cast<size_t>(put));
    }
  }
  // The next message (without CR LF); "" at end of file or timeout.
  std::string line() {
    while (true) {
      const size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string message = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return message;
      }
      char chunk[4096];
      const ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }
  // The next message that is not an event.
  std::string reply() {
    while (true) {
      std::string message = line();
      if (message.find("\"event\"") == std::string::npos) return message;
    }
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class QmpServerTest : public MachineFixture {
 protected:
  std::unique_ptr<QmpServer> open_server(QmpTransportLimits limits = {}) {
    make(kCounterProgram, {"-S"});
    path_ = dir_ + "/qmp.sock";
    SerialSpec spec;
    spec.kind = SerialSpec::Kind::kUnix;
    spec.path = path_;
    spec.server = true;
    spec.wait = false;
    spec.text = "unix:" + path_ + ",server=on";
    auto server = QmpServer::open(machine_->loop(), machine_->control(), spec, "test", {}, limits);
    EXPECT_TRUE(server) << server.error().message();
    return server ? std::move(*server) : nullptr;
  }
  std::string path_;
};

TEST_F(QmpServerTest, TwoClientsAtOnceEachNegotiateAndGetEvents) {
  auto server = open_server();
  ASSERT_NE(server, nullptr);
  std::atomic<bool> ok{false};
  std::thread clients([this, &ok] {
    QmpClient first(path_);
    QmpClient second(path_);
    if (!first.connected() || !second.connected())
      return machine_->loop().post([this] { machine_->control().quit(); });
    const bool greeted =
        first.line().starts_with(R"({"QMP": )") && second.line().starts_with(R"({"QMP": )");
    first.send(R"({"execute": "qmp_capabilities"})");
    const bool first_ok = first.reply() == R"({"return": {}})";
    // The second client has not negotiated: commands are refused for it only.
    second.send(R"({"execute": "cont", "id": "early"})");
    const bool refused = second.reply().find("CommandNotFound") != std::string::npos;
    first.send(R"({"execute": "cont", "id": 1})");
    const bool resumed = first.line().find(R"("event": "RESUME")") != std::string::npos &&
                         first.line() == R"({"return": {}, "id": 1})";
    second.send(R"({"execute": "qmp_capabilities"})");
    const bool second_ok = second.line() == R"({"return": {}})";  // no RESUME before it
    second.send(R"({"execute": "stop", "id": 2})");
    const bool both_see_stop = second.line().find(R"("event": "STOP")") != std::string::npos &&
                               second.line() == R"({"return": {}, "id": 2})" &&
                               first.line().find(R"("event": "STOP")") != std::string::npos;
    ok = greeted && first_ok && refused && resumed && second_ok && both_see_stop;
    first.send(R"({"execute": "quit"})");
    first.reply();
  });
  EXPECT_EQ(run_with_limit(), 0);
  clients.join();
  EXPECT_TRUE(ok);
}

TEST_F(QmpServerTest, AClientThatNeverReadsIsDroppedAndTheOthersGoOn) {
  QmpTransportLimits limits;
  limits.max_output = 16 * 1024;
  auto server = open_server(limits);
  ASSERT_NE(server, nullptr);
  std::atomic<bool> ok{false};
  std::thread clients([this, &ok] {
    QmpClient flooder(path_);
    int small = 4096;  // a small receive buffer fills fast
    setsockopt(flooder.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    QmpClient reader(path_);
    reader.line();
    reader.send(R"({"execute": "qmp_capabilities"})");
    reader.reply();
    flooder.send(R"({"execute": "qmp_capabilities"})");
    std::string flood;
    for (int i = 0; i < 200; ++i) flood += R"({"execute": "query-machines"})";
    for (int round = 0; round < 50; ++round) flooder.send(flood);  // never reads
    // The reader still gets its answers.
    reader.send(R"({"execute": "query-name", "id": 5})");
    const bool answered = reader.reply() == R"({"return": {}, "id": 5})";
    ok = answered;
    reader.send(R"({"execute": "quit"})");
    reader.reply();
  });
  EXPECT_EQ(run_with_limit(), 0);
  clients.join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(server->dropped_clients(), 1u);
}

TEST_F(QmpServerTest, AClientLeavingMidRequestAndTooManyClientsLeaveTheServerServing) {
  QmpTransportLimits limits;
  limits.max_clients = 2;
  auto server = open_server(limits);
  ASSERT_NE(server, nullptr);
  std::atomic<bool> ok{false};
  std::thread clients([this, &ok] {
    {
      QmpClient leaver(path_);
      leaver.line();
      leaver.send(R"({"execute": "qmp_capabilities"}{"execute": "query-sta)");  // half a request
      leaver.leave();  // the server counts it no more
    }
    QmpClient first(path_);
    QmpClient second(path_);
    const bool greeted =
        first.line().starts_with(R"({"QMP")") && second.line().starts_with(R"({"QMP")");
    QmpClient third(path_);  // over the limit: closed at once
    const bool refused = third.line().empty();
    first.send(R"({"execute": "qmp_capabilities"}{"execute": "query-status", "id": 1})");
    first.reply();
    const bool served = first.reply().find(R"("id": 1)") != std::string::npos;
    ok = greeted && refused && served;
    first.send(R"({"execute": "quit"})");
    first.reply();
  });
  EXPECT_EQ(run_with_limit(), 0);
  clients.join();
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace cr16::system::monitor
