// Guest registers in host registers within a block (see register_cache.h).
#include "cpu/jit/register_cache.h"

#include <cstddef>

#include "cpu/state.h"

namespace cr16::jit {

namespace {

using Kind = CachedValue::Kind;

/// CpuState is at r12 in a translation (jit_engine.cpp's register use).
Xbyak::Address slot_dword(unsigned index) {
  using namespace Xbyak::util;
  return dword[r12 + static_cast<uint32_t>(offsetof(CpuState, r) + 4 * index)];
}
Xbyak::Address psr_word() {
  using namespace Xbyak::util;
  return word[r12 + static_cast<uint32_t>(offsetof(CpuState, psr))];
}

}  // namespace

const Xbyak::Reg32& RegisterCache::host(unsigned slot) {
  static const Xbyak::Reg32 kPool[kPoolSize] = {Xbyak::util::esi,  Xbyak::util::edi,
                                                Xbyak::util::r9d,  Xbyak::util::r10d,
                                                Xbyak::util::r11d, Xbyak::util::ebp};
  return kPool[slot];
}

void RegisterCache::reset() {
  state_ = State{};
  clock_ = 0;
}

int RegisterCache::find_slot(unsigned index, int* part) const {
  for (unsigned i = 0; i < kPoolSize; ++i) {
    const CachedValue& value = state_[i];
    if (value.kind == Kind::kSlot && value.index == index) {
      *part = 0;
      return static_cast<int>(i);
    }
    if (value.kind == Kind::kPair && value.index == index) {
      *part = 1;
      return static_cast<int>(i);
    }
    if (value.kind == Kind::kPair && value.index + 1u == index) {
      *part = 2;
      return static_cast<int>(i);
    }
  }
  return -1;
}

int RegisterCache::find_kind(Kind kind, unsigned index) const {
  for (unsigned i = 0; i < kPoolSize; ++i) {
    if (state_[i].kind == kind && (kind == Kind::kPsr || state_[i].index == index)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

unsigned RegisterCache::allocate(int pinned_a, int pinned_b) {
  int victim = -1;
  for (unsigned i = 0; i < kPoolSize; ++i) {
    if (static_cast<int>(i) == pinned_a || static_cast<int>(i) == pinned_b) continue;
    if (state_[i].kind == Kind::kFree) return i;
    if (victim < 0 || state_[i].last_use < state_[static_cast<unsigned>(victim)].last_use) {
      victim = static_cast<int>(i);
    }
  }
  evict(static_cast<unsigned>(victim));
  return static_cast<unsigned>(victim);
}

void RegisterCache::evict(unsigned slot) {
  if (state_[slot].dirty) emit_store_one(state_[slot], host(slot));
  state_[slot] = CachedValue{};
}

void RegisterCache::emit_store_one(const CachedValue& value, const Xbyak::Reg32& reg) {
  using namespace Xbyak::util;
  switch (value.kind) {
    case Kind::kFree:
      break;
    case Kind::kSlot:
      code_.mov(slot_dword(value.index), reg);
      break;
    case Kind::kPair:
      // Whole-slot stores: the next block loads each slot as a dword, which
      // the host forwards only from a store at least as wide.
      code_.movzx(r8d, reg.cvt16());
      code_.mov(slot_dword(value.index), r8d);
      code_.mov(r8d, reg);
      code_.shr(r8d, 16);
      code_.mov(slot_dword(value.index + 1u), r8d);
      break;
    case Kind::kPsr:
      code_.mov(psr_word(), reg.cvt16());
      break;
  }
}

void RegisterCache::emit_load_one(const CachedValue& value, const Xbyak::Reg32& reg) {
  switch (value.kind) {
    case Kind::kFree:
      break;
    case Kind::kSlot:
      code_.mov(reg, slot_dword(value.index));
      break;
    case Kind::kPair:
      code_.mov(reg, slot_dword(value.index + 1u));
      code_.shl(reg, 16);
      code_.or_(reg, slot_dword(value.index));
      break;
    case Kind::kPsr:
      code_.movzx(reg, psr_word());
      break;
  }
}

Xbyak::Reg32 RegisterCache::take(Kind kind, unsigned index, bool dirty, bool load) {
  const unsigned slot = allocate();
  state_[slot] = CachedValue{kind, static_cast<uint8_t>(index), dirty, 0};
  touch(slot);
  if (load) emit_load_one(state_[slot], host(slot));
  return host(slot);
}

Xbyak::Reg32 RegisterCache::read(unsigned index, const Xbyak::Reg32& scratch) {
  int part = 0;
  const int found = find_slot(index, &part);
  if (found >= 0) {
    const auto slot = static_cast<unsigned>(found);
    touch(slot);
    const Xbyak::Reg32& reg = host(slot);
    if (part == 0) return reg;
    if (part == 1) {
      code_.movzx(scratch, reg.cvt16());
    } else {
      code_.mov(scratch, reg);
      code_.shr(scratch, 16);
    }
    return scratch;
  }
  return take(Kind::kSlot, index, /*dirty=*/false, /*load=*/true);
}

Xbyak::Reg32 RegisterCache::modify(unsigned index) {
  int part = 0;
  const int found = find_slot(index, &part);
  if (found >= 0 && part != 2) {
    const auto slot = static_cast<unsigned>(found);
    state_[slot].dirty = true;
    touch(slot);
    return host(slot);
  }
  if (found >= 0) evict(static_cast<unsigned>(found));  // the high half of a pair
  return take(Kind::kSlot, index, /*dirty=*/true, /*load=*/true);
}

Xbyak::Reg32 RegisterCache::overwrite(unsigned index) {
  int part = 0;
  const int found = find_slot(index, &part);
  if (found >= 0 && part == 0) {
    const auto slot = static_cast<unsigned>(found);
    state_[slot].dirty = true;
    touch(slot);
    return host(slot);
  }
  if (found >= 0) evict(static_cast<unsigned>(found));
  return take(Kind::kSlot, index, /*dirty=*/true, /*load=*/false);
}

void RegisterCache::evict_overlapping_pairs(unsigned code) {
  if (code > 0) {
    const int below = find_kind(Kind::kPair, code - 1);
    if (below >= 0) evict(static_cast<unsigned>(below));
  }
  const int above = find_kind(Kind::kPair, code + 1);
  if (above >= 0) evict(static_cast<unsigned>(above));
}

Xbyak::Reg32 RegisterCache::read_pair(unsigned code) {
  using namespace Xbyak::util;
  if (code >= 12) return read(code, eax);  // a whole register: never a pair half
  const int cached = find_kind(Kind::kPair, code);
  if (cached >= 0) {
    touch(static_cast<unsigned>(cached));
    return host(static_cast<unsigned>(cached));
  }
  // The halves cached as registers combine into one host register.
  evict_overlapping_pairs(code);
  const int low = find_kind(Kind::kSlot, code);
  const int high = find_kind(Kind::kSlot, code + 1);
  unsigned slot;
  bool dirty = false;
  if (low >= 0) {
    slot = static_cast<unsigned>(low);
    dirty = state_[slot].dirty;
    if (high >= 0) {
      code_.mov(r8d, host(static_cast<unsigned>(high)));
      dirty = dirty || state_[static_cast<unsigned>(high)].dirty;
      state_[static_cast<unsigned>(high)] = CachedValue{};
    } else {
      code_.mov(r8d, slot_dword(code + 1));
    }
    code_.shl(r8d, 16);
    code_.or_(host(slot), r8d);
  } else if (high >= 0) {
    slot = static_cast<unsigned>(high);
    dirty = state_[slot].dirty;
    code_.shl(host(slot), 16);
    code_.or_(host(slot), slot_dword(code));
  } else {
    slot = allocate();
    state_[slot] = CachedValue{Kind::kPair, static_cast<uint8_t>(code), false, 0};
    emit_load_one(state_[slot], host(slot));
  }
  state_[slot] = CachedValue{Kind::kPair, static_cast<uint8_t>(code), dirty, 0};
  touch(slot);
  return host(slot);
}

Xbyak::Reg32 RegisterCache::modify_pair(unsigned code) {
  if (code >= 12) {
    const Xbyak::Reg32 reg = read(code, Xbyak::util::eax);
    state_[static_cast<unsigned>(find_kind(Kind::kSlot, code))].dirty = true;
    return reg;
  }
  const Xbyak::Reg32 reg = read_pair(code);
  state_[static_cast<unsigned>(find_kind(Kind::kPair, code))].dirty = true;
  return reg;
}

Xbyak::Reg32 RegisterCache::overwrite_pair(unsigned code) {
  if (code >= 12) return overwrite(code);
  const int cached = find_kind(Kind::kPair, code);
  if (cached >= 0) {
    const auto slot = static_cast<unsigned>(cached);
    state_[slot].dirty = true;
    touch(slot);
    return host(slot);
  }
  evict_overlapping_pairs(code);
  // Both halves are overwritten: their cached copies are simply dropped.
  for (unsigned index : {code, code + 1}) {
    const int single = find_kind(Kind::kSlot, index);
    if (single >= 0) state_[static_cast<unsigned>(single)] = CachedValue{};
  }
  return take(Kind::kPair, code, /*dirty=*/true, /*load=*/false);
}

Xbyak::Reg32 RegisterCache::psr() {
  const int cached = find_kind(Kind::kPsr, 0);
  if (cached >= 0) {
    touch(static_cast<unsigned>(cached));
    return host(static_cast<unsigned>(cached));
  }
  return take(Kind::kPsr, 0, /*dirty=*/false, /*load=*/true);
}

Xbyak::Reg32 RegisterCache::modify_psr() {
  const Xbyak::Reg32 reg = psr();
  state_[static_cast<unsigned>(find_kind(Kind::kPsr, 0))].dirty = true;
  return reg;
}

void RegisterCache::emit_store(const State& state) {
  for (unsigned i = 0; i < kPoolSize; ++i) {
    if (state[i].dirty) emit_store_one(state[i], host(i));
  }
}

void RegisterCache::store_all() {
  emit_store(state_);
  for (CachedValue& value : state_) value.dirty = false;
}

void RegisterCache::spill_all() {
  emit_store(state_);
  state_ = State{};
}

void RegisterCache::set_state(const State& state, bool dirty) {
  state_ = state;
  if (dirty) {
    for (CachedValue& value : state_) value.dirty = value.kind != Kind::kFree;
  }
}

bool RegisterCache::same_values(const State& a, const State& b) {
  for (unsigned i = 0; i < kPoolSize; ++i) {
    if (a[i].kind != b[i].kind) return false;
    if (a[i].kind != Kind::kFree && a[i].index != b[i].index) return false;
  }
  return true;
}

void RegisterCache::emit_load(const State& state) {
  for (unsigned i = 0; i < kPoolSize; ++i) emit_load_one(state[i], host(i));
}

}  // namespace cr16::jit
