#include "system/options.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace cr16::system {
namespace {

Expected<Options> parse(std::initializer_list<std::string_view> args) {
  return parse_options(std::span<const std::string_view>(args.begin(), args.size()));
}

std::string error_of(std::initializer_list<std::string_view> args) {
  Expected<Options> result = parse(args);
  EXPECT_FALSE(result.has_value());
  return result ? std::string() : result.error().message();
}

TEST(Options, DefaultsWithNoArguments) {
  Expected<Options> options = parse({});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->action, Action::kRun);
  EXPECT_EQ(options->machine, "virt");  // the registry's default board
  EXPECT_TRUE(options->machine_properties.empty());
  EXPECT_EQ(options->ram_bytes, 2u << 20);        // virt's default
  EXPECT_EQ(options->cpu, CpuModel::kCr16cPlus);  // virt's default
  EXPECT_TRUE(options->serial.empty());
  EXPECT_FALSE(options->monitor.has_value());
  EXPECT_FALSE(options->start_paused);
  EXPECT_FALSE(options->nographic);
  EXPECT_EQ(options->semihosting, SemihostingMode::kAuto);
  EXPECT_EQ(options->loop, io::LoopBackend::kIoUring);
  EXPECT_FALSE(options->icount_shift.has_value());
}

TEST(Options, EveryFlagIsAccepted) {
  Expected<Options> options =
      parse({"-M",         "virt",         "-m",           "4M",           "-cpu",
             "cr16c",      "-kernel",      "prog.elf",     "-pflash",      "flash.img",
             "-serial",    "null",         "-serial",      "file:out.txt", "-nographic",
             "-no-reboot", "-no-shutdown", "-semihosting", "-d",           "int,guest_errors",
             "-D",         "log.txt",      "-L",           "dir1",         "-L",
             "dir2",       "-loop",        "epoll",        "-icount",      "3"});
  ASSERT_TRUE(options) << options.error().message();
  EXPECT_EQ(options->ram_bytes, 4u << 20);
  EXPECT_EQ(options->cpu, CpuModel::kCr16c);
  EXPECT_EQ(options->kernel_path, "prog.elf");
  EXPECT_EQ(options->pflash_path, "flash.img");
  ASSERT_EQ(options->serial.size(), 2u);
  EXPECT_EQ(options->serial[0].kind, SerialSpec::Kind::kNull);
  EXPECT_EQ(options->serial[1].kind, SerialSpec::Kind::kFile);
  EXPECT_EQ(options->serial[1].path, "out.txt");
  EXPECT_TRUE(options->nographic);
  EXPECT_TRUE(options->no_reboot);
  EXPECT_TRUE(options->no_shutdown);
  EXPECT_EQ(options->semihosting, SemihostingMode::kOn);
  EXPECT_NE(options->log_mask, 0u);
  EXPECT_EQ(options->log_file, "log.txt");
  EXPECT_EQ(options->data_dirs, (std::vector<std::string>{"dir1", "dir2"}));
  EXPECT_EQ(options->loop, io::LoopBackend::kEpoll);
  EXPECT_EQ(options->icount_shift, 3u);
}

TEST(Options, BiosAndDoubleDashSpelling) {
  Expected<Options> options = parse({"--bios", "fw.bin", "--machine", "virt"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->bios_path, "fw.bin");
}

TEST(Options, HelpVersionAndListings) {
  EXPECT_EQ(parse({"-h"})->action, Action::kHelp);
  EXPECT_EQ(parse({"-help"})->action, Action::kHelp);
  EXPECT_EQ(parse({"-version"})->action, Action::kVersion);
  EXPECT_EQ(parse({"-M", "help"})->action, Action::kMachineHelp);
  EXPECT_EQ(parse({"-cpu", "help"})->action, Action::kCpuHelp);
  EXPECT_EQ(parse({"-d", "help"})->action, Action::kLogHelp);
  EXPECT_NE(usage_text().find("-serial"), std::string::npos);
  EXPECT_NE(version_text().find("cr16-system version"), std::string::npos);
  EXPECT_NE(machine_help_text().find("virt"), std::string::npos);
  EXPECT_NE(cpu_help_text().find("cr16cplus"), std::string::npos);
}

TEST(Options, CpuModels) {
  EXPECT_EQ(parse({"-cpu", "cr16cplus"})->cpu, CpuModel::kCr16cPlus);
  EXPECT_EQ(parse({"-cpu", "cr16c"})->cpu, CpuModel::kCr16c);
  EXPECT_EQ(parse({"-cpu", "cr16c+"})->cpu, CpuModel::kCr16cPlus);
}

TEST(Options, RamSizes) {
  EXPECT_EQ(*parse_ram_size("2M"), 2u << 20);
  EXPECT_EQ(*parse_ram_size("4096K"), 4u << 20);
  EXPECT_EQ(*parse_ram_size("4096k"), 4u << 20);
  EXPECT_EQ(*parse_ram_size("3"), 3u << 20);  // bare number: MiB
  EXPECT_EQ(*parse_ram_size("size=14M"), 14u << 20);
  EXPECT_EQ(*parse_ram_size("65536B"), 65536u);
  EXPECT_EQ(*parse_ram_size("8K"), 8u << 10);  // the board's limits are checked later
}

TEST(Options, RamSizeErrors) {
  EXPECT_NE(error_of({"-m", "15M"}).find("between"), std::string::npos);
  EXPECT_NE(error_of({"-m", "1G"}).find("-m"), std::string::npos);
  EXPECT_NE(error_of({"-m", "0"}).find("-m"), std::string::npos);
  EXPECT_NE(error_of({"-m", "lots"}).find("bad size 'lots'"), std::string::npos);
  EXPECT_NE(error_of({"-m", "5000B"}).find("multiple of 4K"), std::string::npos);
  EXPECT_NE(error_of({"-m", ""}).find("-m"), std::string::npos);
  EXPECT_NE(error_of({"-m", "99999999999999999999M"}).find("-m"), std::string::npos);
  EXPECT_NE(error_of({"-m", "2000000G"}).find("too large"), std::string::npos);
}

TEST(Options, RamBelowTheBoardMinimumIsRefusedWithTheLimits) {
  EXPECT_EQ(error_of({"-m", "8K"}),
            "-m 8K: RAM size must be a multiple of 4K between 64K and 14M on the virt board");
  // -M after -m: the board's limits still apply.
  EXPECT_EQ(error_of({"-m", "8K", "-M", "virt"}),
            "-m 8K: RAM size must be a multiple of 4K between 64K and 14M on the virt board");
  EXPECT_EQ(parse({"-m", "64K"})->ram_bytes, 64u << 10);
}

TEST(Options, MachinePropertiesAreCheckedAgainstTheBoard) {
  EXPECT_EQ(error_of({"-M", "virt,foo=bar"}),
            "-M virt,foo=bar: the virt board has no property 'foo' (known: rtc-base)");
  Expected<Options> options = parse({"-M", "virt,rtc-base=86400"});
  ASSERT_TRUE(options) << options.error().message();
  EXPECT_EQ(options->machine_properties.at("rtc-base"), "86400");
  EXPECT_NE(error_of({"-M", "virt,rtc-base=soon"}).find("rtc-base"), std::string::npos);
  EXPECT_NE(error_of({"-M", "virt,rtc-base=1,rtc-base=2"}).find("given twice"), std::string::npos);
  EXPECT_EQ(parse({"-machine", "type=virt"})->machine, "virt");
  EXPECT_EQ(parse({"-M", "virt,help"})->action, Action::kMachinePropertyHelp);
  EXPECT_NE(machine_help_text(*parse({"-M", "virt,help"})).find("rtc-base"), std::string::npos);
}

TEST(Options, StartPausedAndMonitor) {
  EXPECT_TRUE(parse({"-S"})->start_paused);
  Expected<Options> socket = parse({"-monitor", "unix:/tmp/m.sock,server=on,wait=off"});
  ASSERT_TRUE(socket) << socket.error().message();
  ASSERT_TRUE(socket->monitor.has_value());
  EXPECT_EQ(socket->monitor->kind, SerialSpec::Kind::kUnix);
  EXPECT_FALSE(socket->monitor->wait);
  EXPECT_EQ(parse({"-monitor", "none"})->monitor->kind, SerialSpec::Kind::kNone);
  EXPECT_EQ(parse({"-monitor", "tcp:127.0.0.1:0,server=on,wait=off"})->monitor->kind,
            SerialSpec::Kind::kTcp);
  EXPECT_NE(error_of({"-monitor", "mon:stdio"}).find("not a monitor backend"), std::string::npos);
  EXPECT_NE(error_of({"-monitor", "vc"}).find("-monitor"), std::string::npos);
  EXPECT_NE(error_of({"-monitor", "none", "-monitor", "stdio"}).find("only one"),
            std::string::npos);
  EXPECT_EQ(error_of({"-serial", "stdio", "-monitor", "stdio"}),
            "-monitor stdio: stdio is already used by -serial stdio (use -serial mon:stdio to "
            "share it)");
}

TEST(ConsolePlan, DefaultSharesStdioBetweenSerialAndMonitor) {
  ConsolePlan plan = plan_consoles(*parse({}), 2, false);
  ASSERT_EQ(plan.serial.size(), 2u);
  EXPECT_EQ(plan.serial[0].kind, SerialSpec::Kind::kStdio);
  EXPECT_TRUE(plan.serial[0].mux_monitor);
  EXPECT_EQ(plan.serial[1].kind, SerialSpec::Kind::kNull);
  EXPECT_FALSE(plan.monitor.has_value());
  EXPECT_TRUE(plan_consoles(*parse({"-nographic"}), 2, false).serial[0].mux_monitor);
}

TEST(ConsolePlan, MonitorElsewhereOrNone) {
  ConsolePlan none = plan_consoles(*parse({"-monitor", "none"}), 2, false);
  EXPECT_EQ(none.serial[0].kind, SerialSpec::Kind::kStdio);
  EXPECT_FALSE(none.serial[0].mux_monitor);
  EXPECT_FALSE(none.monitor.has_value());
  ConsolePlan stdio = plan_consoles(*parse({"-monitor", "stdio"}), 2, false);
  EXPECT_EQ(stdio.serial[0].kind, SerialSpec::Kind::kNull);
  ASSERT_TRUE(stdio.monitor.has_value());
  EXPECT_EQ(stdio.monitor->kind, SerialSpec::Kind::kStdio);
  ConsolePlan socket = plan_consoles(*parse({"-monitor", "unix:/tmp/m,server=on"}), 2, false);
  EXPECT_EQ(socket.serial[0].kind, SerialSpec::Kind::kStdio);
  EXPECT_FALSE(socket.serial[0].mux_monitor);
  EXPECT_EQ(socket.monitor->kind, SerialSpec::Kind::kUnix);
}

TEST(ConsolePlan, ExplicitSerialAndNographicAndSemihosting) {
  ConsolePlan file = plan_consoles(*parse({"-serial", "file:out.txt"}), 2, false);
  EXPECT_EQ(file.serial[0].kind, SerialSpec::Kind::kFile);
  EXPECT_FALSE(file.monitor.has_value());  // no default monitor without -nographic
  ConsolePlan nographic =
      plan_consoles(*parse({"-serial", "file:out.txt", "-nographic"}), 2, false);
  ASSERT_TRUE(nographic.monitor.has_value());  // stdio is free: the monitor goes there
  EXPECT_EQ(nographic.monitor->kind, SerialSpec::Kind::kStdio);
  ConsolePlan program = plan_consoles(*parse({}), 2, true);
  EXPECT_EQ(program.serial[0].kind, SerialSpec::Kind::kNull);  // stdio belongs to the program
  EXPECT_FALSE(program.monitor.has_value());
}

TEST(Options, UnknownOptionAndMissingValue) {
  EXPECT_EQ(error_of({"-frobnicate"}), "unknown option '-frobnicate' (try -h)");
  EXPECT_EQ(error_of({"-m"}), "option '-m' needs a value");
  EXPECT_EQ(error_of({"-kernel"}), "option '-kernel' needs a value");
  EXPECT_EQ(error_of({"disk.img"}), "unexpected argument 'disk.img' (try -h)");
  EXPECT_EQ(error_of({"-"}), "unexpected argument '-' (try -h)");
}

TEST(Options, UnknownMachineAndCpu) {
  EXPECT_EQ(error_of({"-M", "pc"}), "-M: unknown machine 'pc' (try -M help)");
  EXPECT_EQ(error_of({"-cpu", "cortex-m3"}),
            "-cpu: unknown CPU model 'cortex-m3' (valid: cr16c, cr16cplus)");
}

TEST(Options, BadValuesForEveryValueOption) {
  EXPECT_NE(error_of({"-d", "nonsense"}).find("nonsense"), std::string::npos);
  EXPECT_NE(error_of({"-loop", "select"}).find("-loop: unknown backend 'select'"),
            std::string::npos);
  EXPECT_NE(error_of({"-icount", "x"}).find("-icount"), std::string::npos);
  EXPECT_NE(error_of({"-icount", "17"}).find("-icount"), std::string::npos);
  EXPECT_EQ(parse({"-icount", "shift=2"})->icount_shift, 2u);
  EXPECT_NE(error_of({"-bios", ""}).find("-bios"), std::string::npos);
  EXPECT_NE(error_of({"-kernel", ""}).find("-kernel"), std::string::npos);
  EXPECT_NE(error_of({"-pflash", ""}).find("-pflash"), std::string::npos);
  EXPECT_NE(error_of({"-D", ""}).find("-D"), std::string::npos);
  EXPECT_NE(error_of({"-L", ""}).find("-L"), std::string::npos);
}

TEST(Options, OptionsThatCannotGoTogetherAreErrors) {
  EXPECT_EQ(error_of({"-bios", "a", "-kernel", "b"}), "-bios and -kernel cannot be used together");
  EXPECT_EQ(error_of({"-loadvm", "boot", "-incoming", "defer"}),
            "-loadvm and -incoming cannot be used together");
}

TEST(Options, DrivePflash) {
  EXPECT_EQ(parse({"-drive", "if=pflash,file=f.img"})->pflash_path, "f.img");
  EXPECT_EQ(parse({"-drive", "if=pflash,file=f.img,format=raw"})->pflash_path, "f.img");
  EXPECT_NE(error_of({"-drive", "if=ide,file=f.img"}).find("if=pflash and if=mtd"),
            std::string::npos);
  EXPECT_NE(error_of({"-drive", "file=f.img"}).find("if=pflash"), std::string::npos);
  EXPECT_NE(error_of({"-drive", "if=pflash"}).find("file="), std::string::npos);
  EXPECT_NE(error_of({"-drive", "if=pflash,file=a,format=qcow2"}).find("qcow2"), std::string::npos);
  EXPECT_NE(error_of({"-drive", "if=pflash,file=a,cache=none"}).find("cache"), std::string::npos);
  EXPECT_NE(error_of({"-drive", "pflash"}).find("key=value"), std::string::npos);
  EXPECT_NE(error_of({"-pflash", "a", "-drive", "if=pflash,file=b"}).find("one pflash"),
            std::string::npos);
  EXPECT_NE(error_of({"-pflash", "a", "-pflash", "b"}).find("one pflash"), std::string::npos);
}

TEST(Options, IcountTakesShiftAlignAndSleep) {
  Expected<Options> paced = parse({"-icount", "shift=6,align=on,sleep=on"});
  ASSERT_TRUE(paced.ok()) << paced.error().message();
  EXPECT_EQ(paced->icount_shift, 6u);
  EXPECT_EQ(paced->icount_align, true);
  EXPECT_EQ(parse({"-icount", "shift=4,align=off"})->icount_align, false);
  EXPECT_FALSE(parse({"-icount", "4"})->icount_align.has_value());
  EXPECT_NE(error_of({"-icount", "shift=4,sleep=off"}).find("sleep=off is not supported"),
            std::string::npos);
  EXPECT_NE(error_of({"-icount", "shift=4,align=maybe"}).find("'align'"), std::string::npos);
  EXPECT_NE(error_of({"-icount", "shift=4,speed=9"}).find("unknown parameter 'speed'"),
            std::string::npos);
  EXPECT_NE(error_of({"-icount", "sleep=on"}).find("missing shift=N"), std::string::npos);
  // virt has no paced default: align alone needs a shift.
  EXPECT_NE(error_of({"-icount", "align=on"}).find("missing shift=N"), std::string::npos);
}

TEST(Options, DriveMtdIsTheSpiFlashImage) {
  Options options;
  ASSERT_TRUE(parse_drive("if=mtd,file=spi.img,format=raw", &options).ok());
  EXPECT_EQ(options.mtd_path, "spi.img");
  EXPECT_TRUE(options.pflash_path.empty());
  EXPECT_NE(parse_drive("if=mtd,file=b.img", &options).message().find("one mtd drive"),
            std::string::npos);
  Options fresh;
  EXPECT_NE(parse_drive("if=mtd,file=a,create=on", &fresh).message().find("create=on"),
            std::string::npos);
  // The virt board's flash is parallel: an mtd image is refused by name.
  EXPECT_NE(error_of({"-drive", "if=mtd,file=spi.img"}).find("virt board has no SPI flash"),
            std::string::npos);
}

TEST(Options, DriveRejectsDuplicateKeysAndTakesCreate) {
  EXPECT_EQ(error_of({"-drive", "if=pflash,file=a,file=b"}), "-drive: 'file' given twice");
  EXPECT_EQ(error_of({"-drive", "if=pflash,if=pflash,file=a"}), "-drive: 'if' given twice");
  EXPECT_NE(error_of({"-drive", "if=pflash,file="}).find("empty file name"), std::string::npos);
  EXPECT_FALSE(parse({"-drive", "if=pflash,file=f.img"})->pflash_create);
  EXPECT_FALSE(parse({"-pflash", "f.img"})->pflash_create);
  Expected<Options> created = parse({"-drive", "if=pflash,file=f.img,create=on"});
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_TRUE(created->pflash_create);
  EXPECT_NE(error_of({"-drive", "if=pflash,file=a,create=maybe"}).find("'create'"),
            std::string::npos);
  // ",," is a comma inside a value, as in QEMU.
  EXPECT_EQ(parse({"-drive", "if=pflash,file=a,,b.img"})->pflash_path, "a,b.img");
}

TEST(Options, SemihostingConfig) {
  EXPECT_EQ(parse({"-semihosting-config", "enable=on"})->semihosting, SemihostingMode::kOn);
  EXPECT_EQ(parse({"-semihosting-config", "enable=off"})->semihosting, SemihostingMode::kOff);
  // Without enable= it enables, as QEMU's does; the last option wins.
  Expected<Options> rooted = parse({"-semihosting-config", "root=/srv/guest"});
  ASSERT_TRUE(rooted.ok());
  EXPECT_EQ(rooted->semihosting, SemihostingMode::kOn);
  EXPECT_EQ(rooted->semihosting_root, "/srv/guest");
  EXPECT_EQ(parse({"-semihosting", "-semihosting-config", "enable=off"})->semihosting,
            SemihostingMode::kOff);
  EXPECT_EQ(parse({"-semihosting-config", "enable=off", "-semihosting"})->semihosting,
            SemihostingMode::kOn);
  EXPECT_NE(error_of({"-semihosting-config", "enable=2"}).find("'enable'"), std::string::npos);
  EXPECT_NE(error_of({"-semihosting-config", "chardev=x"}).find("unknown parameter 'chardev'"),
            std::string::npos);
  EXPECT_EQ(error_of({"-semihosting-config", "enable=on,enable=off"}),
            "-semihosting-config: 'enable' given twice");
  EXPECT_NE(error_of({"-semihosting-config", "root="}).find("empty root"), std::string::npos);
  EXPECT_NE(error_of({"-semihosting-config"}).find("needs a value"), std::string::npos);
  EXPECT_NE(usage_text().find("-semihosting-config enable=on|off[,root=DIR]"), std::string::npos);
  EXPECT_NE(usage_text().find("create=on"), std::string::npos);
}

TEST(SerialSpec, SimpleKinds) {
  EXPECT_EQ(parse_serial_spec("stdio")->kind, SerialSpec::Kind::kStdio);
  EXPECT_EQ(parse_serial_spec("null")->kind, SerialSpec::Kind::kNull);
  EXPECT_EQ(parse_serial_spec("none")->kind, SerialSpec::Kind::kNone);
  EXPECT_EQ(parse_serial_spec("pty")->kind, SerialSpec::Kind::kPty);
  Expected<SerialSpec> file = parse_serial_spec("file:/tmp/x:y");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->kind, SerialSpec::Kind::kFile);
  EXPECT_EQ(file->path, "/tmp/x:y");
}

TEST(SerialSpec, TcpServerAndClient) {
  Expected<SerialSpec> server = parse_serial_spec("tcp:127.0.0.1:4444,server=on,wait=off");
  ASSERT_TRUE(server) << server.error().message();
  EXPECT_EQ(server->kind, SerialSpec::Kind::kTcp);
  EXPECT_EQ(server->host, "127.0.0.1");
  EXPECT_EQ(server->port, 4444);
  EXPECT_TRUE(server->server);
  EXPECT_FALSE(server->wait);

  Expected<SerialSpec> old_style = parse_serial_spec("tcp::5555,server,nowait");
  ASSERT_TRUE(old_style);
  EXPECT_EQ(old_style->host, "");
  EXPECT_TRUE(old_style->server);
  EXPECT_FALSE(old_style->wait);

  Expected<SerialSpec> waiting = parse_serial_spec("tcp:localhost:0,server=on");
  ASSERT_TRUE(waiting);
  EXPECT_TRUE(waiting->wait);

  Expected<SerialSpec> v6 = parse_serial_spec("tcp:[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(v6->server);
}

TEST(SerialSpec, UnbalancedBracketsAreNamedOnce) {
  for (std::string_view text : {"tcp:[::1:0,server=on", "tcp:::1]:0,server=on", "tcp:[[::1]]:80",
                                "tcp:[::1]x:80", "tcp:[]:80"}) {
    Expected<SerialSpec> spec = parse_serial_spec(text);
    ASSERT_FALSE(spec.ok()) << text;
    const std::string& message = spec.error().message();
    EXPECT_NE(message.find("-serial: bad specification '" + std::string(text) + "'"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("bracket"), std::string::npos) << message;
  }
}

TEST(SerialSpec, Unix) {
  Expected<SerialSpec> spec = parse_serial_spec("unix:/tmp/s.sock,server=on,wait=off");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, SerialSpec::Kind::kUnix);
  EXPECT_EQ(spec->path, "/tmp/s.sock");
  EXPECT_TRUE(spec->server);
  EXPECT_FALSE(spec->wait);
}

TEST(SerialSpec, Errors) {
  EXPECT_NE(parse_serial_spec("vc").error().message().find("bad specification 'vc'"),
            std::string::npos);
  EXPECT_NE(parse_serial_spec("file:").error().message().find("needs a path"), std::string::npos);
  EXPECT_NE(parse_serial_spec("unix:").error().message().find("needs a path"), std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp:host").error().message().find("tcp:HOST:PORT"),
            std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp:host:99999").error().message().find("bad port"),
            std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp:host:x").error().message().find("bad port"), std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp::4444").error().message().find("client needs"),
            std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp:h:1,server=maybe").error().message().find("bad value 'maybe'"),
            std::string::npos);
  EXPECT_NE(parse_serial_spec("tcp:h:1,telnet").error().message().find("unknown flag 'telnet'"),
            std::string::npos);
}

TEST(SerialSpec, AtMostTheBoardsPortsAndStdioOnce) {
  EXPECT_EQ(error_of({"-serial", "null", "-serial", "null", "-serial", "file:x"}),
            "-serial file:x: the virt board has only 2 serial ports");
  EXPECT_EQ(error_of({"-serial", "stdio", "-serial", "stdio"}), "-serial stdio: stdio used twice");
  EXPECT_EQ(error_of({"-serial", "mon:stdio", "-serial", "stdio"}),
            "-serial stdio: stdio used twice");
  EXPECT_NE(error_of({"-serial", "bogus"}).find("bogus"), std::string::npos);
}

TEST(SerialSpec, MonitorPrefix) {
  Expected<SerialSpec> mux = parse_serial_spec("mon:stdio");
  ASSERT_TRUE(mux);
  EXPECT_EQ(mux->kind, SerialSpec::Kind::kStdio);
  EXPECT_TRUE(mux->mux_monitor);
  EXPECT_EQ(mux->text, "mon:stdio");
  Expected<SerialSpec> socket = parse_serial_spec("mon:tcp:127.0.0.1:0,server=on,wait=off");
  ASSERT_TRUE(socket);
  EXPECT_EQ(socket->kind, SerialSpec::Kind::kTcp);
  EXPECT_TRUE(socket->mux_monitor);
  EXPECT_FALSE(parse_serial_spec("mon:none"));
  EXPECT_FALSE(parse_serial_spec("mon:mon:stdio"));
  EXPECT_FALSE(parse_serial_spec("mon:"));
  EXPECT_NE(error_of({"-serial", "mon:stdio", "-serial", "mon:pty"}).find("only one"),
            std::string::npos);
}

TEST(Options, AccelChoosesTheExecutionEngine) {
  EXPECT_EQ(parse({})->accel, default_engine_kind());
  EXPECT_EQ(default_engine_kind(),  // the JIT where this build has one (x86-64)
            engine_available(EngineKind::kJit) ? EngineKind::kJit : EngineKind::kInterpreter);
  EXPECT_EQ(parse({"-accel", "interp"})->accel, EngineKind::kInterpreter);
  EXPECT_EQ(parse({"-accel", "accel=interp"})->accel, EngineKind::kInterpreter);
  EXPECT_EQ(parse({"-accel", "help"})->action, Action::kAccelHelp);
  if (engine_available(EngineKind::kJit)) {
    EXPECT_EQ(parse({"-accel", "jit"})->accel, EngineKind::kJit);
  } else {
    EXPECT_NE(error_of({"-accel", "jit"}).find("unknown accelerator 'jit'"), std::string::npos);
  }
  EXPECT_NE(
      error_of({"-accel", "kvm"}).find("-accel: unknown accelerator 'kvm' (available: interp"),
      std::string::npos);
  const std::string help = engine_help_text();
  EXPECT_NE(help.find("interp"), std::string::npos);
  EXPECT_NE(help.find("(default)"), std::string::npos);
}

}  // namespace
}  // namespace cr16::system
