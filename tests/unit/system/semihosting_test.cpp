#include "system/semihosting.h"

#include <fcntl.h>
#include <gtest/gtest.h>
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
class FakeMemory : public SemihostMemory {
 public:
  FakeMemory() : bytes(0x10000, 0) {}
  bool read(uint32_t address, std::span<uint8_t> out) override {
    if (uint64_t{address} + out.size() > bytes.size()) return false;
    std::memcpy(out.data(), bytes.data() + address, out.size());
    return true;
  }
  bool write(uint32_t address, std::span<const uint8_t> in) override {
    if (uint64_t{address} + in.size() > bytes.size()) return false;
    std::memcpy(bytes.data() + address, in.data(), in.size());
    return true;
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
    semihosting_ = std::make_unique<Semihosting>(in_pipe_[0], out_pipe_[1], err_pipe_[1]);
    char pattern[] = "/tmp/semihost-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
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

TEST_F(SemihostingTest, ReadWaitingForInputGivesUpWhenInterrupted) {
  int interrupt[2];
  ASSERT_EQ(pipe(interrupt), 0);
  semihosting_->set_interrupt_fd(interrupt[0]);
  ASSERT_EQ(write(interrupt[1], "!", 1), 1);  // as if SIGINT arrived
  regs_.r[2] = 0;                             // stdin has no data
  regs_.set_pair(3, 0x300);
  regs_.r[5] = 10;
  call(0x403);
  EXPECT_EQ(regs_.r[0], 0xffff);
  EXPECT_EQ(regs_.r[4], 4);  // EINTR
  // With input available the read still works.
  ASSERT_EQ(write(in_pipe_[1], "ok", 2), 2);
  semihosting_->set_interrupt_fd(-1);
  regs_.set_pair(3, 0x300);  // r4 now holds the errno of the last call
  call(0x403);
  EXPECT_EQ(regs_.r[0], 2);
  close(interrupt[0]);
  close(interrupt[1]);
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
