// Guest registers in host registers within one translated block. The
// emitter asks for a guest register (or a register pair, or the PSR) and gets
// a host register holding it; the cache loads it from CpuState on first use,
// remembers which values were changed, and writes them back where code
// outside the block could look at CpuState: exits, handler calls and slow
// paths. Its allocation decisions are made at translation time: each call
// emits the loads, stores and moves the decision needs.
#pragma once

#include <xbyak/xbyak.h>

#include <array>
#include <cstdint>

namespace cr16::jit {

/// What one host register of the pool holds.
struct CachedValue {
  enum class Kind : uint8_t {
    kFree,
    kSlot,  // r[index] as stored in CpuState (32 bits; r0..r11 below 0x10000)
    kPair,  // r[index] | r[index + 1] << 16 (index 0..10)
    kPsr,   // the PSR, zero-extended
  };
  Kind kind = Kind::kFree;
  uint8_t index = 0;
  bool dirty = false;  // differs from CpuState: written back before others look
  uint32_t last_use = 0;
};

class RegisterCache {
 public:
  /// Host registers of the pool: caller-saved (rsi, rdi, r9-r11) and rbp
  /// (saved by the translation's prologue). rax, rcx and rdx stay the
  /// emitter's scratch; r8 is the cache's own for write-backs.
  static constexpr unsigned kPoolSize = 6;
  using State = std::array<CachedValue, kPoolSize>;

  explicit RegisterCache(Xbyak::CodeGenerator& code) : code_(code) {}

  /// A new block: nothing cached.
  void reset();

  // ---- Guest registers r0..sp (slots).

  /// A host register holding r[index]; a half of a cached pair is copied
  /// to `scratch` (which is then returned). Read only.
  Xbyak::Reg32 read(unsigned index, const Xbyak::Reg32& scratch);
  /// A host register holding r[index] whose low 8 or 16 bits the caller
  /// changes (the rest must stay); marked changed. The low half of a cached
  /// pair is changed in place.
  Xbyak::Reg32 modify(unsigned index);
  /// A host register for r[index] that the caller overwrites whole (32 bits;
  /// r0..r11 only with a value below 0x10000); not loaded.
  Xbyak::Reg32 overwrite(unsigned index);

  // ---- Pairs (codes 0..10: two 16-bit registers; 12..15: r12, r13, ra, sp
  // whole, CFG.SR checked by the caller; code 11 is never asked for).

  /// A host register holding the pair's 32-bit value. Read only.
  Xbyak::Reg32 read_pair(unsigned code);
  /// The pair's value, to be changed (all 32 bits); marked changed.
  Xbyak::Reg32 modify_pair(unsigned code);
  /// A host register the caller overwrites with the pair's new value.
  Xbyak::Reg32 overwrite_pair(unsigned code);

  // ---- The PSR (zero-extended 16 bits).

  Xbyak::Reg32 psr();
  /// The PSR, to be changed (bits 16..31 must stay 0); marked changed.
  Xbyak::Reg32 modify_psr();

  // ---- Where code outside the block may look at CpuState.

  /// The current decisions (a slow path records them where it branches off
  /// and where it rejoins).
  const State& state() const { return state_; }
  /// Emits the write-back of every changed value of `state` (flags of the
  /// host are clobbered). The cache's own state does not change.
  void emit_store(const State& state);
  /// Write-back of every changed value, which then counts as unchanged:
  /// before a block exit (no code of this block runs after it on that path).
  void store_all();
  /// Write-back and nothing cached any more: before a call of an
  /// interpreter handler (it reads and writes CpuState; the pool is
  /// caller-saved).
  void spill_all();
  /// Emits loads of every value `state` holds, from CpuState (after a
  /// handler call, on a slow path that rejoins the fast path in `state`).
  void emit_load(const State& state);
  /// Takes `state`'s decisions as the current ones (a path that continues
  /// elsewhere in the emitted code), every value counted as changed when
  /// `dirty`.
  void set_state(const State& state, bool dirty);
  /// The same guest values in the same host registers (changes aside).
  static bool same_values(const State& a, const State& b);

  static const Xbyak::Reg32& host(unsigned slot);

 private:
  /// Host register number holding the slot `index` (whole, or as a pair
  /// half: *part = 0 whole, 1 low half, 2 high half); -1 if none.
  int find_slot(unsigned index, int* part) const;
  int find_kind(CachedValue::Kind kind, unsigned index) const;
  /// A free pool register (evicting the least recently used value, written
  /// back if changed), never one of `pinned_a`/`pinned_b`.
  unsigned allocate(int pinned_a = -1, int pinned_b = -1);
  /// A pool register now holding `kind`/`index` (loaded from CpuState when
  /// `load`).
  Xbyak::Reg32 take(CachedValue::Kind kind, unsigned index, bool dirty, bool load);
  /// Writes back (if changed) and forgets the value in host register `slot`.
  void evict(unsigned slot);
  void emit_store_one(const CachedValue& value, const Xbyak::Reg32& reg);
  void emit_load_one(const CachedValue& value, const Xbyak::Reg32& reg);
  void touch(unsigned slot) { state_[slot].last_use = ++clock_; }
  /// The pairs overlapping pair `code` (code-1 holds r[code] as its high
  /// half, code+1 holds r[code+1] as its low half) go back to CpuState.
  void evict_overlapping_pairs(unsigned code);

  Xbyak::CodeGenerator& code_;
  State state_{};
  uint32_t clock_ = 0;
};

}  // namespace cr16::jit
