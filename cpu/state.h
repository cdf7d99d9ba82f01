// CR16C architectural state and its state description (util/state.h): one
// table of named, versioned fields used by migration, snapshots, `info
// registers` and QMP. The description is data: the engine in migration/
// walks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "util/error.h"
#include "util/state.h"

namespace cr16 {

/// PSR bits (PRM 2.3.4).
namespace psr {
inline constexpr uint16_t kC = 1u << 0;   // carry
inline constexpr uint16_t kT = 1u << 1;   // trace enable
inline constexpr uint16_t kL = 1u << 2;   // low (unsigned compare)
inline constexpr uint16_t kU = 1u << 3;   // user mode
inline constexpr uint16_t kF = 1u << 5;   // flag / overflow
inline constexpr uint16_t kZ = 1u << 6;   // zero
inline constexpr uint16_t kN = 1u << 7;   // negative (signed compare)
inline constexpr uint16_t kE = 1u << 9;   // local maskable-interrupt enable
inline constexpr uint16_t kP = 1u << 10;  // trace trap pending
inline constexpr uint16_t kI = 1u << 11;  // global maskable-interrupt enable
/// Bits that exist; the others read as zero.
inline constexpr uint16_t kImplemented = kC | kT | kL | kU | kF | kZ | kN | kE | kP | kI;
/// Value after reset (PRM 3.5).
inline constexpr uint16_t kResetValue = kE;
}  // namespace psr

/// CFG bits (PRM 2.3.5).
namespace cfg {
inline constexpr uint16_t kDc = 1u << 2;
inline constexpr uint16_t kLdc = 1u << 3;
inline constexpr uint16_t kIc = 1u << 4;
inline constexpr uint16_t kLic = 1u << 5;
inline constexpr uint16_t kEd = 1u << 8;  // 32-bit dispatch-table entries
inline constexpr uint16_t kSr = 1u << 9;  // short (CR16B-style) register pairs
inline constexpr uint16_t kImplemented = kDc | kLdc | kIc | kLic | kEd | kSr;
}  // namespace cfg

/// Asynchronous requests latched in CpuState::events_pending until taken.
namespace event {
inline constexpr uint8_t kNmi = 1u << 0;    // NMI edge
inline constexpr uint8_t kDebug = 1u << 1;  // debug request (DBG exception)
inline constexpr uint8_t kIse = 1u << 2;    // In-System-Emulator request (ISE exception)
inline constexpr uint8_t kAll = kNmi | kDebug | kIse;
}  // namespace event

/// Register indices into CpuState::r.
inline constexpr unsigned kRegR12 = 12, kRegR13 = 13, kRegRa = 14, kRegSp = 15;

/// The CR16C programmer-visible state plus the few bits of run state that a
/// snapshot must carry (sleeping, pending NMI/DBG/ISE requests, the count of
/// retired instructions that -icount time is made of).
///
/// r[0..11] hold 16-bit values (upper bits always 0); r[12..15] are 32-bit
/// (r12, r13, ra, sp). r[15] is the *active* stack pointer: the supervisor SP
/// when PSR.U=0, the user SP when PSR.U=1; `banked_sp` holds the other one.
/// Use user_sp() / supervisor_sp() to read them by name.
///
/// No padding (checked below), so the state description can be proven to
/// cover every byte.
struct CpuState {
  uint32_t r[16] = {};
  uint32_t pc = 0;  // 24 bits, bit 0 = 0
  uint16_t psr = psr::kResetValue;
  uint16_t cfg = 0;
  uint32_t isp = 0;        // interrupt stack pointer (24 bits, even)
  uint32_t banked_sp = 0;  // inactive stack pointer, see above
  uint32_t intbase = 0;    // dispatch table base (24 bits, even)
  uint16_t dbs = 0, dsr = 0;
  uint32_t dcr = 0, car0 = 0, car1 = 0;
  uint16_t halted = 0;          // 1 while sleeping in wait/eiwait
  uint16_t events_pending = 0;  // latched edges not taken yet: event::kNmi | kDebug | kIse
  uint64_t icount = 0;          // instructions retired since the CPU was created

  /// The user stack pointer regardless of the current mode.
  uint32_t user_sp() const { return (psr & psr::kU) ? r[kRegSp] : banked_sp; }
  /// The supervisor stack pointer regardless of the current mode.
  uint32_t supervisor_sp() const { return (psr & psr::kU) ? banked_sp : r[kRegSp]; }
};
static_assert(std::has_unique_object_representations_v<CpuState>,
              "CpuState must have no padding: the state description covers every byte");

/// The description of CpuState (section "cpu", version 1): every register by
/// name (r0..r11 limited to 16 bits, PC/ISP/INTBASE 24-bit even, PSR/CFG to
/// their implemented bits), the run-state bits and icount. Its post_load
/// refuses a candidate that breaks an invariant the interpreter relies on.
const StateDescription& cpu_state_description();

/// "r0=0000 r1=... pc=..." one line per few registers, for -d cpu and
/// `info registers`.
std::string format_cpu_state(const CpuState& state);

}  // namespace cr16
