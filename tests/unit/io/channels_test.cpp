// File, buffer, null and command channels.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "io/channel_buffer.h"
#include "io/channel_command.h"
#include "io/channel_file.h"
#include "io/channel_null.h"
#include "tests/unit/io/channel_test_helpers.h"
#include "tests/unit/io/io_test_util.h"

namespace cr16::io {
namespace {

std::string to_string(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

class ChannelBackendTest : public ::testing::TestWithParam<LoopBackend> {};

TEST_P(ChannelBackendTest, PipeFileChannelsTransferMegabyteBlockingAndNonBlocking) {
  for (bool blocking : {true, false}) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    auto reader = FileChannel::from_fd(fds[0]);
    auto writer = FileChannel::from_fd(fds[1]);
    ASSERT_TRUE(reader && writer);
    EXPECT_FALSE((*reader)->has_feature(kFeatureSeekable));
    check_threaded_transfer(**writer, **reader, blocking, GetParam());
  }
}

TEST_P(ChannelBackendTest, CommandChannelRoundTripsMegabyteThroughCat) {
  for (bool blocking : {true, false}) {
    auto command = CommandChannel::spawn({"cat"});
    ASSERT_TRUE(command) << command.error().message();
    CommandChannel& cat = **command;
    ASSERT_TRUE(cat.set_blocking(blocking).ok());
    std::vector<uint8_t> sent = make_payload(kTransferBytes, 11);
    std::vector<uint8_t> received(kTransferBytes);
    Error write_error, read_error;
    std::thread writer([&] {
      auto loop = blocking ? nullptr : Loop::create(GetParam()).value();
      write_error = write_all(cat, sent.data(), sent.size(), loop.get());
      if (write_error.ok()) write_error = cat.shutdown(ShutdownDirection::kWrite);
    });
    auto loop = blocking ? nullptr : Loop::create(GetParam()).value();
    read_error = read_all(cat, received.data(), received.size(), loop.get());
    writer.join();
    ASSERT_TRUE(write_error.ok()) << write_error.message();
    ASSERT_TRUE(read_error.ok()) << read_error.message();
    EXPECT_TRUE(sent == received);
    uint8_t extra;
    EXPECT_TRUE(cat.read(&extra, 1).is_eof() || !blocking);
    ASSERT_TRUE(cat.close().ok());
    ASSERT_TRUE(cat.exit_code());
    EXPECT_EQ(*cat.exit_code(), 0);
  }
}

TEST_P(ChannelBackendTest, FileAsyncReadAndWriteThroughTheLoop) {
  auto loop = Loop::create(GetParam()).value();
  TempFile temp;
  auto file = FileChannel::open(temp.path(), O_RDWR);
  ASSERT_TRUE(file) << file.error().message();
  std::vector<uint8_t> block = make_payload(64 * 1024, 5);
  int finished = 0;
  (*file)->write_at_async(*loop, block.data(), block.size(), 4096, [&](Expected<size_t> result) {
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(*result, block.size());
    ++finished;
  });
  while (finished < 1) loop->run_once(-1);
  std::vector<uint8_t> back(block.size());
  (*file)->read_at_async(*loop, back.data(), back.size(), 4096, [&](Expected<size_t> result) {
    ASSERT_TRUE(result);
    EXPECT_EQ(*result, block.size());
    ++finished;
  });
  while (finished < 2) loop->run_once(-1);
  EXPECT_TRUE(back == block);
}

TEST_P(ChannelBackendTest, MemoryAndRegularFileWatchesAreAlwaysReady) {
  auto loop = Loop::create(GetParam()).value();
  BufferChannel buffer;
  NullChannel null;
  TempFile temp;
  auto file = FileChannel::from_dup(temp.fd());
  ASSERT_TRUE(file);
  int fired = 0;
  for (Channel* channel : std::initializer_list<Channel*>{&buffer, &null, file->get()}) {
    channel->create_watch(*loop, kIn | kOut, [&](uint32_t revents) {
      EXPECT_EQ(revents, kIn | kOut);
      ++fired;
      return false;
    });
  }
  loop->run_once(-1);
  EXPECT_EQ(fired, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChannelBackendTest,
                         ::testing::Values(LoopBackend::kEpoll, LoopBackend::kIoUring),
                         [](const auto& info) {
                           return std::string(loop_backend_name(info.param));
                         });

TEST(FileChannel, SeekAndPositionalIo) {
  TempFile temp;
  auto file = FileChannel::open(temp.path(), O_RDWR | O_TRUNC);
  ASSERT_TRUE(file);
  FileChannel& channel = **file;
  EXPECT_TRUE(channel.has_feature(kFeatureSeekable));
  ASSERT_TRUE(write_all(channel, "0123456789", 10).ok());
  ASSERT_EQ(*channel.seek(2, SEEK_SET), 2u);
  char buffer[4] = {};
  ASSERT_TRUE(read_all(channel, buffer, 3).ok());
  EXPECT_EQ(std::string(buffer, 3), "234");
  iovec patch{const_cast<char*>("AB"), 2};
  ASSERT_TRUE(channel.pwritev({&patch, 1}, 8).is_bytes());
  EXPECT_EQ(*channel.seek(0, SEEK_CUR), 5u);  // positional I/O leaves the offset alone
  iovec whole{buffer, 4};
  IoResult tail = channel.preadv({&whole, 1}, 6);
  ASSERT_TRUE(tail.is_bytes());
  EXPECT_EQ(std::string(buffer, tail.count()), "67AB");
  ASSERT_EQ(*channel.seek(0, SEEK_END), 10u);
  EXPECT_TRUE(channel.read(buffer, 1).is_eof());
  auto flushed = channel.flush();
  ASSERT_TRUE(flushed);
  EXPECT_EQ(*flushed, FlushResult::kCompleted);
}

TEST(FileChannel, DuplicateLeavesCallersFdOpen) {
  TempFile temp;
  {
    auto copy = FileChannel::from_dup(temp.fd());
    ASSERT_TRUE(copy);
    EXPECT_NE((*copy)->fd(), temp.fd());
    ASSERT_TRUE(write_all(**copy, "dup", 3).ok());
  }
  EXPECT_GE(fcntl(temp.fd(), F_GETFD), 0);
  char buffer[3];
  ASSERT_EQ(pread(temp.fd(), buffer, 3, 0), 3);
  EXPECT_EQ(std::string(buffer, 3), "dup");
}

TEST(FileChannel, OpenFailureNamesThePath) {
  auto missing = FileChannel::open("/nonexistent/dir/file", O_RDONLY);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value(), ENOENT);
  EXPECT_NE(missing.error().message().find("/nonexistent/dir/file"), std::string::npos);
}

TEST(FileChannel, PipeIsNotSeekableAndReportsEofAndWouldBlock) {
  TestPipe pipe_fds;
  auto reader = FileChannel::from_dup(pipe_fds.read_end());
  ASSERT_TRUE(reader);
  ASSERT_TRUE((*reader)->set_blocking(false).ok());
  char byte;
  EXPECT_TRUE((*reader)->read(&byte, 1).is_would_block());
  EXPECT_FALSE((*reader)->seek(0, SEEK_SET));
  iovec one{&byte, 1};
  EXPECT_EQ((*reader)->preadv({&one, 1}, 0).error().errno_value(), ESPIPE);
  pipe_fds.close_write_end();
  EXPECT_TRUE((*reader)->read(&byte, 1).is_eof());
}

// A readiness report can be stale when it is handled; a blocking channel
// asks ready_now() first instead of blocking in read().
TEST(FileChannel, ReadyNowTellsWhetherABlockingReadWouldWait) {
  TestPipe pipe_fds;
  auto reader = FileChannel::from_dup(pipe_fds.read_end());
  auto writer = FileChannel::from_dup(pipe_fds.write_end());
  ASSERT_TRUE(reader && writer);
  ASSERT_TRUE((*reader)->is_blocking());
  EXPECT_FALSE((*reader)->ready_now(kIn));
  EXPECT_TRUE((*writer)->ready_now(kOut));
  ASSERT_TRUE((*writer)->write("x", 1).is_bytes());
  EXPECT_TRUE((*reader)->ready_now(kIn));
  char byte;
  ASSERT_TRUE((*reader)->read(&byte, 1).is_bytes());
  EXPECT_FALSE((*reader)->ready_now(kIn));  // consumed: a read now would block
  writer->reset();
  pipe_fds.close_write_end();
  EXPECT_TRUE((*reader)->ready_now(kIn));  // end of file: the read reports it
}

TEST(BufferChannel, ReadWriteSeekAndGrow) {
  BufferChannel buffer;
  EXPECT_TRUE(buffer.has_feature(kFeatureSeekable));
  ASSERT_TRUE(write_all(buffer, "hello world", 11).ok());
  EXPECT_EQ(buffer.offset(), 11u);
  char text[16] = {};
  EXPECT_TRUE(buffer.read(text, 1).is_eof());
  ASSERT_EQ(*buffer.seek(6, SEEK_SET), 6u);
  ASSERT_TRUE(read_all(buffer, text, 5).ok());
  EXPECT_EQ(std::string(text, 5), "world");
  ASSERT_EQ(*buffer.seek(-5, SEEK_END), 6u);
  ASSERT_TRUE(write_all(buffer, "there", 5).ok());
  EXPECT_EQ(to_string(buffer.data()), "hello there");
  ASSERT_EQ(*buffer.seek(3, SEEK_END), 14u);  // past the end: a write fills the gap
  ASSERT_TRUE(write_all(buffer, "!", 1).ok());
  EXPECT_EQ(buffer.data().size(), 15u);
  EXPECT_EQ(buffer.data()[12], 0);
  EXPECT_FALSE(buffer.seek(-100, SEEK_CUR));
}

TEST(BufferChannel, PositionalIoAndVectors) {
  BufferChannel buffer(std::vector<uint8_t>{'a', 'b', 'c', 'd', 'e', 'f'});
  char first[2], second[3];
  iovec iov[2] = {{first, 2}, {second, 3}};
  IoResult result = buffer.preadv(iov, 1);
  ASSERT_TRUE(result.is_bytes());
  EXPECT_EQ(result.count(), 5u);
  EXPECT_EQ(std::string(first, 2) + std::string(second, 3), "bcdef");
  EXPECT_EQ(buffer.offset(), 0u);
  iovec patch{const_cast<char*>("XY"), 2};
  ASSERT_TRUE(buffer.pwritev({&patch, 1}, 5).is_bytes());
  EXPECT_EQ(to_string(buffer.data()), "abcdeXY");
  EXPECT_TRUE(buffer.preadv({iov, 1}, 7).is_eof());
  std::vector<uint8_t> taken = buffer.take_data();
  EXPECT_EQ(taken.size(), 7u);
  EXPECT_TRUE(buffer.data().empty());
  ASSERT_TRUE(buffer.close().ok());
  EXPECT_TRUE(buffer.write("x", 1).is_error());
}

TEST(NullChannel, DiscardsWritesAndReadsEof) {
  NullChannel null;
  IoResult written = null.write("anything", 8);
  ASSERT_TRUE(written.is_bytes());
  EXPECT_EQ(written.count(), 8u);
  char byte;
  EXPECT_TRUE(null.read(&byte, 1).is_eof());
  auto eof = read_all_or_eof(null, std::span<const iovec>());
  EXPECT_TRUE(eof);
  Error truncated = read_all(null, &byte, 1);
  EXPECT_FALSE(truncated.ok());
  EXPECT_FALSE(null.has_feature(kFeatureSeekable));
  EXPECT_TRUE(null.write("x", 1, kWriteZeroCopy).is_error());
}

TEST(CommandChannel, ReportsExitStatus) {
  auto command = CommandChannel::spawn({"sh", "-c", "exit 3"});
  ASSERT_TRUE(command);
  char byte;
  EXPECT_TRUE((*command)->read(&byte, 1).is_eof());
  ASSERT_TRUE((*command)->close().ok());
  ASSERT_TRUE((*command)->exit_code());
  EXPECT_EQ(*(*command)->exit_code(), 3);
}

TEST(CommandChannel, CloseTerminatesAChildThatDoesNotExit) {
  auto command = CommandChannel::spawn({"sleep", "30"});
  ASSERT_TRUE(command);
  ASSERT_TRUE((*command)->close_with_grace(std::chrono::milliseconds(50)).ok());
  ASSERT_TRUE((*command)->exit_signal());
  EXPECT_EQ(*(*command)->exit_signal(), SIGTERM);
}

TEST(CommandChannel, CloseKillsAChildIgnoringSigterm) {
  auto command = CommandChannel::spawn({"sh", "-c", "trap '' TERM; echo ready; sleep 5"});
  ASSERT_TRUE(command);
  char ready[6];
  ASSERT_TRUE(read_all(**command, ready, 6).ok());  // the trap is installed
  ASSERT_TRUE((*command)->close_with_grace(std::chrono::milliseconds(50)).ok());
  ASSERT_TRUE((*command)->exit_signal());
  EXPECT_EQ(*(*command)->exit_signal(), SIGKILL);
}

TEST(CommandChannel, WritingToAChildThatExitedIsAnErrorNotSigpipe) {
  // Closing stdin before stdout: once stdout reads EOF, the stdin pipe has
  // no reader (an exiting process releases its files asynchronously).
  auto command = CommandChannel::spawn({"sh", "-c", "exec 0<&- 1>&-"});
  ASSERT_TRUE(command);
  char byte;
  EXPECT_TRUE((*command)->read(&byte, 1).is_eof());
  IoResult result = IoResult::bytes(0);
  for (int i = 0; i < 100 && !result.is_error(); ++i) result = (*command)->write("x", 1);
  ASSERT_TRUE(result.is_error());
  EXPECT_EQ(result.error().errno_value(), EPIPE);
  ASSERT_TRUE((*command)->close().ok());
  EXPECT_EQ((*command)->exit_code(), 0);
}

TEST(CommandChannel, UnknownProgramIsAnError) {
  auto command = CommandChannel::spawn({"/nonexistent/program"});
  ASSERT_FALSE(command);
  EXPECT_NE(command.error().message().find("/nonexistent/program"), std::string::npos);
  EXPECT_FALSE(CommandChannel::spawn({}));
}

}  // namespace
}  // namespace cr16::io
