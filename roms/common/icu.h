/* The virt board's interrupt control unit. */
#ifndef ROMS_COMMON_ICU_H
#define ROMS_COMMON_ICU_H

#include <stdint.h>

/** Enables interrupt source `source` (0..31) in ICU_ENABLE. */
void icu_enable(unsigned source);

/** Disables interrupt source `source`. */
void icu_disable(unsigned source);

/** Sets the 4-bit priority (0..15, higher wins) of `source`. */
void icu_set_priority(unsigned source, unsigned priority);

/** Sets the software pending latch of `source`. */
void icu_raise(unsigned source);

/** Clears the software pending latch of `source`. */
void icu_clear(unsigned source);

#endif /* ROMS_COMMON_ICU_H */
