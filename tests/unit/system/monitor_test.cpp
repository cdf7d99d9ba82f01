// The human monitor: the command table (typed handlers, values out), the
// HMP line parser and formatters against a real machine, and an
// interactive session on a fake terminal (banner, echo, prompt, editing,
// the mux focus).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "hw/virt_map.h"
#include "machine_test_helpers.h"
#include "system/monitor/commands.h"
#include "system/monitor/hmp.h"

namespace cr16::system::monitor {
namespace {

using cr16::system::test::kCounterProgram;
using cr16::system::test::MachineFixture;

TEST(CommandTable, NamesAreUniqueAndEveryCommandIsReachable) {
  std::set<std::string> names, hmp_names;
  for (const Command& command : commands()) {
    EXPECT_TRUE(names.insert(command.name).second) << command.name;
    if (command.hmp_name) {
      EXPECT_TRUE(hmp_names.insert(command.hmp_name).second);
    }
    EXPECT_TRUE(command.hmp_name != nullptr || command.qmp) << command.name;
    EXPECT_NE(command.handler, nullptr);
    EXPECT_NE(std::string(command.help), "");
  }
  for (const char* name : {"help", "info status", "info registers", "info version", "stop", "cont",
                           "system_reset", "system_powerdown", "quit", "x", "xp"}) {
    EXPECT_TRUE(hmp_names.count(name)) << name;
  }
  // What QMP will serve from the same table.
  for (const char* name : {"query-status", "query-version", "stop", "cont", "system_reset",
                           "system_powerdown", "quit"}) {
    const Command* command = find_command(name);
    ASSERT_NE(command, nullptr) << name;
    EXPECT_TRUE(command->qmp);
  }
  EXPECT_EQ(find_command("nonsense"), nullptr);
}

TEST(CommandTable, ArgumentsAreValidatedAgainstTheParameters) {
  const Command& x = *find_command("x");
  Value good = Value::dict();
  good.set("address", Value::integer(0x1000)).set("count", Value::integer(4));
  EXPECT_TRUE(validate_arguments(x, good).ok());
  EXPECT_EQ(validate_arguments(x, Value::dict()).message(), "x: missing argument 'address'");
  Value wrong_type = Value::dict();
  wrong_type.set("address", Value::string("0x1000"));
  EXPECT_EQ(validate_arguments(x, wrong_type).message(),
            "x: argument 'address' must be an integer");
  Value unknown = Value::dict();
  unknown.set("address", Value::integer(0)).set("colour", Value::string("red"));
  EXPECT_EQ(validate_arguments(x, unknown).message(), "x: unknown argument 'colour'");
  EXPECT_TRUE(validate_arguments(*find_command("stop"), Value::dict()).ok());
  Value extra = Value::dict();
  extra.set("force", Value::boolean(true));
  EXPECT_FALSE(validate_arguments(*find_command("stop"), extra).ok());
  EXPECT_FALSE(validate_arguments(*find_command("stop"), Value::list()).ok());
}

class MonitorTest : public MachineFixture {
 protected:
  void SetUp() override {
    MachineFixture::SetUp();
    make(kCounterProgram, {"-S"});
  }
  MachineControl& control() { return machine_->control(); }
  std::string hmp(std::string_view line) { return execute_hmp_line(line, control()); }
};

TEST_F(MonitorTest, QueryStatusIsAValueAndInfoStatusItsText) {
  CommandContext context{control()};
  Expected<Value> status = find_command("query-status")->handler(context, Value::dict());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->string_or("status", ""), "prelaunch");
  EXPECT_FALSE(status->bool_or("running", true));
  EXPECT_EQ(hmp("info status"), "VM status: paused (prelaunch)\n");
  EXPECT_EQ(hmp("cont"), "");
  EXPECT_EQ(hmp("info status"), "VM status: running\n");
  EXPECT_EQ(hmp("stop"), "");
  EXPECT_EQ(hmp("info status"), "VM status: paused\n");
  EXPECT_EQ(control().run_state(), RunState::kPaused);
}

TEST_F(MonitorTest, InfoVersionAndQueryVersion) {
  CommandContext context{control()};
  Expected<Value> version = find_command("query-version")->handler(context, Value::dict());
  ASSERT_TRUE(version);
  const Value* numbers = version->find("qemu");
  ASSERT_NE(numbers, nullptr);
  VersionNumbers expected = emulator_version();
  EXPECT_EQ(numbers->int_or("major", -1), expected.major);
  EXPECT_EQ(numbers->int_or("minor", -1), expected.minor);
  EXPECT_EQ(hmp("info version"), std::to_string(expected.major) + "." +
                                     std::to_string(expected.minor) + "." +
                                     std::to_string(expected.micro) + " (cr16-system)\n");
}

TEST_F(MonitorTest, InfoRegistersComesFromTheCpuDescription) {
  ASSERT_TRUE(control().write_register("r4", 0xbeef).ok());
  ASSERT_TRUE(control().write_register("pc", 0x1234).ok());
  std::string text = hmp("info registers");
  EXPECT_NE(text.find("r0="), std::string::npos);
  EXPECT_NE(text.find("r4=beef"), std::string::npos);
  EXPECT_NE(text.find("pc=001234"), std::string::npos);
  EXPECT_NE(text.find("psr="), std::string::npos);
  EXPECT_NE(text.find("intbase="), std::string::npos);
}

TEST_F(MonitorTest, MemoryDumpsInEveryFormat) {
  EXPECT_EQ(hmp("x/6xb 0"), "00000000: 0x04 0x5a 0x14 0x32 0xef 0x1f\n");
  EXPECT_EQ(hmp("x /3xh 0"), "00000000: 0x5a04 0x3214 0x1fef\n");
  EXPECT_EQ(hmp("x 0"), "00000000: 0x32145a04\n");  // default: one word
  EXPECT_EQ(hmp("xp/2ub 0"), "00000000: 4 90\n");
  EXPECT_EQ(hmp("x/1dh 4"), "00000004: 8175\n");
  EXPECT_EQ(hmp("x/1db 4"), "00000004: -17\n");
  EXPECT_EQ(hmp("x/1ob 1"), "00000001: 0132\n");
  EXPECT_EQ(hmp("x/2cb 0"), "00000000: '\\x04' 'Z'\n");
  EXPECT_EQ(hmp("x/1xg 0"), "00000000: 0x00001fef32145a04\n");
  std::string lines = hmp("x/20xb 0x1000");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);  // 16 bytes a line
  EXPECT_NE(lines.find("00001010:"), std::string::npos);
  std::string code = hmp("x/3i 0");
  EXPECT_NE(code.find("00000000: movw $0x0:s,r4"), std::string::npos);
  EXPECT_NE(code.find("00000002: addw $0x1:s,r4"), std::string::npos);
  EXPECT_NE(code.find("00000004: br"), std::string::npos);
  EXPECT_EQ(hmp("x/1xb $pc+2"), "00000002: 0x14\n");
}

TEST_F(MonitorTest, MemoryDumpsPeekDevicesAndRefuseHoles) {
  EXPECT_EQ(hmp("x/1xw 0xff0000"), "00ff0000: 0x56495254\n");  // SYS_BOARD_ID, "VIRT"
  std::string text = hmp("x/1xb 0xf00000");                    // the unmapped gap
  EXPECT_EQ(text.rfind("Error: ", 0), 0u);
  EXPECT_NE(text.find("f00000"), std::string::npos);
  EXPECT_EQ(hmp("x/1xb 0x1000000").rfind("Error: ", 0), 0u);
  EXPECT_EQ(hmp("x/1xw 0xfffffe").rfind("Error: ", 0), 0u);  // runs past 24 bits
}

TEST_F(MonitorTest, EveryParsedLineValidates) {
  for (const char* line : {"help", "help info status", "info status", "x/4xb 0x10", "xp 0",
                           "x/2i $pc", "stop", "quit"}) {
    Expected<ParsedLine> parsed = parse_hmp_line(line, control());
    ASSERT_TRUE(parsed) << line;
    EXPECT_TRUE(validate_arguments(*parsed->command, parsed->arguments).ok()) << line;
  }
}

TEST_F(MonitorTest, BadLinesGetOneLineErrors) {
  EXPECT_EQ(hmp("frobnicate"), "unknown command: 'frobnicate' (try 'help')\n");
  EXPECT_EQ(hmp("info frob"), "unknown info command: 'frob' (try 'info')\n");
  EXPECT_EQ(hmp("x"), "x: missing argument 'address'\n");
  EXPECT_EQ(hmp("x/4q 0"), "x: invalid format letter 'q' in '/4q'\n");
  EXPECT_EQ(hmp("x zzz"), "x: address: unexpected 'z' in 'zzz'\n");
  EXPECT_EQ(hmp("x $nosuch"), "x: address: unknown register 'nosuch'\n");
  EXPECT_EQ(hmp("stop now"), "stop: too many arguments ('now' and after)\n");
  EXPECT_EQ(hmp("x/0x 0"), "Error: count must be between 1 and 4096\n");
  EXPECT_EQ(hmp("x 99999999999999999999"),
            "x: address: number too large: '99999999999999999999'\n");
  EXPECT_EQ(hmp(""), "");
  EXPECT_EQ(hmp("   "), "");
}

TEST_F(MonitorTest, HelpListsTheCommandsAndInfoListsTheInfoCommands) {
  std::string help = hmp("help");
  EXPECT_NE(help.find("info status -- "), std::string::npos);
  EXPECT_NE(help.find("x /fmt addr -- "), std::string::npos);
  EXPECT_NE(help.find("quit -- "), std::string::npos);
  std::string info = hmp("info");
  EXPECT_NE(info.find("info registers"), std::string::npos);
  EXPECT_EQ(info.find("system_reset"), std::string::npos);
  EXPECT_EQ(hmp("help stop"), "stop -- stop the VM\n");
  EXPECT_EQ(hmp("help nope"), "Error: unknown command: 'nope'\n");
}

TEST_F(MonitorTest, QuitAndResetGoThroughMachineControl) {
  std::vector<MachineEvent> events;
  control().add_event_listener([&](const MachineEvent& event) { events.push_back(event); });
  EXPECT_EQ(hmp("system_reset"), "");
  EXPECT_EQ(hmp("system_powerdown"), "");
  EXPECT_EQ(hmp("quit"), "");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, MachineEvent::Kind::kReset);
  EXPECT_EQ(events[1].kind, MachineEvent::Kind::kPowerdown);
  EXPECT_EQ(events[2].kind, MachineEvent::Kind::kShutdown);
  EXPECT_EQ(machine_->run(), 0);  // quit was asked for: run() ends at once
}

// A terminal the test types into.
class FakeTerminal : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override {
    output.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return bytes.size();
  }
  void attach(CharFrontend* frontend_in) override { frontend = frontend_in; }
  void frontend_ready() override {}
  void type(const std::string& text) {
    frontend->receive(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  std::string take() { return std::exchange(output, std::string()); }
  std::string output;
  CharFrontend* frontend = nullptr;
};

TEST_F(MonitorTest, SessionPrintsTheBannerWhenOpenedEchoesAndRunsLines) {
  FakeTerminal terminal;
  HmpSession session(control(), terminal);
  EXPECT_EQ(terminal.take(), "");  // nobody there yet
  session.char_event(CharEvent::kOpened);
  EXPECT_EQ(terminal.take(), "cr16-system " + std::to_string(emulator_version().major) + "." +
                                 std::to_string(emulator_version().minor) + "." +
                                 std::to_string(emulator_version().micro) +
                                 " monitor - type 'help' for more information\r\n(cr16) ");
  terminal.type("info sx\x7ftatus\r\n");
  EXPECT_EQ(terminal.take(), "info sx\b \btatus\r\nVM status: paused (prelaunch)\r\n(cr16) ");
  terminal.type("\x1b[5~stop\n");  // a key the editor does not use is ignored; \n ends a line
  EXPECT_EQ(terminal.take(), "stop\r\n(cr16) ");
  terminal.type(std::string(HmpSession::kMaxLine + 10, 'a') + "\r");
  EXPECT_NE(terminal.take().find("line too long"), std::string::npos);
}

TEST_F(MonitorTest, SessionBehindAMuxWaitsForTheFocus) {
  FakeTerminal terminal;
  HmpSession session(control(), terminal);
  session.char_event(CharEvent::kFocusOut);
  session.char_event(CharEvent::kOpened);
  EXPECT_EQ(terminal.take(), "");  // the serial console has the terminal
  session.char_event(CharEvent::kFocusIn);
  std::string shown = terminal.take();
  EXPECT_NE(shown.find("monitor - type 'help'"), std::string::npos);
  EXPECT_TRUE(shown.ends_with("(cr16) "));
  session.char_event(CharEvent::kFocusOut);
  session.char_event(CharEvent::kFocusIn);
  EXPECT_EQ(terminal.take(), "\r\n(cr16) ");  // the banner only once
}

TEST(Value, BuildsAndReadsDictionariesAndLists) {
  Value dict = Value::dict();
  dict.set("a", Value::integer(1)).set("b", Value::string("x")).set("a", Value::integer(2));
  EXPECT_EQ(dict.as_dict().size(), 2u);
  EXPECT_EQ(dict.int_or("a", 0), 2);
  EXPECT_EQ(dict.string_or("b", ""), "x");
  EXPECT_EQ(dict.string_or("a", "fallback"), "fallback");  // wrong type: the fallback
  EXPECT_EQ(dict.find("zz"), nullptr);
  Value list = Value::list();
  list.push(Value::boolean(true)).push(Value());
  EXPECT_EQ(list.as_list().size(), 2u);
  EXPECT_TRUE(list.as_list()[1].is_null());
  EXPECT_EQ(list.find("a"), nullptr);
  EXPECT_EQ(Value::integer(3), Value::integer(3));
  EXPECT_FALSE(Value::integer(3) == Value::string("3"));
}

}  // namespace
}  // namespace cr16::system::monitor
