#include "io/tls_pending_input.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace cr16::io {

Expected<std::unique_ptr<PendingInputSignal>> PendingInputSignal::create(int master_read_fd) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error::from_errno("pending-input signal: epoll_create1", errno);
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) return Error::from_errno("pending-input signal: eventfd", errno);
  epoll_event interest{};
  interest.events = EPOLLIN;
  interest.data.fd = event.get();
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, event.get(), &interest) != 0) {
    return Error::from_errno("pending-input signal: epoll_ctl", errno);
  }
  interest.data.fd = master_read_fd;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, master_read_fd, &interest) != 0) {
    return Error::from_errno("pending-input signal: epoll_ctl", errno);
  }
  return std::unique_ptr<PendingInputSignal>(
      new PendingInputSignal(std::move(epoll), std::move(event)));
}

void PendingInputSignal::set(bool pending) {
  if (pending == pending_) return;
  uint64_t value = 1;
  if (pending) {
    if (::write(event_.get(), &value, sizeof value) != sizeof value) return;
  } else {
    if (::read(event_.get(), &value, sizeof value) < 0 && errno != EAGAIN) return;
  }
  pending_ = pending;
}

}  // namespace cr16::io
