# Writes a 4 KiB buffer to stdout until the write fails, then exits with the
# errno (EPIPE = 32 once the reader is gone). Semihosting is detected for it
# (_start and __ISTACK_START), console access is all it needs.
        .text
        .global _start
        .global __ISTACK_START
_start:
1:      movw    $1, r2
        movd    $buffer, (r4,r3)
        movw    $4096, r5
        movd    $0x404, (r1,r0)         # write
        excp    svc
        cmpw    $-1, r0
        bne     1b
        movw    r4, r2                  # exit(errno)
        movd    $0x410, (r1,r0)
        excp    svc
2:      br      2b

        .balign 4
buffer: .fill   4096, 1, 0x2a
        .set    __ISTACK_START, 0x8000
