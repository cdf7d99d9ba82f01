// writev without SIGPIPE.
#include "io/pipe_write.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace cr16::io::detail {

ssize_t writev_without_sigpipe(int fd, const iovec* iov, int count) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  ssize_t result;
  do {
    result = ::writev(fd, iov, count);
  } while (result < 0 && errno == EINTR);
  int saved_errno = errno;
  if (result < 0 && saved_errno == EPIPE && !sigismember(&previous, SIGPIPE)) {
    // The thread-directed SIGPIPE is pending on us now: take it before
    // unblocking so it is never delivered.
    timespec no_wait{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = saved_errno;
  return result;
}

}  // namespace cr16::io::detail
