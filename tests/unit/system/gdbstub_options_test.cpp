// -gdb and -s: the devices the gdbstub listens on, what is refused, and
// that the options land in Options::gdb.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "system/options.h"

namespace cr16::system {
namespace {

Expected<Options> parse(std::vector<std::string_view> args) {
  return parse_options(std::span<const std::string_view>(args));
}

TEST(GdbOptions, DevicesAreListeningServersThatDoNotWait) {
  Expected<std::optional<SerialSpec>> spec = parse_gdb_device("tcp::1234");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  ASSERT_TRUE(spec->has_value());
  EXPECT_EQ((*spec)->kind, SerialSpec::Kind::kTcp);
  EXPECT_EQ((*spec)->host, "");
  EXPECT_EQ((*spec)->port, 1234);
  EXPECT_TRUE((*spec)->server);
  EXPECT_FALSE((*spec)->wait);
  EXPECT_EQ((*spec)->text, "tcp::1234");

  spec = parse_gdb_device("tcp:127.0.0.1:0,nodelay");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*spec)->host, "127.0.0.1");
  EXPECT_EQ((*spec)->port, 0);

  spec = parse_gdb_device("unix:/tmp/g.sock,server=on");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*spec)->kind, SerialSpec::Kind::kUnix);
  EXPECT_EQ((*spec)->path, "/tmp/g.sock");
  EXPECT_TRUE((*spec)->server);

  spec = parse_gdb_device("4321");  // a bare port
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*spec)->port, 4321);

  spec = parse_gdb_device("none");
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(spec->has_value());
}

TEST(GdbOptions, RefusalsNameTheDevice) {
  auto message = [](std::string_view device) {
    Expected<std::optional<SerialSpec>> spec = parse_gdb_device(device);
    return spec.ok() ? std::string("ok") : spec.error().message();
  };
  EXPECT_EQ(message("stdio"),
            "unsupported device 'stdio' (tcp::PORT, tcp:HOST:PORT, unix:PATH[,server=on] or none)");
  EXPECT_NE(message("unix:/tmp/g,server=off").find("server=off is not supported"),
            std::string::npos);
  EXPECT_NE(message("tcp::1234,wait=on").find("use -S"), std::string::npos);
  EXPECT_NE(message("tcp::1234,foo=on").find("unknown flag 'foo'"), std::string::npos);
  EXPECT_NE(message("tcp:host").find("'tcp:host'"), std::string::npos);
  EXPECT_NE(message("tcp::99999").find("bad port"), std::string::npos);
  EXPECT_NE(message("unix:").find("needs a path"), std::string::npos);
}

TEST(GdbOptions, DashGdbAndDashS) {
  Expected<Options> options = parse({"-gdb", "unix:/tmp/x.sock"});
  ASSERT_TRUE(options.ok());
  ASSERT_TRUE(options->gdb.has_value());
  EXPECT_EQ(options->gdb->path, "/tmp/x.sock");
  options = parse({"-s"});
  ASSERT_TRUE(options.ok());
  ASSERT_TRUE(options->gdb.has_value());
  EXPECT_EQ(options->gdb->port, 1234);
  options = parse({"-s", "-gdb", "none"});  // the last one wins
  ASSERT_TRUE(options.ok());
  EXPECT_FALSE(options->gdb.has_value());
  options = parse({"-gdb", "pty"});
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().message().substr(0, 6), "-gdb: ");
  EXPECT_NE(usage_text().find("-gdb DEV"), std::string::npos);
  EXPECT_NE(usage_text().find("-s  "), std::string::npos);
}

}  // namespace
}  // namespace cr16::system
