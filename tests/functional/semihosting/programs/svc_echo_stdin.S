# Reads up to 64 bytes from fd 0 with the libgloss read call (0x403), writes
# them back to fd 1 (0x404) and exits with the number of bytes read (0x410).
# Checks that guest stdin is the host's stdin under semihosting.
# Rebuild: cr16-elf-gcc -nostdlib -nostartfiles -Wl,-x -T program.ld \
#   svc_echo_stdin.S -o svc_echo_stdin.elf
        .text
        .global _start
        .global __ISTACK_START
_start:
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

        .balign 4
buffer:
        .space  64
        .set    __ISTACK_START, 0x8000
