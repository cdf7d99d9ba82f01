# A runaway stack: SP points into the device window and 12 pushes of zeros
# sweep the sysctl registers (SYS_POWEROFF at 0xFF0018 included), as a
# crashing guest's frames would. None of them may power the machine off; the
# program then exits with 7 through semihosting (run it with -semihosting).
        .text
        .global _start
_start:
        movd    $0xff0030, (sp)
        movd    $0, (r1,r0)
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        push    $2, r0
        movw    $7, r2
        movd    $0x410, (r1,r0)         # exit(7)
        excp    svc
1:      br      1b
