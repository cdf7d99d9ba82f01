// A flat-RAM Bus for CPU tests: 16 MiB of RAM through fast pointers, except
// an MMIO window at 0xFF0000-0xFFFFFF (slow path: RAM-backed but not RAM for
// is_ram(), except the interrupt-acknowledge byte and a bus-error hole),
// code pages being watched (writes go through write_slow and are reported)
// and pages with debugger watch bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "cpu/bus.h"

namespace cr16::test {

class TestBus : public Bus {
 public:
  static constexpr uint32_t kMmioStart = 0xFF0000;
  static constexpr uint32_t kBusErrorStart = 0xFF8000;  // 0xFF8000-0xFF8FFF: no device
  static constexpr uint32_t kBusErrorEnd = 0xFF9000;

  TestBus() : memory_(kAddressSpaceSize, 0) {
    for (uint32_t page = 0; page < kPageCount; ++page) {
      if ((page << kPageBits) >= kMmioStart) continue;
      read_page[page] = &memory_[page << kPageBits];
      write_page[page] = &memory_[page << kPageBits];
    }
  }

  BusStatus read_slow(uint32_t address, AccessSize size, uint32_t* value) override {
    if (address >= kBusErrorStart && address < kBusErrorEnd) return BusStatus::kBusError;
    if (address < kMmioStart) ++slow_reads;
    if (address == 0xFFFE00 && size == AccessSize::kByte) {
      ++acknowledges;
      *value = interrupt_vector;
      return BusStatus::kOk;
    }
    uint32_t v = 0;
    std::memcpy(&v, &memory_[address], static_cast<size_t>(size));
    *value = v;
    return BusStatus::kOk;
  }

  BusStatus write_slow(uint32_t address, AccessSize size, uint32_t value) override {
    if (address >= kBusErrorStart && address < kBusErrorEnd) return BusStatus::kBusError;
    std::memcpy(&memory_[address], &value, static_cast<size_t>(size));
    const uint32_t page = address >> kPageBits;
    if (address < kMmioStart) ++slow_writes;
    if (watched_.erase(page)) {
      refresh_fast_path(page);
      ++code_writes;
      if (code_listener_) code_listener_->code_page_written(page);
    }
    return BusStatus::kOk;
  }

  /// Like read_slow, but the acknowledge byte does not count an acknowledge.
  BusStatus peek(uint32_t address, AccessSize size, uint32_t* value) override {
    if (address >= kBusErrorStart && address < kBusErrorEnd) return BusStatus::kBusError;
    if (address == 0xFFFE00 && size == AccessSize::kByte) {
      *value = interrupt_vector;
      return BusStatus::kOk;
    }
    uint32_t v = 0;
    std::memcpy(&v, &memory_[address], static_cast<size_t>(size));
    *value = v;
    return BusStatus::kOk;
  }

  /// RAM is everything below the MMIO window.
  bool is_ram(uint32_t address, uint32_t length) const override {
    return uint64_t{address} + length <= kMmioStart;
  }

  void watch_code_page(uint32_t page_index) override {
    watched_.insert(page_index);
    write_page[page_index] = nullptr;
  }

  // Host-side helpers (bypass the bus; do not notify).
  void poke16(uint32_t address, uint16_t value) { std::memcpy(&memory_[address], &value, 2); }
  void poke32(uint32_t address, uint32_t value) { std::memcpy(&memory_[address], &value, 4); }
  void poke8(uint32_t address, uint8_t value) { memory_[address] = value; }
  uint16_t peek16(uint32_t address) const {
    uint16_t v;
    std::memcpy(&v, &memory_[address], 2);
    return v;
  }
  uint32_t peek32(uint32_t address) const {
    uint32_t v;
    std::memcpy(&v, &memory_[address], 4);
    return v;
  }
  uint8_t peek8(uint32_t address) const { return memory_[address]; }
  /// Writes instruction words starting at address (host side, no notification).
  void load_words(uint32_t address, const std::vector<uint16_t>& words) {
    for (size_t i = 0; i < words.size(); ++i)
      poke16(address + 2 * static_cast<uint32_t>(i), words[i]);
  }
  bool watched(uint32_t page) const { return watched_.count(page) != 0; }
  /// All 16 MiB (lock-step comparisons).
  const std::vector<uint8_t>& memory() const { return memory_; }

  uint8_t interrupt_vector = 16;
  int acknowledges = 0;
  int code_writes = 0;
  int slow_reads = 0;   // read_slow calls below the MMIO window
  int slow_writes = 0;  // write_slow calls below the MMIO window

 protected:
  void refresh_fast_path(uint32_t page) override {
    const bool ram = (page << kPageBits) < kMmioStart;
    uint8_t* host = ram ? &memory_[page << kPageBits] : nullptr;
    read_page[page] = (page_watch_[page] & page_watch::kRead) ? nullptr : host;
    write_page[page] =
        (page_watch_[page] & page_watch::kWrite) || watched_.count(page) ? nullptr : host;
  }

 private:
  std::vector<uint8_t> memory_;
  std::set<uint32_t> watched_;
};

}  // namespace cr16::test
