/*
 * The self-test groups: each returns 0 on success, the first failing check
 * number, or ST_SKIP when the group does not apply to this machine.
 */
#ifndef ROMS_SELFTEST_GROUPS_H
#define ROMS_SELFTEST_GROUPS_H

#define ST_SKIP (-1)

struct st_group {
  const char* name;
  int (*run)(void);
};

/* CPU-only groups (assembly), also run by the semihosting build. */
int st_arith(void);
int st_logic(void);
int st_shift(void);
int st_multiply(void);
int st_loadstore(void);
int st_stack(void);
int st_bitops(void);
int st_branch(void);

/* Groups that need the virt board (exceptions, ICU, timer). */
int st_exceptions(void);
int st_iad(void);
int st_usermode(void);
int st_trace(void);
int st_interrupts(void);
int st_timer(void);
int st_nmi(void);
int st_sysctl(void);
int st_rtc(void);
int st_watchdog(void);
int st_flash(void);

/** The CPU-only groups, in run order. */
extern const struct st_group st_cpu_groups[];
extern const unsigned st_cpu_group_count;

/**
 * Runs `count` groups, printing "PASS name", "FAIL name (check N)" or
 * "SKIP name" for each through fw_printf; returns the number of failed groups.
 */
unsigned st_run_groups(const struct st_group* groups, unsigned count);

#endif /* ROMS_SELFTEST_GROUPS_H */
