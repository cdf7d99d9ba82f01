// Migration URIs as users write them, and every malformed one refused with
// a message naming it.
#include "migration/transport.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace cr16::migration {
namespace {

TEST(MigrationUri, ParsesEveryTransport) {
  Expected<MigrationUri> tcp = parse_migration_uri("tcp:127.0.0.1:4444");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->kind, MigrationUri::Kind::kTcp);
  EXPECT_EQ(tcp->address.host, "127.0.0.1");
  EXPECT_EQ(tcp->address.port, 4444);
  EXPECT_TRUE(tcp->is_socket());

  Expected<MigrationUri> ipv6 = parse_migration_uri("tcp:[::1]:5555");
  ASSERT_TRUE(ipv6.ok());
  EXPECT_EQ(ipv6->address.host, "::1");

  Expected<MigrationUri> unix_socket = parse_migration_uri("unix:/tmp/m.sock");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_EQ(unix_socket->kind, MigrationUri::Kind::kUnix);
  EXPECT_EQ(unix_socket->address.path, "/tmp/m.sock");

  Expected<MigrationUri> exec = parse_migration_uri("exec:gzip -c > /tmp/vm.gz");
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->kind, MigrationUri::Kind::kExec);
  EXPECT_EQ(exec->command, "gzip -c > /tmp/vm.gz");
  EXPECT_FALSE(exec->is_socket());

  Expected<MigrationUri> file = parse_migration_uri("file:/tmp/vm,x.bin,offset=0x1000");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, MigrationUri::Kind::kFile);
  EXPECT_EQ(file->path, "/tmp/vm,x.bin");
  EXPECT_EQ(file->offset, 0x1000u);

  Expected<MigrationUri> plain_file = parse_migration_uri("file:/tmp/vm.bin");
  ASSERT_TRUE(plain_file.ok());
  EXPECT_EQ(plain_file->offset, 0u);

  Expected<MigrationUri> fd = parse_migration_uri("fd:migfd");
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(fd->kind, MigrationUri::Kind::kFd);
  EXPECT_EQ(fd->fd_name, "migfd");
}

TEST(MigrationUri, RefusesMalformedUris) {
  struct Case {
    const char* uri;
    const char* message;
  } cases[] = {
      {"ftp:host", "unknown transport (tcp:HOST:PORT, unix:PATH, exec:CMD, file:PATH, fd:NAME)"},
      {"", "unknown transport"},
      {"tcp:localhost", "missing ':PORT'"},
      {"tcp:localhost:99999", "invalid port '99999'"},
      {"unix:", "empty UNIX socket path"},
      {"exec:", "exec: needs a command"},
      {"file:", "file: needs a path"},
      {"file:/tmp/x,offset=12k", "bad offset '12k'"},
      {"file:,offset=5", "file: needs a path"},
      {"fd:", "fd: needs a name"},
  };
  for (const Case& c : cases) {
    Expected<MigrationUri> uri = parse_migration_uri(c.uri);
    ASSERT_FALSE(uri.ok()) << c.uri;
    EXPECT_NE(uri.error().message().find(c.message), std::string::npos)
        << c.uri << ": " << uri.error().message();
    EXPECT_NE(uri.error().message().find(std::string("'") + c.uri + "'"), std::string::npos)
        << "the message names the URI: " << uri.error().message();
  }
}

// A FIFO (open() would wait for a peer, freezing the machine thread) or a
// device is refused at once; a regular file opens at the URI's offset.
TEST(MigrationUri, StreamFilesMustBeRegularFiles) {
  const std::string dir = ::testing::TempDir() + "/cr16-stream-file-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  const std::string fifo = dir + "/f.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (int flags : {O_RDONLY, O_WRONLY | O_CREAT}) {
    Expected<MigrationUri> uri = parse_migration_uri("file:" + fifo);
    ASSERT_TRUE(uri.ok());
    Expected<std::unique_ptr<io::Channel>> opened = open_stream_file(*uri, flags);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().message(), "file:" + fifo +
                                            ": not a regular file (use exec: or fd: for "
                                            "pipes and devices)");
  }
  Expected<MigrationUri> device = parse_migration_uri("file:/dev/full");
  ASSERT_TRUE(device.ok());
  EXPECT_FALSE(open_stream_file(*device, O_WRONLY | O_CREAT).ok());

  const std::string regular = dir + "/vm.mig";
  Expected<MigrationUri> at = parse_migration_uri("file:" + regular + ",offset=4096");
  ASSERT_TRUE(at.ok());
  Expected<std::unique_ptr<io::Channel>> written = open_stream_file(*at, O_WRONLY | O_CREAT);
  ASSERT_TRUE(written.ok()) << written.error().message();
  EXPECT_TRUE((*written)->is_blocking());
  ASSERT_TRUE((*written)->write("x", 1).is_bytes());
  written->reset();
  struct stat info {};
  ASSERT_EQ(stat(regular.c_str(), &info), 0);
  EXPECT_EQ(info.st_size, 4097);
  unlink(regular.c_str());
  unlink(fifo.c_str());
  rmdir(dir.c_str());
}

TEST(MigrationUri, InheritedFdsAreNumbersThatAreOpen) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  Expected<int> copy = inherited_fd(std::to_string(pipe_fds[1]));
  ASSERT_TRUE(copy.ok()) << copy.error().message();
  EXPECT_NE(*copy, pipe_fds[1]) << "the transport gets its own copy";
  close(*copy);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_FALSE(inherited_fd(std::to_string(pipe_fds[1])).ok()) << "closed fd";
  Expected<int> named = inherited_fd("migfd");
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message().find("getfd"), std::string::npos);
  EXPECT_FALSE(inherited_fd("-1").ok());
}

}  // namespace
}  // namespace cr16::migration
