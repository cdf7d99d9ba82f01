/*
 * File I/O through semihosting: creates guest-fileio.tmp in the current
 * directory, writes, re-reads, seeks, closes and unlinks it. Prints one line
 * per step; exits with the number of failed steps (0 when all pass).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest_syscalls.h"

static const char kFileName[] = "guest-fileio.tmp";
static const char kText[] = "0123456789abcdefghijklmnopqrstuvwxyz\n";
static int failures;

static void check(const char* step, int ok) {
  printf("%s: %s\n", step, ok ? "ok" : "FAILED");
  if (!ok) failures++;
}

int main(void) {
  char buf[64];
  int len = (int)strlen(kText);

  int fd = open(kFileName, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check("open for writing", fd >= 0);
  int n = write(fd, kText, len);
  check("write returns the count", n == len);
  check("close after writing", close(fd) == 0);

  fd = open(kFileName, O_RDONLY);
  check("open for reading", fd >= 0);
  memset(buf, 0, sizeof buf);
  n = read(fd, buf, sizeof buf - 1);
  check("read whole file", n == len && memcmp(buf, kText, len) == 0);
  check("lseek to offset 10", lseek(fd, 10, SEEK_SET) == 10);
  memset(buf, 0, sizeof buf);
  n = read(fd, buf, 5);
  check("read 5 bytes at offset 10", n == 5 && memcmp(buf, "abcde", 5) == 0);
  check("lseek to end", lseek(fd, 0, SEEK_END) == len);
  check("read at end returns 0", read(fd, buf, 4) == 0);
  check("close after reading", close(fd) == 0);

  check("unlink", unlink(kFileName) == 0);
  check("open after unlink fails", open(kFileName, O_RDONLY) < 0);
  printf("fileio: %d failures\n", failures);
  return failures;
}
