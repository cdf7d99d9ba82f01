// -vnc value parsing: the address forms QEMU users type, the options, and a
// clear error naming the bad part for everything else.
#include <gtest/gtest.h>

#include "ui/vnc_options.h"

namespace cr16::ui {
namespace {

TEST(VncOptions, DisplayNumberIsPort5900PlusNOnEveryAddress) {
  Expected<VncOptions> options = parse_vnc_options(":1");
  ASSERT_TRUE(options) << options.error().message();
  EXPECT_EQ(options->kind, VncOptions::Kind::kTcp);
  EXPECT_EQ(options->host, "");
  EXPECT_EQ(options->port, 5901);
  EXPECT_FALSE(options->websocket_port);
  EXPECT_TRUE(options->tls_creds.empty());
}

TEST(VncOptions, HostAndBracketedIpv6) {
  Expected<VncOptions> options = parse_vnc_options("127.0.0.1:0");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->host, "127.0.0.1");
  EXPECT_EQ(options->port, 5900);
  options = parse_vnc_options("[::1]:12");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->host, "::1");
  EXPECT_EQ(options->port, 5912);
}

TEST(VncOptions, UnixNoneAndOptions) {
  Expected<VncOptions> options = parse_vnc_options("unix:/run/vm.vnc,share=ignore");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->kind, VncOptions::Kind::kUnix);
  EXPECT_EQ(options->unix_path, "/run/vm.vnc");
  options = parse_vnc_options(":3,websocket=on,tls-creds=tls0");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->websocket_port, 5703);
  EXPECT_EQ(options->tls_creds, "tls0");
  options = parse_vnc_options("none,websocket=5701");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->kind, VncOptions::Kind::kNone);
  EXPECT_EQ(options->websocket_port, 5701);
  options = parse_vnc_options(":0,websocket=0");  // a free port, printed at start
  ASSERT_TRUE(options);
  EXPECT_EQ(options->websocket_port, 0);
}

void expect_error(const char* value, const char* part) {
  Expected<VncOptions> options = parse_vnc_options(value);
  ASSERT_FALSE(options) << value;
  EXPECT_NE(options.error().message().find(part), std::string::npos)
      << value << ": " << options.error().message();
}

TEST(VncOptions, BadValuesNameTheBadPart) {
  expect_error("", "not :N");
  expect_error("localhost", "'localhost'");
  expect_error(":x", "display number 'x'");
  expect_error(":59636", "display number '59636'");
  expect_error(":-1", "display number '-1'");
  expect_error("::1:0", "brackets");
  expect_error("unix:", "socket path");
  expect_error(":0,websocket=http", "websocket='http'");
  expect_error(":0,websocket=70000", "websocket='70000'");
  expect_error(":0,password=on", "unknown option 'password'");
  expect_error(":0,tls-creds=", "tls-creds=");
  expect_error(":0,,share=ignore", "empty option");
  expect_error(":0,share=maybe", "share='maybe'");
  expect_error("none,tls-creds=x", "nothing to protect");
}

}  // namespace
}  // namespace cr16::ui
