/*
 * Correct semihosting system calls for test programs, overriding libgloss
 * (_open, _close, _read, _write, _lseek, _unlink, _rename, _gettimeofday).
 *
 * The cr16 libgloss stubs in newlib 3.3 (libsim.a) issue the right
 * `excp svc` but then return an uninitialised stack word instead of the
 * result in r0, and `_open` drops its result entirely. Programs that need
 * file descriptors or exact write() counts include this header (in exactly
 * one file) to link these versions instead. The ABI is the GNU simulator's:
 * call code in (r1,r0), arguments in r2..r5 exactly as the C calling
 * convention already placed them, result in r0 or (r1,r0).
 */
#ifndef GUEST_SYSCALLS_H
#define GUEST_SYSCALLS_H

#include <sys/time.h>

/* Each stub is entered with the C arguments already in r2..r5. */
#define GUEST_SVC_STUB(name, code)                                           \
  __asm__("  .text\n  .align 2\n  .globl " name "\n" name ":\n  movd $" code \
          ", (r1,r0)\n  excp svc\n  jump (ra)\n")

GUEST_SVC_STUB("__open", "0x401"); /* newlib's _open_r calls it non-variadically */
GUEST_SVC_STUB("__close", "0x402");
GUEST_SVC_STUB("__read", "0x403");
GUEST_SVC_STUB("__write", "0x404");
GUEST_SVC_STUB("__lseek", "0x405");
GUEST_SVC_STUB("__unlink", "0x407");
GUEST_SVC_STUB("__rename", "0x406");
GUEST_SVC_STUB("_host_time", "0x300");

long host_time(void);

/* newlib's time() and gettimeofday() end here; seconds only, like libgloss. */
int _gettimeofday(struct timeval* tv, void* tz) {
  (void)tz;
  tv->tv_sec = host_time();
  tv->tv_usec = 0;
  return 0;
}

#endif /* GUEST_SYSCALLS_H */
