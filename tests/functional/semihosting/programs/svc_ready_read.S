# Writes "ready\n" to fd 1, then reads up to 64 bytes from fd 0, echoes them
# and exits with the count. The line tells a test that the machine runs (its
# signal handling is in place) and the guest is about to wait for input.
# Rebuild: cr16-elf-gcc -nostdlib -nostartfiles -Wl,-x -T program.ld \
#   svc_ready_read.S -o svc_ready_read.elf
        .text
        .global _start
        .global __ISTACK_START
_start:
        movw    $1, r2                  # fd 1
        movd    $ready, (r4,r3)
        movw    $6, r5
        movd    $0x404, (r1,r0)
        excp    svc
        movw    $0, r2                  # fd 0
        movd    $buffer, (r4,r3)
        movw    $64, r5
        movd    $0x403, (r1,r0)
        excp    svc
        movw    r0, r6                  # bytes read
        movw    $1, r2                  # fd 1
        movd    $buffer, (r4,r3)
        movw    r6, r5
        movd    $0x404, (r1,r0)
        excp    svc
        movw    r6, r2
        movd    $0x410, (r1,r0)
        excp    svc
1:      br      1b

ready:  .ascii  "ready\n"
        .balign 4
buffer:
        .space  64
        .set    __ISTACK_START, 0x8000
