# Opens "hostile-input.txt" (relative to the working directory, or to the
# semihosting root), reads up to 64 bytes, writes them to stdout and exits 0.
# A failed open exits with its errno, a failed read with 99. Defines _start
# and __ISTACK_START like newlib's sim.ld, so semihosting is detected for it
# (console access only unless -semihosting is given).
        .text
        .global _start
        .global __ISTACK_START
_start:
        movd    $path, (r3,r2)
        movw    $0, r4                  # O_RDONLY
        movw    $0, r5
        movd    $0x401, (r1,r0)         # open
        excp    svc
        cmpw    $-1, r0
        bne     1f
        movw    r4, r2                  # exit(errno)
        br      done
1:      movw    r0, r2                  # fd
        movd    $buffer, (r4,r3)
        movw    $64, r5
        movd    $0x403, (r1,r0)         # read
        excp    svc
        movw    $99, r2
        cmpw    $-1, r0
        beq     done
        movw    r0, r5                  # count
        movw    $1, r2
        movd    $buffer, (r4,r3)
        movd    $0x404, (r1,r0)         # write
        excp    svc
        movw    $0, r2
done:   movd    $0x410, (r1,r0)         # exit
        excp    svc
2:      br      2b

path:   .asciz  "hostile-input.txt"
        .balign 4
buffer: .space  64
        .set    __ISTACK_START, 0x8000
