// Internal to io/: writev() on a pipe without the process-killing SIGPIPE
// when the reader is gone (sockets use MSG_NOSIGNAL instead).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

namespace cr16::io::detail {

/// writev(2) with SIGPIPE blocked for the calling thread; a SIGPIPE raised
/// by this write is consumed, so a closed reader shows up only as EPIPE.
ssize_t writev_without_sigpipe(int fd, const iovec* iov, int count);

}  // namespace cr16::io::detail
