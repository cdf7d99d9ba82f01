// Shared channel checks: the 1 MiB / 250 iovec transfer with a reader and a
// writer thread, blocking or non-blocking (waiting on a loop of a given
// backend).
#pragma once

#include "io/channel.h"
#include "io/loop.h"

namespace cr16::io {

/// Size of the transfer and number of iovecs used on each side.
constexpr size_t kTransferBytes = 1024 * 1024;
constexpr size_t kTransferIovecs = 250;

/// Writes kTransferBytes through `writer` on one thread and reads them from
/// `reader` on another, each with kTransferIovecs iovecs of uneven sizes.
/// Non-blocking mode waits on a per-thread Loop of `backend`. Closes the
/// writer when done. Reports failures through gtest.
void check_threaded_transfer(Channel& writer, Channel& reader, bool blocking, LoopBackend backend);

}  // namespace cr16::io
