# A guest that crashes for real: it points the interrupt stack pointer into
# the unmapped gap below the device window and takes a breakpoint trap. The
# exception frame cannot be pushed, so the CPU stops and cr16-system reports
# a guest panic (exit status 134, or paused under -no-shutdown).
# Rebuild: cmake --build build --target rebuild-control-programs
        .text
        .global _start
_start:
        movd    $0xf80000, (r1,r0)
        lprd    (r1,r0), isp
        excp    bpt
1:      br      1b
