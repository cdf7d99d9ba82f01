// Fakes shared by the hw tests: an interrupt sink that records line levels,
// a character backend with a controllable acceptance limit, and a temporary
// directory for image files.
#pragma once

#include <stdlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "hw/chardev.h"
#include "hw/irq.h"

namespace cr16::test {

/// A fresh directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "cr16-hw-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// The whole contents of a file (empty when it cannot be read).
inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class RecordingIrqSink : public IrqSink {
 public:
  void set_irq_level(unsigned source, bool level) override {
    if (source < levels.size()) levels[source] = level;
  }
  std::array<bool, 32> levels{};
};

class FakeCharBackend : public CharBackend {
 public:
  size_t write(std::span<const uint8_t> bytes) override {
    size_t take = bytes.size() < accept_limit ? bytes.size() : accept_limit;
    output.insert(output.end(), bytes.begin(), bytes.begin() + static_cast<long>(take));
    accept_limit -= take;
    return take;
  }
  void attach(CharFrontend* frontend_in) override { frontend = frontend_in; }
  void frontend_ready() override { ++ready_calls; }

  /// Sends as much of `input` as the frontend accepts; returns the count.
  size_t type(std::span<const uint8_t> input) {
    size_t room = frontend->can_receive();
    size_t count = input.size() < room ? input.size() : room;
    if (count > 0) frontend->receive(input.first(count));
    return count;
  }

  size_t accept_limit = SIZE_MAX;
  std::vector<uint8_t> output;
  CharFrontend* frontend = nullptr;
  int ready_calls = 0;
};

inline uint32_t read32(MmioDevice& device, uint32_t offset) {
  return device.read(offset, AccessSize::kDword);
}
inline void write32(MmioDevice& device, uint32_t offset, uint32_t value) {
  device.write(offset, AccessSize::kDword, value);
}

}  // namespace cr16::test
