/* The CPU group table and the runner shared by both self-test builds. */
#include "groups.h"

#include "fw_printf.h"

const struct st_group st_cpu_groups[] = {
    {"arith", st_arith},       {"logic", st_logic},         {"shift", st_shift},
    {"multiply", st_multiply}, {"loadstore", st_loadstore}, {"stack", st_stack},
    {"bitops", st_bitops},     {"branch", st_branch},
};
const unsigned st_cpu_group_count = sizeof st_cpu_groups / sizeof st_cpu_groups[0];

unsigned st_run_groups(const struct st_group* groups, unsigned count) {
  unsigned failures = 0;
  for (unsigned i = 0; i < count; i++) {
    int check = groups[i].run();
    if (check == 0) {
      fw_printf("PASS %s\n", groups[i].name);
    } else if (check == ST_SKIP) {
      fw_printf("SKIP %s\n", groups[i].name);
    } else {
      fw_printf("FAIL %s (check %d)\n", groups[i].name, check);
      failures++;
    }
  }
  return failures;
}
