# read(0) into the flash at 0xE00000 must fail with EFAULT without consuming
# input: reads 16 bytes there, then 16 bytes into RAM, writes what the second
# read got to stdout and exits with the first read's errno (14 expected).
        .text
        .global _start
        .global __ISTACK_START
_start:
        movw    $0, r2
        movd    $0xe00000, (r4,r3)
        movw    $16, r5
        movd    $0x403, (r1,r0)         # read into flash
        excp    svc
        movw    r4, r7                  # its errno
        movw    $0, r2
        movd    $buffer, (r4,r3)
        movw    $16, r5
        movd    $0x403, (r1,r0)         # read into RAM
        excp    svc
        cmpw    $-1, r0
        bne     1f
        movw    $0, r0
1:      movw    r0, r5
        movw    $1, r2
        movd    $buffer, (r4,r3)
        movd    $0x404, (r1,r0)         # write what arrived
        excp    svc
        movw    r7, r2
        movd    $0x410, (r1,r0)         # exit(errno of the first read)
        excp    svc
2:      br      2b

        .balign 4
buffer: .space  16
        .set    __ISTACK_START, 0x8000
