// Native forms of the JIT: loads, stores, push, pop and popret through the
// bus's host-pointer page table.
#include "cpu/jit/code_emitter.h"

#include "cpu/exec.h"

namespace cr16::jit {

bool CodeEmitter::emit_memory(const isa::Decoded& d, const Op& op, const Op& stop) {
  using namespace Xbyak::util;
  exec::LoadStoreForm form;
  if (!exec::load_store_form(d, &form)) return false;
  const unsigned bits = form.bits;
  const bool is_load = form.is_load;
  const isa::Operand& memory = *form.memory;
  const isa::Operand& data = *form.data;
  exec::AddressMode mode;
  Op scratch;
  if (!exec::memory_operand(memory, &mode, scratch)) return false;
  const bool pair_base =
      mode == exec::AddressMode::kPairBase || mode == exec::AddressMode::kIndexPair;
  if (pair_base && op.b == 11) return false;
  const bool register_data =
      data.type == isa::OperandType::kRegr || data.type == isa::OperandType::kRegp;
  if (!is_load && !register_data && bits == 32) return false;
  const bool pair_data = bits == 32 && (is_load || register_data);
  if (pair_data && op.a == 11) return false;

  // The address in eax (the cache's loads and write-backs leave it alone).
  const auto disp = static_cast<uint32_t>(op.imm);
  switch (mode) {
    case exec::AddressMode::kAbsolute:
      mov(eax, disp);
      break;
    case exec::AddressMode::kRegisterBase:
      copy(eax, cache_.read(op.b, eax));
      break;
    case exec::AddressMode::kPairBase:
      copy(eax, cache_.read_pair(op.b));
      break;
    case exec::AddressMode::kIndexAbsolute:
      copy(eax, cache_.read(op.c, eax));
      break;
    case exec::AddressMode::kIndexPair:
      copy(eax, cache_.read_pair(op.b));
      add(eax, cache_.read(op.c, ecx));
      break;
  }
  if (mode != exec::AddressMode::kAbsolute && disp != 0) add(eax, disp);
  // A store's data: a host register (r8d, the cache's own, holds a pair
  // half copied out; nothing uses the cache until the store).
  Xbyak::Reg32 value;
  if (!is_load && register_data)
    value = pair_data ? cache_.read_pair(op.a) : cache_.read(op.a, r8d);

  SlowPath& path = new_slow_path(op, stop);
  // r12..sp as base or data pair: whole, unless CFG.SR (then the handler).
  if ((pair_base && op.b >= 12 && op.b < 15) || (pair_data && op.a >= 12 && op.a < 15)) {
    check_long_pair(14, path.entry);
  }
  const unsigned bytes = bits / 8;
  // An aligned access never straddles two pages (a misaligned one, rare in
  // compiled code, takes the slow path even inside one page).
  if (bytes > 1) {
    test(al, bytes - 1);
    jnz(path.entry, T_NEAR);
  }
  cmp(eax, kAddressMask);
  ja(path.entry, T_NEAR);
  mov(edx, eax);
  shr(edx, kPageBits);
  mov(rcx, qword[(is_load ? r13 : r14) + rdx * 8]);
  test(rcx, rcx);
  jz(path.entry, T_NEAR);
  and_(eax, kPageSize - 1);
  if (is_load) {
    if (bits == 8) {
      mov(cache_.modify(op.a).cvt8(), byte[rcx + rax]);
    } else if (bits == 16) {
      mov(cache_.modify(op.a).cvt16(), word[rcx + rax]);
    } else {
      mov(cache_.overwrite_pair(op.a), dword[rcx + rax]);
    }
  } else if (!register_data) {
    const auto stored = static_cast<uint32_t>(op.imm2);
    if (bits == 8) {
      mov(byte[rcx + rax], stored & 0xFFu);
    } else {
      mov(word[rcx + rax], stored & 0xFFFFu);
    }
  } else if (bits == 8) {
    mov(byte[rcx + rax], value.cvt8());
  } else if (bits == 16) {
    mov(word[rcx + rax], value.cvt16());
  } else {
    mov(dword[rcx + rax], value);
  }
  resume(path);
  return true;
}

bool CodeEmitter::emit_stack(const isa::Decoded& d, const Op& op, const Op& stop) {
  using isa::Mnemonic;
  using namespace Xbyak::util;
  const bool is_push = d.mnemonic == Mnemonic::kPush;
  const bool is_popret = d.mnemonic == Mnemonic::kPopret;
  if (!is_push && !is_popret && d.mnemonic != Mnemonic::kPop) return false;
  const auto count = static_cast<uint32_t>(op.imm);
  if (count > 16) return false;
  const bool with_ra = op.b != 0;
  const uint32_t total = 2 * count + (with_ra ? 4u : 0u);
  if (total == 0 || total > 64) return false;
  struct Slot {
    unsigned reg;
    uint32_t offset;
    bool dword;
  };
  Slot slots[16];
  unsigned slot_count = 0;
  {
    uint32_t offset = 0;
    uint32_t remaining = count;
    for (unsigned reg = op.a; remaining > 0 && reg <= 15; ++reg) {
      const bool dword = !(reg < 12 || remaining == 1);
      slots[slot_count++] = Slot{reg, offset, dword};
      offset += dword ? 4 : 2;
      remaining -= dword ? 2 : 1;
    }
  }
  copy(eax, cache_.read(kRegSp, eax));
  SlowPath& path = new_slow_path(op, stop);
  if (is_push) sub(eax, total);
  cmp(eax, kAddressMask);
  ja(path.entry, T_NEAR);
  mov(edx, eax);
  shr(edx, kPageBits);
  mov(ecx, eax);
  and_(ecx, kPageSize - 1);
  cmp(ecx, kPageSize - total);
  ja(path.entry, T_NEAR);
  mov(rdx, qword[(is_push ? r14 : r13) + rdx * 8]);
  test(rdx, rdx);
  jz(path.entry, T_NEAR);
  add(rdx, rcx);
  // From here on the cache may load and write back (through r8 only):
  // rax (the new SP) and rdx (the host address) stay.
  bool sp_loaded = false;
  for (unsigned i = 0; i < slot_count; ++i) {
    const Slot& slot = slots[i];
    if (is_push) {
      const Xbyak::Reg32 value = cache_.read(slot.reg, r8d);
      if (slot.dword) {
        mov(dword[rdx + slot.offset], value);
      } else {
        mov(word[rdx + slot.offset], value.cvt16());
      }
    } else if (slot.dword) {
      mov(cache_.overwrite(slot.reg), dword[rdx + slot.offset]);
    } else if (slot.reg < 12) {
      movzx(cache_.overwrite(slot.reg), word[rdx + slot.offset]);
    } else {
      mov(cache_.modify(slot.reg).cvt16(), word[rdx + slot.offset]);  // the upper half stays
    }
    if (slot.reg == kRegSp) sp_loaded = true;
  }
  if (with_ra) {
    if (is_push) {
      mov(dword[rdx + 2 * count], cache_.read(kRegRa, r8d));
    } else {
      mov(cache_.overwrite(kRegRa), dword[rdx + 2 * count]);
    }
  }
  if (is_push) {
    mov(cache_.overwrite(kRegSp), eax);
  } else if (!sp_loaded) {
    add(eax, total);
    mov(cache_.overwrite(kRegSp), eax);
  }
  if (is_popret) {
    copy(ecx, cache_.read(kRegRa, ecx));
    shl(ecx, 1);
    and_(ecx, exec::kPcMask);
    cache_.store_all();
    exit_to_ecx();
  }
  resume(path);
  return true;
}

}  // namespace cr16::jit
