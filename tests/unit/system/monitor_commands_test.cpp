// The commands of the control-plane issue on a real machine, through HMP
// lines and their handlers: print and its expressions, memsave/pmemsave,
// inject-nmi, the query-* commands and info mtree/qtree/irq/cpus/chardev.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>

#include "hw/virt_map.h"
#include "machine_test_helpers.h"
#include "system/monitor/commands.h"
#include "system/monitor/hmp.h"
#include "system/monitor/hmp_expression.h"

namespace cr16::system::monitor {
namespace {

using cr16::system::test::kCounterProgram;
using cr16::system::test::MachineFixture;

class CommandsTest : public MachineFixture {
 protected:
  void SetUp() override {
    MachineFixture::SetUp();
    make(kCounterProgram, {"-S", "-name", "guest=box,process=cr16-box"});
  }
  MachineControl& control() { return machine_->control(); }
  std::string hmp(std::string_view line) { return execute_hmp_line(line, control()); }
  Expected<Value> call(const char* name, Value arguments = Value::dict()) {
    const Command* command = find_command(name);
    EXPECT_NE(command, nullptr) << name;
    if (Error error = validate_arguments(*command, arguments, ArgumentErrors::kQmp); !error.ok()) {
      return error;
    }
    CommandContext context{control()};
    return command->handler(context, arguments);
  }
  std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(CommandsTest, ExpressionsFollowQemusPrecedence) {
  auto eval = [this](std::string_view text) -> int64_t {
    Expected<int64_t> value = evaluate_hmp_expression(text, control());
    EXPECT_TRUE(value) << text << ": " << value.error().message();
    return value ? *value : -12345;
  };
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1+2)*3"), 9);
  EXPECT_EQ(eval("5 & 3 | 8 ^ 1"), 8);  // & | ^ share one level, left to right
  EXPECT_EQ(eval("7 / 2"), 3);
  EXPECT_EQ(eval("-7 / 2"), -3);
  EXPECT_EQ(eval("7 % 3"), 1);
  EXPECT_EQ(eval("~0"), -1);
  EXPECT_EQ(eval("-(-5)"), 5);
  EXPECT_EQ(eval("0x10 + 010 + 10"), 34);  // hex, octal, decimal
  EXPECT_EQ(eval("$pc"), 0);               // the counter program starts at 0
  EXPECT_EQ(eval("$r4 + 1"), 1);
  EXPECT_EQ(eval("(-9223372036854775807 - 1) / -1"), INT64_MIN);  // wraps, no trap
  for (auto [text, message] : std::initializer_list<std::pair<const char*, const char*>>{
           {"1 / 0", "division by zero"},
           {"1 % 0", "division by zero"},
           {"$nope", "unknown register 'nope'"},
           {"$", "missing register name after '$'"},
           {"(1 + 2", "missing ')' in '(1 + 2'"},
           {"1 2", "unexpected '2' in '1 2'"},
           {"0xg", "bad number '0xg'"},
           {"1 +", "unexpected end of '1 +'"},
           {"", "missing expression"},
       }) {
    Expected<int64_t> value = evaluate_hmp_expression(text, control());
    ASSERT_FALSE(value) << text;
    EXPECT_EQ(value.error().message(), message) << text;
  }
  EXPECT_EQ(evaluate_hmp_expression(std::string(1000, '(') + "1", control()).error().message(),
            "expression too deep");
}

TEST_F(CommandsTest, PrintShowsAValueInEachFormat) {
  EXPECT_EQ(hmp("print 10"), "0xa\n");
  EXPECT_EQ(hmp("print 1 + 2 * 3"), "0x7\n");
  EXPECT_EQ(hmp("print/d 0xff"), "255\n");
  EXPECT_EQ(hmp("p/u -1"), "18446744073709551615\n");
  EXPECT_EQ(hmp("p/d -5"), "-5\n");
  EXPECT_EQ(hmp("p/o 8"), "010\n");
  EXPECT_EQ(hmp("p/c 65"), "'A'\n");
  EXPECT_EQ(hmp("print/x -1"), "0xffffffffffffffff\n");
  EXPECT_EQ(hmp("print $pc + 4"), "0x4\n");
  EXPECT_EQ(hmp("print/i 1"), "Error: invalid format 'i' for print (x, d, u, o or c)\n");
  EXPECT_EQ(hmp("print 1/0"), "print: expression: division by zero\n");
  EXPECT_EQ(hmp("print"), "print: missing argument 'expression'\n");
}

TEST_F(CommandsTest, MemsaveWritesGuestMemoryAndRefusesBadRanges) {
  const std::string path = dir_ + "/dump.bin";
  EXPECT_EQ(hmp("memsave 0 6 " + path), "");
  EXPECT_EQ(read_file(path), std::string(kCounterProgram.begin(), kCounterProgram.end()));
  // pmemsave over QMP's argument names, device registers peeked (SYS_BOARD_ID reads "VIRT").
  ASSERT_TRUE(call("pmemsave", Value::dict()
                                   .set("val", Value::integer(virt::kSysctlBase))
                                   .set("size", Value::integer(4))
                                   .set("filename", Value::string(path))));
  EXPECT_EQ(read_file(path), "TRIV");  // little-endian 0x56495254
  auto error = [this, &path](int64_t val, int64_t size, std::string file = "") {
    Expected<Value> result =
        call("memsave", Value::dict()
                            .set("val", Value::integer(val))
                            .set("size", Value::integer(size))
                            .set("filename", Value::string(file.empty() ? path : file)));
    return result ? std::string("no error") : result.error().message();
  };
  EXPECT_EQ(error(-1, 16), "address -1 is outside the 24-bit address space");
  EXPECT_EQ(error(0xFFFFF0, 32), "size 32 at 0xfffff0 runs past the 24-bit address space");
  EXPECT_EQ(error(0, -1), "size -1 at 0x000000 runs past the 24-bit address space");
  const std::string hole = dir_ + "/hole.bin";
  EXPECT_NE(error(0xF00000, 16, hole).find("0xf00000"), std::string::npos);
  struct stat info;
  EXPECT_NE(stat(hole.c_str(), &info), 0);  // nothing was written for a hole
  EXPECT_EQ(error(0, 16, dir_ + "/no/such/dir"),
            "Could not open '" + dir_ + "/no/such/dir': No such file or directory");
  // A FIFO with no reader fails at once instead of blocking the machine.
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error(0, 16, fifo), "Could not open '" + fifo + "': No such device or address");
  Expected<Value> cpu = call("memsave", Value::dict()
                                            .set("val", Value::integer(0))
                                            .set("size", Value::integer(1))
                                            .set("filename", Value::string(path))
                                            .set("cpu-index", Value::integer(3)));
  EXPECT_EQ(cpu.error().message(), "cpu-index 3 does not exist (this machine has CPU 0 only)");
}

TEST_F(CommandsTest, InjectNmiReachesTheCpu) {
  // A stack and a dispatch table in RAM (entry 1, the NMI, is 0: the handler
  // is the program's start).
  ASSERT_TRUE(control().write_register("isp", 0x1000).ok());
  ASSERT_TRUE(control().write_register("intbase", 0x800).ok());
  ASSERT_TRUE(control().step(10).ok());
  EXPECT_EQ(*control().read_register("events_pending") & 1, 0u);
  EXPECT_EQ(hmp("nmi"), "");
  EXPECT_EQ(*control().read_register("events_pending") & 1, 1u);  // latched while stopped
  ASSERT_TRUE(control().step(1).ok());
  EXPECT_EQ(*control().read_register("events_pending") & 1, 0u);  // taken
  EXPECT_LT(*control().read_register("isp"), 0x1000u);            // its frame pushed
  Expected<Value> bad = call("inject-nmi", Value::dict().set("cpu-index", Value::integer(1)));
  EXPECT_FALSE(bad);
  ASSERT_TRUE(call("inject-nmi"));
  EXPECT_EQ(*control().read_register("events_pending") & 1, 1u);
}

TEST_F(CommandsTest, QueriesDescribeTheMachine) {
  EXPECT_EQ(call("query-name")->string_or("name", ""), "box");
  EXPECT_EQ(hmp("info name"), "box\n");
  EXPECT_EQ(call("query-target")->string_or("arch", ""), "cr16");
  Value machines = *call("query-machines");
  ASSERT_FALSE(machines.as_list().empty());
  EXPECT_EQ(machines.as_list()[0].string_or("name", ""), "virt");
  EXPECT_TRUE(machines.as_list()[0].bool_or("is-default", false));
  EXPECT_EQ(machines.as_list()[0].int_or("cpu-max", 0), 1);
  Value cpus = *call("query-cpus-fast");
  ASSERT_EQ(cpus.as_list().size(), 1u);
  EXPECT_EQ(cpus.as_list()[0].int_or("cpu-index", -1), 0);
  EXPECT_GT(cpus.as_list()[0].int_or("thread-id", 0), 0);
  EXPECT_EQ(cpus.as_list()[0].string_or("target", ""), "cr16");
  EXPECT_EQ(hmp("info cpus"), "* CPU #0: thread_id=" +
                                  std::to_string(cpus.as_list()[0].int_or("thread-id", 0)) + "\n");
  Value events = *call("query-events");
  bool has_stop = false;
  for (const Value& event : events.as_list()) has_stop |= event.string_or("name", "") == "STOP";
  EXPECT_TRUE(has_stop);
}

TEST_F(CommandsTest, QueryChardevListsTheBackends) {
  machine_.reset();
  const std::string socket_path = dir_ + "/m.sock";
  make(kCounterProgram,
       {"-S", "-chardev", "socket,id=mon0,path=" + socket_path + ",server=on,wait=off", "-mon",
        "chardev=mon0", "-chardev", "null,id=spare"});
  Value list = *call("query-chardev");
  std::vector<std::string> rows;
  for (const Value& device : list.as_list()) {
    rows.push_back(device.string_or("label", "") + " " + device.string_or("filename", "") + " " +
                   (device.bool_or("frontend-open", false) ? "open" : "closed"));
  }
  EXPECT_EQ(rows,
            (std::vector<std::string>{"mon0 disconnected:unix:" + socket_path + ",server=on open",
                                      "spare null closed", "serial1 null open"}));
  EXPECT_EQ(hmp("info chardev"), "mon0: filename=disconnected:unix:" + socket_path +
                                     ",server=on\nspare: filename=null\nserial1: filename=null\n");
}

TEST_F(CommandsTest, InfoMtreeQtreeAndIrqShowTheBoard) {
  const std::string mtree = hmp("info mtree");
  EXPECT_NE(mtree.find("000000-1fffff (prio 0, ram): ram\n"), std::string::npos) << mtree;
  EXPECT_NE(mtree.find("e00000-efffff (prio 0, romd): flash\n"), std::string::npos) << mtree;
  EXPECT_NE(mtree.find("(prio 0, i/o): uart0\n"), std::string::npos) << mtree;
  const std::string qtree = hmp("info qtree");
  EXPECT_NE(qtree.find("dev: uart, id \"uart0\"\n    mmio ff0100/000100\n"), std::string::npos)
      << qtree;
  EXPECT_NE(qtree.find("state cpu.0 (version "), std::string::npos) << qtree;
  EXPECT_NE(qtree.find("pc=0x0"), std::string::npos) << qtree;
  // info irq: an enabled line shows up once the guest's ICU_ENABLE says so.
  EXPECT_NE(hmp("info irq").find("(none)"), std::string::npos);
  EXPECT_EQ(hmp("info irq").find("irq  3:"), std::string::npos);
}

TEST_F(CommandsTest, QueryAcceleratorsAndInfoJitNameTheEngine) {
  // The default engine: the JIT where there is one (x86-64), else interp.
  const std::string engine = engine_kind_name(default_engine_kind());
  Value accelerators = *call("query-accelerators");
  EXPECT_EQ(accelerators.string_or("enabled", ""), engine);
  const Value* present = accelerators.find("present");
  ASSERT_NE(present, nullptr);
  ASSERT_FALSE(present->as_list().empty());
  EXPECT_EQ(present->as_list()[0].as_string(), "interp");
  EXPECT_EQ(present->as_list().size(), engine_available(EngineKind::kJit) ? 2u : 1u);
  const std::string info = hmp("info jit");
  EXPECT_NE(info.find("engine: " + engine + "\n"), std::string::npos) << info;
  if (default_engine_kind() == EngineKind::kInterpreter) {
    EXPECT_NE(info.find("code cache: 0 of 0 bytes used\n"), std::string::npos) << info;
  } else {
    EXPECT_NE(info.find("code cache: 0 of "), std::string::npos) << info;
  }
  EXPECT_NE(info.find("blocks translated: 0\n"), std::string::npos) << info;
  EXPECT_NE(info.find("flushes: 0\n"), std::string::npos) << info;
}

class JitCommandsTest : public CommandsTest {
 protected:
  void SetUp() override {
    MachineFixture::SetUp();
    if (!engine_available(EngineKind::kJit)) GTEST_SKIP() << "no JIT in this build";
    make(kCounterProgram, {"-S", "-accel", "jit"});
  }
};

TEST_F(JitCommandsTest, InfoJitCountsTranslations) {
  EXPECT_EQ(call("query-accelerators")->string_or("enabled", ""), "jit");
  ASSERT_TRUE(control().step(200).ok());
  Value info = *call("info jit");
  EXPECT_EQ(info.string_or("engine", ""), "jit");
  EXPECT_GT(info.int_or("translations", 0), 0);
  EXPECT_GT(info.int_or("code-cache-used", 0), 0);
  EXPECT_GT(info.int_or("code-cache-size", 0), info.int_or("code-cache-used", 0));
  const std::string text = hmp("info jit");
  EXPECT_NE(text.find("engine: jit\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace cr16::system::monitor
