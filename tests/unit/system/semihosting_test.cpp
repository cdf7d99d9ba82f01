#include "system/semihosting.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace cr16::system {
namespace {

class FakeRegisters : public SemihostRegisters {
 public:
  uint16_t reg(unsigned index) const override { return r[index]; }
  void set_reg(unsigned index, uint16_t value) override { r[index] = value; }
  uint32_t pc() const override { return 0x1234; }
  void set_pair(unsigned low, uint32_t value) {
    r[low] = static_cast<uint16_t>(value);
    r[low + 1] = static_cast<uint16_t>(value >> 16);
  }
  uint32_t pair(unsigned low) const { return r[low] | (uint32_t{r[low + 1]} << 16); }
  uint16_t r[16] = {};
};

// 64 KiB of guest memory at address 0; everything above is "not memory".
// The top 4 KiB (from kRomStart) is read-only, like flash or ROM.
class FakeMemory : public SemihostMemory {
 public:
  static constexpr uint32_t kRomStart = 0xF000;
  FakeMemory() : bytes(0x10000, 0) {}
  bool read(uint32_t address, std::span<uint8_t> out) override {
    if (uint64_t{address} + out.size() > bytes.size()) return false;
    std::memcpy(out.data(), bytes.data() + address, out.size());
    return true;
  }
  bool write(uint32_t address, std::span<const uint8_t> in) override {
    if (!writable(address, static_cast<uint32_t>(in.size()))) return false;
    std::memcpy(bytes.data() + address, in.data(), in.size());
    return true;
  }
  bool writable(uint32_t address, uint32_t length) override {
    return uint64_t{address} + length <= kRomStart;
  }
  void put_string(uint32_t address, const std::string& text) {
    std::memcpy(bytes.data() + address, text.c_str(), text.size() + 1);
  }
  std::vector<uint8_t> bytes;
};

class SemihostingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pipe(in_pipe_), 0);
    ASSERT_EQ(pipe(out_pipe_), 0);
    ASSERT_EQ(pipe(err_pipe_), 0);
    char pattern[] = "/tmp/semihost-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    make(SemihostingConfig{});
  }
  void make(const SemihostingConfig& config) {
    semihosting_.reset();
    auto created = Semihosting::create(config, in_pipe_[0], out_pipe_[1], err_pipe_[1]);
    ASSERT_TRUE(created.ok()) << created.error().message();
    semihosting_ = std::move(*created);
  }
  void TearDown() override {
    semihosting_.reset();
    for (int fd :
         {in_pipe_[0], in_pipe_[1], out_pipe_[0], out_pipe_[1], err_pipe_[0], err_pipe_[1]}) {
      close(fd);
    }
    std::filesystem::remove_all(dir_);
  }

  SemihostOutcome call(uint32_t code) {
    regs_.set_pair(0, code);
    return semihosting_->handle(regs_, memory_);
  }
  std::string drain(int fd) {
    char buffer[256];
    ssize_t got = read(fd, buffer, sizeof buffer);
    return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : std::string();
  }
  // open(path, flags, mode) -> guest fd (or -1).
  int32_t open_file(const std::string& path, uint16_t flags, uint16_t mode = 0644) {
    memory_.put_string(0x200, path);
    regs_.set_pair(2, 0x200);
    regs_.r[4] = flags;
    regs_.r[5] = mode;
    call(0x401);
    return static_cast<int32_t>(regs_.pair(0));
  }

  int in_pipe_[2], out_pipe_[2], err_pipe_[2];
  std::unique_ptr<Semihosting> semihosting_;
  FakeRegisters regs_;
  FakeMemory memory_;
  std::string dir_;
};

TEST_F(SemihostingTest, WriteToStdoutAndStderr) {
  memory_.put_string(0x100, "hello\n");
  regs_.r[2] = 1;
  regs_.set_pair(3, 0x100);
  regs_.r[5] = 6;
  SemihostOutcome outcome = call(0x404);
  EXPECT_TRUE(outcome.handled);
  EXPECT_FALSE(outcome.exit_status.has_value());
  EXPECT_EQ(regs_.r[0], 6);
  EXPECT_EQ(regs_.r[4], 0);
  EXPECT_EQ(drain(out_pipe_[0]), "hello\n");

  regs_.r[2] = 2;
  regs_.r[5] = 3;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 3);
  EXPECT_EQ(drain(err_pipe_[0]), "hel");
}

TEST_F(SemihostingTest, ReadFromStdin) {
  ASSERT_EQ(write(in_pipe_[1], "abc", 3), 3);
  regs_.r[2] = 0;
  regs_.set_pair(3, 0x300);
  regs_.r[5] = 10;
  call(0x403);
  EXPECT_EQ(regs_.r[0], 3);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&memory_.bytes[0x300]), 3), "abc");
}

TEST_F(SemihostingTest, BadPointerGivesEfaultWithoutSideEffects) {
  regs_.r[2] = 1;
  regs_.set_pair(3, 0xfff0);  // runs past the end of memory
  regs_.r[5] = 0x20;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 14);  // EFAULT

  ASSERT_EQ(write(in_pipe_[1], "xyz", 3), 3);
  regs_.r[2] = 0;
  regs_.set_pair(3, 0x00ff0000);
  regs_.r[5] = 3;
  call(0x403);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 14);
  // The input was not consumed.
  EXPECT_EQ(drain(in_pipe_[0]), "xyz");

  // A path that never ends inside memory.
  regs_.set_pair(2, 0xffff);
  memory_.bytes[0xffff] = 'a';
  call(0x407);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 14);
}

TEST_F(SemihostingTest, ReadWithoutInputAsksToWaitAndLeavesRegistersAlone) {
  regs_.r[2] = 0;  // stdin has no data: the call must not block
  regs_.set_pair(3, 0x300);
  regs_.r[5] = 10;
  SemihostOutcome outcome = call(0x403);
  ASSERT_TRUE(outcome.wait.has_value());
  EXPECT_TRUE(outcome.handled);
  EXPECT_EQ(outcome.wait->events, POLLIN);
  EXPECT_EQ(regs_.pair(0), 0x403u);  // untouched: the same call runs again
  EXPECT_EQ(regs_.r[5], 10);
  // Waiting on the fd it named ends when input arrives; the retry reads it.
  ASSERT_EQ(write(in_pipe_[1], "ok", 2), 2);
  struct pollfd ready = {outcome.wait->fd, outcome.wait->events, 0};
  ASSERT_EQ(poll(&ready, 1, 1000), 1);
  outcome = semihosting_->handle(regs_, memory_);
  EXPECT_FALSE(outcome.wait.has_value());
  EXPECT_EQ(regs_.r[0], 2);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&memory_.bytes[0x300]), 2), "ok");
}

TEST_F(SemihostingTest, HostStdioFdsKeepTheirBlockingMode) {
  // Private descriptions carry O_NONBLOCK; the fds we were given do not.
  for (int fd : {in_pipe_[0], out_pipe_[1], err_pipe_[1]}) {
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << fd;
  }
}

TEST_F(SemihostingTest, ZeroLengthReadReturnsAtOnce) {
  regs_.r[2] = 0;
  regs_.set_pair(3, 0x300);
  regs_.r[5] = 0;
  SemihostOutcome outcome = call(0x403);
  EXPECT_FALSE(outcome.wait.has_value());
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(regs_.r[4], 0);
}

TEST_F(SemihostingTest, ReadIntoReadOnlyMemoryConsumesNoInput) {
  ASSERT_EQ(write(in_pipe_[1], "0123456789abcdef", 16), 16);
  regs_.r[2] = 0;
  regs_.set_pair(3, FakeMemory::kRomStart - 8);  // straddles into "ROM"
  regs_.r[5] = 16;
  call(0x403);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 14);                          // EFAULT
  EXPECT_EQ(drain(in_pipe_[0]), "0123456789abcdef");  // all 16 bytes still there
}

TEST_F(SemihostingTest, WriteToAFullPipeWaitsAndResumesWithoutRepeating) {
  // Fill the stdout pipe, then write 8 KiB: the host takes none or part of
  // it; the call asks to wait for POLLOUT and its retries finish the rest
  // exactly once.
  fcntl(out_pipe_[1], F_SETFL, fcntl(out_pipe_[1], F_GETFL) | O_NONBLOCK);
  std::vector<uint8_t> filler(4096, 'f');
  size_t queued = 0;
  while (true) {
    ssize_t put = write(out_pipe_[1], filler.data(), filler.size());
    if (put <= 0) break;
    queued += static_cast<size_t>(put);
  }
  fcntl(out_pipe_[1], F_SETFL, fcntl(out_pipe_[1], F_GETFL) & ~O_NONBLOCK);
  for (uint32_t i = 0; i < 8192; ++i) memory_.bytes[0x1000 + i] = static_cast<uint8_t>(i % 251);
  regs_.r[2] = 1;
  regs_.set_pair(3, 0x1000);
  regs_.r[5] = 8192;
  SemihostOutcome outcome = call(0x404);
  ASSERT_TRUE(outcome.wait.has_value());
  EXPECT_EQ(outcome.wait->events, POLLOUT);
  std::vector<uint8_t> received;
  int rounds = 0;
  while (outcome.wait && rounds++ < 1000) {
    // The reader drains a little; the retry goes on where the last one stopped.
    std::vector<uint8_t> chunk(3000);
    ssize_t got = read(out_pipe_[0], chunk.data(), chunk.size());
    ASSERT_GT(got, 0);
    received.insert(received.end(), chunk.begin(), chunk.begin() + got);
    outcome = semihosting_->handle(regs_, memory_);
  }
  ASSERT_FALSE(outcome.wait.has_value());
  EXPECT_EQ(regs_.r[0], 8192);
  fcntl(out_pipe_[0], F_SETFL, fcntl(out_pipe_[0], F_GETFL) | O_NONBLOCK);
  while (true) {
    std::vector<uint8_t> chunk(4096);
    ssize_t got = read(out_pipe_[0], chunk.data(), chunk.size());
    if (got <= 0) break;
    received.insert(received.end(), chunk.begin(), chunk.begin() + got);
  }
  ASSERT_EQ(received.size(), queued + 8192);
  for (size_t i = 0; i < queued; ++i) ASSERT_EQ(received[i], 'f') << i;
  for (uint32_t i = 0; i < 8192; ++i) {
    ASSERT_EQ(received[queued + i], static_cast<uint8_t>(i % 251)) << i;
  }
}

TEST_F(SemihostingTest, OpeningAFifoWithoutAPeerDoesNotBlock) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Read side: opens at once; a read then asks to wait or sees end of file.
  int32_t fd = open_file(fifo, 0);
  ASSERT_GE(fd, 3);
  regs_.r[2] = static_cast<uint16_t>(fd);
  regs_.set_pair(3, 0x300);
  regs_.r[5] = 4;
  SemihostOutcome outcome = call(0x403);
  if (!outcome.wait) {
    EXPECT_EQ(regs_.r[0], 0);
  }
  // Write side with no reader: ENXIO instead of waiting forever.
  std::string lonely = dir_ + "/lonely";
  ASSERT_EQ(mkfifo(lonely.c_str(), 0600), 0);
  EXPECT_EQ(open_file(lonely, 1), -1);
  EXPECT_EQ(regs_.r[4], ENXIO);
}

TEST_F(SemihostingTest, ConsoleAccessServesStdioButRefusesHostFiles) {
  make(SemihostingConfig{SemihostingAccess::kConsole, ""});
  std::string path = dir_ + "/secret";
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "s", 1), 1);
    close(fd);
  }
  EXPECT_EQ(open_file(path, 0), -1);
  EXPECT_EQ(regs_.r[4], 13);  // EACCES
  EXPECT_EQ(semihosting_->open_file_count(), 0u);
  memory_.put_string(0x200, path);
  regs_.set_pair(2, 0x200);
  call(0x407);  // unlink
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 13);
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
  memory_.put_string(0x600, dir_ + "/moved");
  regs_.set_pair(2, 0x200);
  regs_.set_pair(4, 0x600);
  call(0x406);  // rename
  EXPECT_EQ(regs_.r[4], 13);
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
  regs_.r[2] = 1;
  regs_.set_pair(3, 0);
  regs_.r[5] = 0;
  call(0x405);  // lseek
  EXPECT_EQ(regs_.r[4], 13);
  // The console still works.
  memory_.put_string(0x100, "hi");
  regs_.r[2] = 1;
  regs_.set_pair(3, 0x100);
  regs_.r[5] = 2;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 2);
  EXPECT_EQ(drain(out_pipe_[0]), "hi");
  call(0x300);
  EXPECT_NE(regs_.pair(0), 0u);
  regs_.r[2] = 5;
  EXPECT_EQ(*call(0x410).exit_status, 5);
}

// The root= tests run with openat2() and with the path-walking fallback.
class SemihostingRootTest : public SemihostingTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    walking_ = GetParam();
    set_semihosting_path_walk_for_testing(walking_);
    SemihostingTest::SetUp();
  }
  void TearDown() override {
    SemihostingTest::TearDown();
    set_semihosting_path_walk_for_testing(false);
  }
  bool walking_ = false;
};

TEST_P(SemihostingRootTest, RootConfinesEveryPath) {
  std::string root = dir_ + "/root";
  ASSERT_EQ(mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((root + "/sub").c_str(), 0700), 0);
  std::string outside = dir_ + "/outside";
  {
    int fd = ::open(outside.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  ASSERT_EQ(symlink(outside.c_str(), (root + "/escape").c_str()), 0);
  ASSERT_EQ(symlink("..", (root + "/sub/up").c_str()), 0);
  make(SemihostingConfig{SemihostingAccess::kFull, root});

  // Inside: relative paths work, also through subdirectories.
  int32_t fd = open_file("sub/new.txt", 0x1 | 0x200);
  ASSERT_GE(fd, 3);
  EXPECT_EQ(access((root + "/sub/new.txt").c_str(), F_OK), 0);
  if (walking_) {
    EXPECT_EQ(open_file("sub/up/sub/new.txt", 0), -1);  // the fallback refuses every link
  } else {
    EXPECT_GE(open_file("sub/up/sub/new.txt", 0), 3);  // ".." that stays inside is fine
  }

  // Outside: "..", absolute paths and symlinks out are all refused.
  for (const std::string& path : {std::string("../outside"), outside, std::string("escape"),
                                  std::string("sub/../../outside")}) {
    EXPECT_EQ(open_file(path, 0), -1) << path;
    EXPECT_EQ(regs_.r[4], 13) << path;  // EACCES
  }
  EXPECT_EQ(open_file("../created", 0x1 | 0x200), -1);
  EXPECT_EQ(access((dir_ + "/created").c_str(), F_OK), -1);

  // rename and unlink are confined too.
  memory_.put_string(0x200, "../outside");
  regs_.set_pair(2, 0x200);
  call(0x407);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(access(outside.c_str(), F_OK), 0);
  memory_.put_string(0x200, "sub/new.txt");
  memory_.put_string(0x600, "../stolen.txt");
  regs_.set_pair(2, 0x200);
  regs_.set_pair(4, 0x600);
  call(0x406);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(access((dir_ + "/stolen.txt").c_str(), F_OK), -1);
  memory_.put_string(0x600, "renamed.txt");
  regs_.set_pair(2, 0x200);
  regs_.set_pair(4, 0x600);
  call(0x406);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(access((root + "/renamed.txt").c_str(), F_OK), 0);
  memory_.put_string(0x200, "renamed.txt");
  regs_.set_pair(2, 0x200);
  call(0x407);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(access((root + "/renamed.txt").c_str(), F_OK), -1);
  // Unlinking the escape symlink removes the link, not its target.
  memory_.put_string(0x200, "escape");
  regs_.set_pair(2, 0x200);
  call(0x407);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(access(outside.c_str(), F_OK), 0);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, SemihostingRootTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "walk" : "openat2"; });

TEST(SemihostingCreate, MissingRootIsAnError) {
  auto created =
      Semihosting::create(SemihostingConfig{SemihostingAccess::kFull, "/nonexistent/dir"});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message().find("/nonexistent/dir"), std::string::npos);
}

TEST_F(SemihostingTest, BadFileDescriptor) {
  regs_.r[2] = 17;
  regs_.set_pair(3, 0x100);
  regs_.r[5] = 1;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 9);  // EBADF
  regs_.r[2] = 9999;
  call(0x402);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 9);
}

TEST_F(SemihostingTest, FileRoundTripOpenWriteSeekReadCloseRenameUnlink) {
  std::string path = dir_ + "/data.txt";
  int32_t fd = open_file(path, 0x2 | 0x200 | 0x400);  // O_RDWR|O_CREAT|O_TRUNC
  ASSERT_GE(fd, 3);
  EXPECT_EQ(regs_.r[4], 0);
  EXPECT_EQ(semihosting_->open_file_count(), 1u);

  memory_.put_string(0x100, "0123456789");
  regs_.r[2] = static_cast<uint16_t>(fd);
  regs_.set_pair(3, 0x100);
  regs_.r[5] = 10;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 10);

  regs_.r[2] = static_cast<uint16_t>(fd);
  regs_.set_pair(3, 4);
  regs_.r[5] = 0;  // SEEK_SET
  call(0x405);
  EXPECT_EQ(regs_.pair(0), 4u);

  regs_.r[2] = static_cast<uint16_t>(fd);
  regs_.set_pair(3, 0x400);
  regs_.r[5] = 100;
  call(0x403);
  EXPECT_EQ(regs_.r[0], 6);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(&memory_.bytes[0x400]), 6), "456789");

  regs_.r[2] = static_cast<uint16_t>(fd);
  regs_.set_pair(3, 0xfffffffe);  // -2
  regs_.r[5] = 2;                 // SEEK_END
  call(0x405);
  EXPECT_EQ(regs_.pair(0), 8u);

  regs_.r[2] = static_cast<uint16_t>(fd);
  call(0x402);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(semihosting_->open_file_count(), 0u);

  std::string renamed = dir_ + "/renamed.txt";
  memory_.put_string(0x200, path);
  memory_.put_string(0x600, renamed);
  regs_.set_pair(2, 0x200);
  regs_.set_pair(4, 0x600);
  call(0x406);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(access(path.c_str(), F_OK), -1);
  EXPECT_EQ(access(renamed.c_str(), F_OK), 0);

  memory_.put_string(0x200, renamed);
  regs_.set_pair(2, 0x200);
  call(0x407);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_EQ(access(renamed.c_str(), F_OK), -1);
}

TEST_F(SemihostingTest, OpenMissingFileReportsEnoent) {
  EXPECT_EQ(open_file(dir_ + "/missing", 0), -1);
  EXPECT_EQ(regs_.r[4], 2);  // ENOENT
  // O_CREAT|O_EXCL on an existing file.
  ASSERT_GE(open_file(dir_ + "/f", 0x1 | 0x200), 3);
  EXPECT_EQ(open_file(dir_ + "/f", 0x1 | 0x200 | 0x800), -1);
  EXPECT_EQ(regs_.r[4], 17);  // EEXIST
}

TEST_F(SemihostingTest, OpenFlagsAndMode) {
  ASSERT_GE(open_file(dir_ + "/mode", 0x1 | 0x200, 0600), 3);
  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/mode").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(host_open_flags(0) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(host_open_flags(1) & O_ACCMODE, O_WRONLY);
  EXPECT_EQ(host_open_flags(2) & O_ACCMODE, O_RDWR);
  EXPECT_TRUE(host_open_flags(0x8) & O_APPEND);
  EXPECT_TRUE(host_open_flags(0x400) & O_TRUNC);
}

TEST_F(SemihostingTest, TooManyOpenFiles) {
  int opened = 0;
  while (open_file(dir_ + "/many", 0x1 | 0x200) >= 0) ++opened;
  EXPECT_EQ(opened, 29);      // 32 slots minus stdin/stdout/stderr
  EXPECT_EQ(regs_.r[4], 24);  // EMFILE
}

TEST_F(SemihostingTest, ClosingStdoutDoesNotCloseTheHostFd) {
  regs_.r[2] = 1;
  call(0x402);
  EXPECT_EQ(regs_.r[0], 0);
  EXPECT_NE(fcntl(out_pipe_[1], F_GETFD), -1);
  regs_.r[2] = 1;
  regs_.set_pair(3, 0x100);
  regs_.r[5] = 1;
  call(0x404);
  EXPECT_EQ(regs_.r[0], 0xffff);  // fd 1 is gone for the guest
}

TEST_F(SemihostingTest, TimeUsesTheTimeSource) {
  semihosting_->set_time_source([] { return int64_t{0x12345678}; });
  call(0x300);
  EXPECT_EQ(regs_.pair(0), 0x12345678u);
}

TEST_F(SemihostingTest, GetenvReturnsNull) {
  regs_.set_pair(0, 0x408);
  regs_.r[1] = 0;
  call(0x408);
  EXPECT_EQ(regs_.pair(0), 0u);
}

TEST_F(SemihostingTest, ExitReportsStatus) {
  regs_.r[2] = 3;
  SemihostOutcome outcome = call(0x410);
  ASSERT_TRUE(outcome.exit_status.has_value());
  EXPECT_EQ(*outcome.exit_status, 3);
  regs_.r[2] = 0xffff;  // exit(-1)
  EXPECT_EQ(*call(0x410).exit_status, 255);
}

TEST_F(SemihostingTest, TrapServicesEndTheProgram) {
  SemihostOutcome outcome = call(0x50a);
  ASSERT_TRUE(outcome.exit_status.has_value());
  EXPECT_EQ(*outcome.exit_status, 1);
}

TEST_F(SemihostingTest, UnknownCallReturnsEnosys) {
  SemihostOutcome outcome = call(0x999);
  EXPECT_TRUE(outcome.handled);
  EXPECT_FALSE(outcome.exit_status.has_value());
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 88);  // newlib ENOSYS
}

TEST(SemihostingErrno, TranslatesToNewlibNumbers) {
  EXPECT_EQ(newlib_errno(0), 0);
  EXPECT_EQ(newlib_errno(ENOENT), 2);
  EXPECT_EQ(newlib_errno(EACCES), 13);
  EXPECT_EQ(newlib_errno(ENOSYS), 88);
  EXPECT_EQ(newlib_errno(ENAMETOOLONG), 91);
  EXPECT_EQ(newlib_errno(EOWNERDEAD), 5);  // unknown -> EIO
}

}  // namespace
}  // namespace cr16::system
