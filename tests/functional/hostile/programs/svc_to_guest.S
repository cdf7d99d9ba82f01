# Installs its own SVC handler, then makes a semihosting write and exit.
# With semihosting the write prints "semihosting\n" and the exit ends the run
# with 0; with -semihosting-config enable=off the excp traps to the handler,
# which powers the machine off with code 99 (SYS_POWEROFF key | 99).
        .text
        .global _start
        .global __ISTACK_START
_start:
        movd    $0x7000, (r1,r0)
        lprd    (r1,r0), isp
        movd    $table, (r1,r0)
        lprd    (r1,r0), intbase
        movw    $0x100, r0              # CFG.ED: 4-byte dispatch entries
        lpr     r0, cfg
        movd    $handler, (r1,r0)
        lshd    $-1, (r1,r0)            # entries hold the address >> 1
        movd    $table+20, (r3,r2)      # vector 5 (SVC)
        stord   (r1,r0), 0(r3,r2)
        movw    $1, r2
        movd    $message, (r4,r3)
        movw    $12, r5
        movd    $0x404, (r1,r0)         # write
        excp    svc
        movw    $0, r2
        movd    $0x410, (r1,r0)         # exit(0)
        excp    svc
1:      br      1b

handler:
        movd    $0x504f5763, (r1,r0)    # power-off key | 99
        movd    $0xff0018, (r3,r2)
        stord   (r1,r0), 0(r3,r2)
2:      wait
        br      2b

message: .ascii "semihosting\n"
        .balign 4
table:  .space  64 * 4
        .set    __ISTACK_START, 0x8000
