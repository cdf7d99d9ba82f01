/* System tick on timer channel 0, and the free-running microsecond counter. */
#ifndef ROMS_COMMON_TIMER_H
#define ROMS_COMMON_TIMER_H

#include <stdint.h>

/** Tick rate of timer_ticks() (channel 0, periodic). */
#define TIMER_TICK_HZ 100UL

/** Starts channel 0 periodic at TIMER_TICK_HZ with its interrupt. */
void timer_init(void);

/** Ticks since timer_init(). */
uint32_t timer_ticks(void);

/** Sleeps (eiwait) until the tick count differs from `since`; returns the new count. */
uint32_t timer_wait_tick(uint32_t since);

/** Microseconds since reset from TIMER_NOW (64-bit, low word read first). */
uint64_t timer_now_us(void);

#endif /* ROMS_COMMON_TIMER_H */
