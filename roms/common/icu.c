/* ICU driver: enable, priority and software-pending registers. */
#include "icu.h"

#include "mmio.h"

static uint32_t source_bit(unsigned source) {
  return 1UL << (source & 31u);
}

void icu_enable(unsigned source) {
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_ENABLE_SET, source_bit(source));
}

void icu_disable(unsigned source) {
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_ENABLE_CLR, source_bit(source));
}

void icu_set_priority(unsigned source, unsigned priority) {
  uint32_t address = VIRT_ICU_BASE + VIRT_ICU_PRIO((source & 31u) / 8u);
  uint32_t shift = VIRT_ICU_PRIO_SHIFT(source & 31u);
  uint32_t value = mmio_read32(address) & ~(VIRT_ICU_PRIO_MASK << shift);
  mmio_write32(address, value | ((uint32_t)(priority & 15u) << shift));
}

void icu_raise(unsigned source) {
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_SOFT_SET, source_bit(source));
}

void icu_clear(unsigned source) {
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_SOFT_CLR, source_bit(source));
}
