// Writing a whole buffer to a file descriptor: the retry loop every caller
// that writes a host file (memsave, screendump) would otherwise repeat.
#pragma once

#include <cstdint>
#include <span>

namespace cr16 {

/// Writes all of DATA to FD, retrying after EINTR and short writes. Returns
/// 0, or the errno of the write that failed (EIO for one that wrote
/// nothing). The caller opens and closes FD and words the error.
int write_fully(int fd, std::span<const uint8_t> data);

}  // namespace cr16
