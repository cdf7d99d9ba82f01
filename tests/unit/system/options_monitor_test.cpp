// The monitor options: -qmp, -qmp-pretty, -chardev, -mon, -name, chardev:ID
// references, and how they change the console defaults.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "system/options.h"

namespace cr16::system {
namespace {

Expected<Options> parse(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return parse_options(std::span<const std::string_view>(views));
}

std::string error_of(std::vector<std::string> args) {
  Expected<Options> options = parse(std::move(args));
  return options ? "no error" : options.error().message();
}

TEST(MonitorOptions, QmpMakesAChardevAndAControlMonitor) {
  Expected<Options> options = parse({"-qmp", "unix:/tmp/q.sock,server=on,wait=off", "-qmp-pretty",
                                     "tcp:127.0.0.1:0,server=on,wait=off"});
  ASSERT_TRUE(options) << options.error().message();
  ASSERT_EQ(options->chardevs.size(), 2u);
  EXPECT_EQ(options->chardevs[0].id, "compat_monitor0");
  EXPECT_EQ(options->chardevs[0].backend.kind, SerialSpec::Kind::kUnix);
  EXPECT_EQ(options->chardevs[0].backend.path, "/tmp/q.sock");
  EXPECT_TRUE(options->chardevs[0].backend.server);
  EXPECT_FALSE(options->chardevs[0].backend.wait);
  EXPECT_EQ(options->chardevs[0].backend.text, "unix:/tmp/q.sock,server=on");  // query-chardev's
  EXPECT_EQ(options->chardevs[1].id, "compat_monitor1");
  EXPECT_EQ(options->chardevs[1].backend.kind, SerialSpec::Kind::kTcp);
  ASSERT_EQ(options->monitors.size(), 2u);
  EXPECT_TRUE(options->monitors[0].control);
  EXPECT_FALSE(options->monitors[0].pretty);
  EXPECT_TRUE(options->monitors[1].pretty);
  EXPECT_EQ(options->monitors[1].chardev, "compat_monitor1");
  // The console defaults are untouched by a socket QMP.
  ConsolePlan plan = plan_consoles(*options, 2, false);
  EXPECT_TRUE(plan.serial[0].mux_monitor);
}

TEST(MonitorOptions, QmpRefusesWhatCannotCarryIt) {
  EXPECT_EQ(error_of({"-qmp", "none"}),
            "-qmp none: not a QMP backend (unix:PATH,server=on, tcp:HOST:PORT,server=on, stdio, "
            "pty or chardev:ID)");
  EXPECT_NE(error_of({"-qmp", "mon:stdio"}).find("not a QMP backend"), std::string::npos);
  EXPECT_EQ(error_of({"-qmp", "bogus"}).substr(0, 36), "-qmp: bad specification 'bogus' (std");
  EXPECT_EQ(error_of({"-qmp", "chardev:nope"}),
            "-qmp/-mon: chardev 'nope' not found (define it with -chardev ...,id=nope)");
}

TEST(MonitorOptions, ChardevBackends) {
  Expected<Options> options =
      parse({"-chardev", "socket,id=s1,path=/tmp/a,server,nowait", "-chardev",
             "socket,id=s2,host=localhost,port=4444", "-chardev", "stdio,id=t,mux=on", "-chardev",
             "pty,id=p", "-chardev", "file,id=f,path=/tmp/out,,log", "-chardev", "null,id=n"});
  ASSERT_TRUE(options) << options.error().message();
  const std::vector<ChardevSpec>& c = options->chardevs;
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0].backend.kind, SerialSpec::Kind::kUnix);
  EXPECT_TRUE(c[0].backend.server);
  EXPECT_FALSE(c[0].backend.wait);
  EXPECT_EQ(c[1].backend.kind, SerialSpec::Kind::kTcp);
  EXPECT_FALSE(c[1].backend.server);
  EXPECT_EQ(c[1].backend.text, "tcp:localhost:4444");
  EXPECT_EQ(c[2].backend.kind, SerialSpec::Kind::kStdio);
  EXPECT_TRUE(c[2].mux);
  EXPECT_EQ(c[3].backend.kind, SerialSpec::Kind::kPty);
  EXPECT_EQ(c[4].backend.path, "/tmp/out,log");  // ",," is a comma
  EXPECT_EQ(c[5].backend.kind, SerialSpec::Kind::kNull);
  // A stdio chardev owns the terminal: serial 0 defaults to null, no default monitor.
  ConsolePlan plan = plan_consoles(*options, 2, false);
  EXPECT_EQ(plan.serial[0].kind, SerialSpec::Kind::kNull);
  EXPECT_FALSE(plan.monitor.has_value());
}

TEST(MonitorOptions, ChardevErrorsNameTheProblem) {
  EXPECT_EQ(error_of({"-chardev", "bogus,id=x"}),
            "-chardev bogus,id=x: unknown backend 'bogus' (socket, stdio, pty, file, null)");
  EXPECT_EQ(error_of({"-chardev", "null"}), "-chardev null: missing id=ID");
  EXPECT_EQ(error_of({"-chardev", "null,id=9x"}),
            "-chardev null,id=9x: bad id '9x' (a letter, then letters, digits, '-', '.' or '_')");
  EXPECT_EQ(error_of({"-chardev", "null,id=a", "-chardev", "pty,id=a"}),
            "-chardev pty,id=a: id 'a' already exists");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s"}),
            "-chardev socket,id=s: a socket needs path=PATH (unix) or port=PORT (tcp)");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s,path=/a,port=1"}),
            "-chardev socket,id=s,path=/a,port=1: a socket needs path=PATH (unix) or port=PORT "
            "(tcp)");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s,port=99999,server=on"}),
            "-chardev socket,id=s,port=99999,server=on: bad port '99999'");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s,path=/a,wait=off"}),
            "-chardev socket,id=s,path=/a,wait=off: wait= is for servers (server=on)");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s,port=4"}),
            "-chardev socket,id=s,port=4: a client needs host= and a non-zero port=");
  EXPECT_EQ(error_of({"-chardev", "socket,id=s,path=/a,server=maybe"}),
            "-chardev socket,id=s,path=/a,server=maybe: bad value 'maybe' for 'server' (use on "
            "or off)");
  EXPECT_EQ(error_of({"-chardev", "null,id=n,path=/x"}),
            "-chardev null,id=n,path=/x: unknown parameter 'path' for the null backend (id, mux)");
  EXPECT_EQ(error_of({"-chardev", "file,id=f"}),
            "-chardev file,id=f: the file backend needs path=PATH");
  EXPECT_EQ(error_of({"-chardev", "null,id=a,id=b"}), "-chardev: 'id' given twice");
}

TEST(MonitorOptions, MonTiesAMonitorToAChardev) {
  Expected<Options> options = parse({"-chardev", "pty,id=h", "-mon", "h", "-chardev",
                                     "socket,id=q,path=/tmp/q,server=on,wait=off", "-mon",
                                     "chardev=q,mode=control,pretty=on"});
  ASSERT_TRUE(options) << options.error().message();
  ASSERT_EQ(options->monitors.size(), 2u);
  EXPECT_EQ(options->monitors[0].chardev, "h");
  EXPECT_FALSE(options->monitors[0].control);  // readline is the default
  EXPECT_TRUE(options->monitors[1].control);
  EXPECT_TRUE(options->monitors[1].pretty);
  EXPECT_EQ(error_of({"-mon", "chardev=x"}),
            "-mon: chardev 'x' not found (define it with -chardev ...,id=x)");
  EXPECT_EQ(error_of({"-chardev", "null,id=x", "-mon", "chardev=x,mode=raw"}),
            "-mon chardev=x,mode=raw: bad mode 'raw' (readline or control)");
  EXPECT_EQ(error_of({"-chardev", "null,id=x", "-mon", "chardev=x,pretty=on"}),
            "-mon chardev=x,pretty=on: pretty=on is for mode=control");
  EXPECT_EQ(error_of({"-mon", "mode=control"}), "-mon mode=control: missing chardev=ID");
  EXPECT_EQ(error_of({"-chardev", "null,id=x", "-mon", "chardev=x,colour=red"}),
            "-mon chardev=x,colour=red: unknown parameter 'colour' (chardev, mode, pretty)");
}

TEST(MonitorOptions, AChardevHasOneUserUnlessMuxed) {
  EXPECT_EQ(error_of({"-chardev", "pty,id=c", "-serial", "chardev:c", "-mon", "c"}),
            "-chardev pty,id=c: chardev 'c' has 2 users; share it with mux=on");
  Expected<Options> shared =
      parse({"-chardev", "stdio,id=c,mux=on", "-serial", "chardev:c", "-mon", "c"});
  ASSERT_TRUE(shared) << shared.error().message();
  EXPECT_EQ(chardev_user_count(*shared, "c"), 2u);
  EXPECT_EQ(shared->serial[0].kind, SerialSpec::Kind::kChardev);
  EXPECT_EQ(error_of({"-serial", "chardev:zz"}), "chardev:zz: chardev 'zz' not found");
  EXPECT_EQ(error_of({"-monitor", "chardev:zz"}), "chardev:zz: chardev 'zz' not found");
  EXPECT_NE(error_of({"-serial", "mon:chardev:c"}).find("mon: needs a terminal"),
            std::string::npos);
  EXPECT_EQ(error_of({"-chardev", "stdio,id=c", "-serial", "stdio"}),
            "-chardev stdio,id=c: stdio is used twice (share it: -chardev stdio,mux=on,id=ID)");
  EXPECT_EQ(error_of({"-qmp", "stdio", "-monitor", "stdio"}),
            "-qmp stdio: stdio is used twice (share it: -chardev stdio,mux=on,id=ID)");
}

TEST(MonitorOptions, NameTakesQemusForms) {
  Expected<Options> plain = parse({"-name", "vm1"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->name, "vm1");
  Expected<Options> full = parse({"-name", "guest=vm2,process=cr16-vm2,debug-threads=on"});
  ASSERT_TRUE(full) << full.error().message();
  EXPECT_EQ(full->name, "vm2");
  EXPECT_EQ(full->process_name, "cr16-vm2");
  EXPECT_EQ(error_of({"-name", "vm,colour=red"}),
            "-name vm,colour=red: unknown parameter 'colour' (guest, process, debug-threads)");
}

}  // namespace
}  // namespace cr16::system
