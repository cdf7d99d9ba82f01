/*
 * The other host services: time (through gettimeofday), rename,
 * and libgloss's local getpid/isatty/kill. Ends with kill(getpid(), 5),
 * which libgloss turns into _exit(5): the exit status is 5.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "guest_syscalls.h"

/* newlib's rename() is built on link(), which libgloss lacks: call the
 * host service directly. */
int _rename(const char* from, const char* to);

static const char kOldName[] = "guest-hostcalls-a.tmp";
static const char kNewName[] = "guest-hostcalls-b.tmp";

int main(void) {
  time_t now = time(NULL);
  printf("time: %s\n", now > 1500000000L ? "plausible" : "WRONG");
  struct timeval tv;
  gettimeofday(&tv, NULL);
  long delta = (long)tv.tv_sec - (long)now;
  printf("gettimeofday: %s\n", delta >= 0 && delta <= 2 ? "ok" : "WRONG");

  int fd = open(kOldName, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(fd, "x", 1);
  close(fd);
  int renamed = _rename(kOldName, kNewName) == 0;
  int old_gone = open(kOldName, O_RDONLY) < 0;
  fd = open(kNewName, O_RDONLY);
  int new_there = fd >= 0;
  if (new_there) close(fd);
  unlink(kNewName);
  printf("rename: %s\n", renamed && old_gone && new_there ? "ok" : "WRONG");

  printf("getpid: %d\n", getpid());
  printf("isatty: %d\n", isatty(1));
  fflush(stdout);
  kill(getpid(), 5);
  printf("kill returned\n");
  return 0;
}
