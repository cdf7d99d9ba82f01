// The JIT's code memory: one anonymous shared memory object mapped twice,
// written through one view and executed through the other (W^X without a
// protection change per block).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cr16::jit {

/// Two views of one anonymous shared memory object: the code is written
/// through `rw` and executed through `rx`, so no page is ever writable and
/// executable and no protection changes per block. Empty (rw == nullptr)
/// when the host refuses (the emitter then flips the pages of each block).
struct DualMapping {
  explicit DualMapping(size_t bytes);
  ~DualMapping();
  DualMapping(const DualMapping&) = delete;
  DualMapping& operator=(const DualMapping&) = delete;

  uint8_t* rw = nullptr;
  uint8_t* rx = nullptr;
  size_t mapped_bytes = 0;
};

}  // namespace cr16::jit
