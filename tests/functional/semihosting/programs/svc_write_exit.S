# Minimal semihosting program without libc: writes a line to stdout with the
# libgloss write call (0x404), one to stderr, then exits with status 42 (0x410).
# Defines _start and __ISTACK_START like newlib's sim.ld, so cr16-system turns
# semihosting on by default for it. Everything lives in .text at 0x18.
# Rebuild: cr16-elf-gcc -nostdlib -nostartfiles -Wl,-x -T program.ld \
#   svc_write_exit.S -o svc_write_exit.elf
        .text
        .global _start
        .global __ISTACK_START
_start:
        movw    $1, r2                  # fd 1
        movd    $message, (r4,r3)       # buffer
        movw    $23, r5
        movd    $0x404, (r1,r0)
        excp    svc
        movw    r0, r6                  # bytes written (checked via the exit status below)
        movw    $2, r2                  # fd 2
        movd    $error_line, (r4,r3)
        movw    $22, r5
        movd    $0x404, (r1,r0)
        excp    svc
        movw    $42, r2
        cmpw    $23, r6
        beq     1f
        movw    $99, r2                 # write returned the wrong count
1:      movd    $0x410, (r1,r0)
        excp    svc
2:      br      2b

message:
        .ascii  "semihosting says hello\n"
message_end:
error_line:
        .ascii  "semihosting on stderr\n"
error_end:
        .balign 4
        .set    __ISTACK_START, 0x8000
