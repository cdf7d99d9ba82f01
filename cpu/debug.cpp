// The debugger's view of the CPU: side-effect-free reads, writes that do not
// trigger watchpoints, breakpoints and watchpoints.
#include <algorithm>
#include <cstdio>

#include "cpu/cpu.h"

namespace cr16 {
namespace {

Error access_error(const char* verb, uint32_t address, unsigned bytes) {
  char text[96];
  std::snprintf(text, sizeof text, "cannot %s %u byte%s at guest address 0x%x", verb, bytes,
                bytes == 1 ? "" : "s", address);
  return Error(text);
}

bool fits(uint32_t address, uint64_t length) {
  return address <= kAddressMask && uint64_t{address} + length <= kAddressSpaceSize;
}

bool overlaps(uint32_t a, uint64_t a_length, uint32_t b, uint64_t b_length) {
  return a < b + b_length && b < a + a_length;
}

}  // namespace

// ---- Memory.

Expected<uint32_t> Cpu::debug_read(uint32_t address, AccessSize size) {
  const auto bytes = static_cast<unsigned>(size);
  if (!fits(address, bytes)) return access_error("read", address, bytes);
  const uint32_t offset = address & (kPageSize - 1);
  if (offset + bytes > kPageSize) {
    // Straddles two pages: byte by byte, little-endian.
    uint32_t value = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      Expected<uint32_t> byte = debug_read(address + i, AccessSize::kByte);
      if (!byte.ok()) return access_error("read", address, bytes);
      value |= *byte << (8 * i);
    }
    return value;
  }
  if (const uint8_t* host = bus_.read_page[address >> kPageBits]) {
    uint32_t value = 0;
    std::memcpy(&value, host + offset, bytes);
    return value;
  }
  uint32_t value = 0;
  if (bus_.peek(address, size, &value) != BusStatus::kOk) {
    return access_error("read", address, bytes);
  }
  return value;
}

Error Cpu::debug_read_block(uint32_t address, uint8_t* data, size_t length) {
  if (!fits(address, length)) return access_error("read", address, static_cast<unsigned>(length));
  size_t done = 0;
  while (done < length) {
    const uint32_t at = address + static_cast<uint32_t>(done);
    const uint32_t page = at >> kPageBits;
    const size_t chunk = std::min<size_t>(kPageSize - (at & (kPageSize - 1)), length - done);
    if (const uint8_t* host = bus_.read_page[page]) {
      std::memcpy(data + done, host + (at & (kPageSize - 1)), chunk);
      done += chunk;
      continue;
    }
    Expected<uint32_t> byte = debug_read(at, AccessSize::kByte);
    if (!byte.ok()) return byte.error();
    data[done++] = static_cast<uint8_t>(*byte);
  }
  return Error();
}

Error Cpu::debug_write(uint32_t address, AccessSize size, uint32_t value) {
  const auto bytes = static_cast<unsigned>(size);
  if (!fits(address, bytes)) return access_error("write", address, bytes);
  const uint32_t offset = address & (kPageSize - 1);
  if (offset + bytes > kPageSize) {
    for (unsigned i = 0; i < bytes; ++i) {
      Error error = debug_write(address + i, AccessSize::kByte, (value >> (8 * i)) & 0xFFu);
      if (!error.ok()) return access_error("write", address, bytes);
    }
    return Error();
  }
  if (uint8_t* host = bus_.write_page[address >> kPageBits]) {
    std::memcpy(host + offset, &value, bytes);
    return Error();
  }
  // The bus's slow path, not the CPU's: no watchpoint sees the debugger.
  if (bus_.write_slow(address, size, value) != BusStatus::kOk) {
    return access_error("write", address, bytes);
  }
  return Error();
}

Error Cpu::debug_write_block(uint32_t address, const uint8_t* data, size_t length) {
  if (!fits(address, length)) {
    return access_error("write", address, static_cast<unsigned>(length));
  }
  for (size_t i = 0; i < length; ++i) {
    Error error = debug_write(address + static_cast<uint32_t>(i), AccessSize::kByte, data[i]);
    if (!error.ok()) return error;
  }
  return Error();
}

// ---- Breakpoints.

Error Cpu::set_breakpoint(uint32_t address) {
  if (address > kAddressMask || (address & 1u)) {
    char text[96];
    std::snprintf(text, sizeof text,
                  "breakpoint address 0x%x is not an instruction address (even, below 0x1000000)",
                  address);
    return Error(text);
  }
  const auto at = std::lower_bound(breakpoints_.begin(), breakpoints_.end(), address);
  if (at != breakpoints_.end() && *at == address) return Error();
  breakpoints_.insert(at, address);
  // No translated block may contain or start at the breakpoint.
  engine_->invalidate_page(address >> kPageBits);
  return Error();
}

bool Cpu::clear_breakpoint(uint32_t address) {
  const auto at = std::lower_bound(breakpoints_.begin(), breakpoints_.end(), address);
  if (at == breakpoints_.end() || *at != address) return false;
  breakpoints_.erase(at);
  // Blocks of that page ended early because of it: let them grow again.
  engine_->invalidate_page(address >> kPageBits);
  if (resume_armed_ && resume_pc_ == address) resume_armed_ = false;
  return true;
}

void Cpu::clear_breakpoints() {
  while (!breakpoints_.empty()) clear_breakpoint(breakpoints_.back());
}

bool Cpu::breakpoint_lookup(uint32_t address) const {
  return std::binary_search(breakpoints_.begin(), breakpoints_.end(), address);
}

// ---- Watchpoints.

Error Cpu::set_watchpoint(uint32_t address, uint32_t length, WatchKind kind) {
  if (length == 0 || !fits(address, length)) {
    char text[96];
    std::snprintf(text, sizeof text, "watchpoint 0x%x+%u lies outside the 24-bit address space",
                  address, length);
    return Error(text);
  }
  if (kind != WatchKind::kRead && kind != WatchKind::kWrite && kind != WatchKind::kAccess) {
    return Error("unknown watchpoint kind");
  }
  for (const Watchpoint& w : watchpoints_) {
    if (w.address == address && w.length == length && w.kind == kind) return Error();
  }
  const bool first = watchpoints_.empty();
  watchpoints_.push_back(Watchpoint{address, length, kind});
  update_page_watch(address >> kPageBits, (address + length - 1) >> kPageBits);
  // Translations made without watchpoints run several memory instructions
  // per block; from now on each ends its block (see ExecutionEngine).
  if (first) engine_->flush();
  return Error();
}

bool Cpu::clear_watchpoint(uint32_t address, uint32_t length, WatchKind kind) {
  for (auto it = watchpoints_.begin(); it != watchpoints_.end(); ++it) {
    if (it->address != address || it->length != length || it->kind != kind) continue;
    watchpoints_.erase(it);
    update_page_watch(address >> kPageBits, (address + length - 1) >> kPageBits);
    if (watchpoints_.empty()) engine_->flush();  // back to full-length blocks
    return true;
  }
  return false;
}

void Cpu::clear_watchpoints() {
  while (!watchpoints_.empty()) {
    const Watchpoint w = watchpoints_.back();
    clear_watchpoint(w.address, w.length, w.kind);
  }
}

void Cpu::update_page_watch(uint32_t first_page, uint32_t last_page) {
  for (uint32_t page = first_page; page <= last_page; ++page) {
    const uint32_t start = page << kPageBits;
    uint8_t bits = page_watch::kNone;
    for (const Watchpoint& w : watchpoints_) {
      if (!overlaps(start, kPageSize, w.address, w.length)) continue;
      const auto kind = static_cast<uint8_t>(w.kind);
      if (kind & static_cast<uint8_t>(WatchKind::kRead)) bits |= page_watch::kRead;
      if (kind & static_cast<uint8_t>(WatchKind::kWrite)) bits |= page_watch::kWrite;
    }
    bus_.set_page_watch(page, bits);
  }
}

void Cpu::check_watchpoints(uint32_t address, unsigned bytes, WatchKind access) {
  if (attention_ & kAttentionWatchpoint) return;  // the first hit of an instruction wins
  const auto access_bit = static_cast<uint8_t>(access);
  for (const Watchpoint& w : watchpoints_) {
    if (!(static_cast<uint8_t>(w.kind) & access_bit)) continue;
    if (!overlaps(address, bytes, w.address, w.length)) continue;
    stop_ = DebugStop{};
    stop_.reason = StopReason::kWatchpoint;
    stop_.address = w.address;
    stop_.access_address = address;
    stop_.access_bytes = static_cast<uint8_t>(bytes);
    stop_.access = access;
    stop_.watch_kind = w.kind;
    attention_ |= kAttentionWatchpoint;
    return;
  }
}

}  // namespace cr16
