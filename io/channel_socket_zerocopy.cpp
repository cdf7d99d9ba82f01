// Zero-copy sends on the socket channel: enabling SO_ZEROCOPY, reading
// completions from MSG_ERRQUEUE, flush(), and the ENOBUFS error.
#include <time.h>
// linux/errqueue.h needs struct timespec declared first.
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "io/channel_socket.h"

namespace cr16::io {

Error zero_copy_enobufs_error(bool recovery_attempted) {
  return Error(std::string("cannot lock enough memory for MSG_ZEROCOPY (sendmsg failed with "
                           "ENOBUFS") +
                   (recovery_attempted ? " again after flushing the error queue" : "") +
                   "); raise RLIMIT_MEMLOCK / net.core.optmem_max",
               ENOBUFS);
}

Error SocketChannel::enable_zero_copy() {
  if (!fd_.valid()) return closed_error();
  if (family_ != AF_INET && family_ != AF_INET6) {
    return Error("zero-copy writes need a TCP socket", ENOTSUP);
  }
  int one = 1;
  if (setsockopt(fd_.get(), SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) < 0) {
    return Error::from_errno("setsockopt(SO_ZEROCOPY)", errno);
  }
  add_features(kFeatureWriteZeroCopy);
  return Error();
}

Error SocketChannel::account_completion(msghdr& message) {
  const sock_extended_err* report = nullptr;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    bool is_recverr = (header->cmsg_level == SOL_IP && header->cmsg_type == IP_RECVERR) ||
                      (header->cmsg_level == SOL_IPV6 && header->cmsg_type == IPV6_RECVERR);
    if (is_recverr) {
      report = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(header));
      break;
    }
  }
  if (report == nullptr) {
    return Error("error queue message of '" + name() + "' carries no IP_RECVERR report", EPROTO);
  }
  if (report->ee_origin != SO_EE_ORIGIN_ZEROCOPY || report->ee_errno != 0) {
    return Error("unexpected error queue report on '" + name() + "' (origin " +
                     std::to_string(report->ee_origin) + ", errno " +
                     std::to_string(report->ee_errno) + ")",
                 report->ee_errno != 0 ? static_cast<int>(report->ee_errno) : EPROTO);
  }
  uint32_t first = report->ee_info;
  uint32_t last = report->ee_data;
  if (first > last) {
    return Error("malformed zero-copy completion range " + std::to_string(first) + ".." +
                     std::to_string(last),
                 EPROTO);
  }
  zero_copy_.completed += uint64_t{last} - first + 1;
  if (!(report->ee_code & SO_EE_CODE_ZEROCOPY_COPIED)) real_zero_copy_since_flush_ = true;
  return Error();
}

Error SocketChannel::drain_error_queue(bool block) {
  while (zero_copy_.completed < zero_copy_.queued) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sock_extended_err) + sizeof(sockaddr_in6))];
    msghdr message{};
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t result = ::recvmsg(fd_.get(), &message, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (result >= 0) {
      Error error = account_completion(message);
      if (!error.ok()) return error;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Error::from_errno("recvmsg(MSG_ERRQUEUE) on '" + name() + "'", errno);
    }
    if (!block) return Error();
    // Completions arrive as POLLERR (always reported, so ask for nothing else).
    pollfd entry{fd_.get(), 0, 0};
    int ready = ::poll(&entry, 1, 1000);
    if (ready < 0 && errno != EINTR) return Error::from_errno("poll", errno);
    if (ready > 0 && (entry.revents & (POLLHUP | POLLNVAL | POLLERR))) {
      int socket_error = 0;
      socklen_t length = sizeof socket_error;
      getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &socket_error, &length);
      if (socket_error != 0) {
        return Error::from_errno("connection '" + name() + "' failed with zero-copy sends pending",
                                 socket_error);
      }
      if ((entry.revents & (POLLHUP | POLLNVAL)) && !(entry.revents & POLLERR)) {
        return Error("connection '" + name() + "' closed with " +
                         std::to_string(zero_copy_.queued - zero_copy_.completed) +
                         " zero-copy sends pending",
                     EPIPE);
      }
    }
  }
  return Error();
}

Expected<FlushResult> SocketChannel::flush() {
  if (!fd_.valid()) return closed_error();
  if (!sent_since_flush_ && zero_copy_.completed == zero_copy_.queued) {
    return FlushResult::kNothingQueued;
  }
  Error error = drain_error_queue(true);
  if (!error.ok()) return error;
  FlushResult result = real_zero_copy_since_flush_ ? FlushResult::kCompleted : FlushResult::kCopied;
  if (result == FlushResult::kCopied) ++zero_copy_.copied_flushes;
  sent_since_flush_ = false;
  real_zero_copy_since_flush_ = false;
  return result;
}

}  // namespace cr16::io
