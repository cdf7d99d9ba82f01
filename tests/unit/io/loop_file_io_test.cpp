// Loop file I/O runs off the loop thread: a read whose destination page
// faults into userfaultfd (so the read blocks in the kernel until the test
// resolves the fault) must not stop timers from firing on the loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "io/loop.h"
#include "tests/unit/io/io_test_util.h"

namespace cr16::io {
namespace {

// One anonymous page whose first touch waits for the test (userfaultfd).
class FaultingPage {
 public:
  FaultingPage() {
    size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    uffd_ = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    if (uffd_ < 0) return;
    uffdio_api api{};
    api.api = UFFD_API;
    if (ioctl(uffd_, UFFDIO_API, &api) != 0) return;
    void* page = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;
    page_ = static_cast<char*>(page);
    uffdio_register registration{};
    registration.range.start = reinterpret_cast<uint64_t>(page_);
    registration.range.len = size_;
    registration.mode = UFFDIO_REGISTER_MODE_MISSING;
    ready_ = ioctl(uffd_, UFFDIO_REGISTER, &registration) == 0;
  }
  ~FaultingPage() {
    if (page_) munmap(page_, size_);
    if (uffd_ >= 0) close(uffd_);
  }
  bool ready() const { return ready_; }
  char* data() { return page_; }
  // True once a thread waits on the page (a fault event is queued).
  bool fault_pending(int timeout_ms) {
    pollfd entry{uffd_, POLLIN, 0};
    return poll(&entry, 1, timeout_ms) == 1;
  }
  // Maps a zero page: the waiting thread goes on.
  bool resolve() {
    uffd_msg message{};
    if (read(uffd_, &message, sizeof message) != sizeof message) return false;
    uffdio_zeropage zero{};
    zero.range.start = reinterpret_cast<uint64_t>(page_);
    zero.range.len = size_;
    return ioctl(uffd_, UFFDIO_ZEROPAGE, &zero) == 0;
  }

 private:
  size_t size_ = 0;
  int uffd_ = -1;
  char* page_ = nullptr;
  bool ready_ = false;
};

TEST(LoopFileIo, EpollFileReadsDoNotBlockTheLoopThread) {
  FaultingPage page;
  if (!page.ready()) GTEST_SKIP() << "userfaultfd is not available here";
  TempFile file;
  const std::string text = "read off the loop thread";
  ASSERT_EQ(pwrite(file.fd(), text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  auto created = Loop::create(LoopBackend::kEpoll);
  ASSERT_TRUE(created.ok()) << created.error().message();
  Loop& loop = **created;

  bool read_done = false;
  loop.submit_read(file.fd(), page.data(), text.size(), 0, [&](Expected<size_t> result) {
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_EQ(*result, text.size());
    read_done = true;
  });
  // The read now waits in the kernel on the page; the loop must still run.
  ASSERT_TRUE(page.fault_pending(5000));
  bool timer_fired = false;
  loop.add_timer(ClockType::kRealtime, loop.now(ClockType::kRealtime) + 1000000,
                 [&] { timer_fired = true; });
  for (int i = 0; i < 100 && !timer_fired; ++i) loop.run_once(100000000);
  EXPECT_TRUE(timer_fired);
  EXPECT_FALSE(read_done);
  EXPECT_EQ(loop.pending_file_io(), 1u);

  ASSERT_TRUE(page.resolve());
  for (int i = 0; i < 100 && !read_done; ++i) loop.run_once(100000000);
  ASSERT_TRUE(read_done);
  EXPECT_EQ(std::string(page.data(), text.size()), text);
}

TEST(LoopFileIo, WritesOnOneFdCompleteInSubmissionOrder) {
  // The epoll worker performs jobs in order: overlapping writes end with the
  // last one's bytes.
  TempFile file;
  auto created = Loop::create(LoopBackend::kEpoll);
  ASSERT_TRUE(created.ok());
  Loop& loop = **created;
  std::vector<std::string> versions;
  for (int i = 0; i < 50; ++i)
    versions.push_back(std::string(4096, static_cast<char>('a' + i % 26)));
  int done = 0;
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) {
    loop.submit_write(file.fd(), versions[i].data(), versions[i].size(), 0,
                      [&, i](Expected<size_t> result) {
                        EXPECT_TRUE(result.ok());
                        order.push_back(i);
                        ++done;
                      });
  }
  for (int i = 0; i < 1000 && done < 50; ++i) loop.run_once(100000000);
  ASSERT_EQ(done, 50);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
  std::string back(4096, '\0');
  ASSERT_EQ(pread(file.fd(), back.data(), back.size(), 0), 4096);
  EXPECT_EQ(back, versions.back());
}

}  // namespace
}  // namespace cr16::io
