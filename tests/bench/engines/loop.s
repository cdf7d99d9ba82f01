# bench-cpu's 8-instruction loop (tests/bench/cpu/cpu_bench.cpp) as a
# program of its own, 20 000 000 iterations (160 000 007 instructions), for
# the engine benchmark. Exits through semihosting with r10 & 0xff (128 here).
	.text
	.globl _start
_start:
	movd $20000000,(r1,r0)
	movd $0,(r3,r2)
	movd $0,(r7,r6)
	movw $0,r10
loop:
	addd $3,(r3,r2)
	xord (r3,r2),(r7,r6)
	movd (r7,r6),(r9,r8)
	addw r2,r10
	andw $0xfff,r10
	addd $-1,(r1,r0)
	cmpd $0,(r1,r0)
	bne loop
	movw r10,r2
	movd $0x410,(r1,r0)
	excp svc
