/* Test program for libicount.so (aarch64): no libc, so every executed
 * instruction is known. Build: aarch64-linux-gnu-gcc -nostdlib -static.
 * 250 iterations of 12 instructions, 2 before, 3 after:
 *   total 2 + 250*12 + 3 = 3005
 *   fma   250*4 = 1000 (fmla, fmla by element, fmls, fmls by element;
 *                       fmul and fmadd are not FMA-class)
 *   load  250*2 = 500  (ldp, ld1; prfm is not a load)
 *   store 250*1 = 250  (stp)
 * With symbols=N: a translation block counts for the symbol of its first
 * instruction. The first block runs from _start through the first
 * iteration (14 instructions, 4 FMAs); every later one starts inside
 * fmla_loop: 249*12 + 3 = 2991 instructions, 996 FMAs. */
__asm__(".text\n"
        ".global _start\n"
        ".type _start, %function\n"
        "_start:\n"
        "  adr x1, buf\n"
        "  mov x0, #250\n"
        ".size _start, . - _start\n"
        ".global fmla_loop\n"
        ".type fmla_loop, %function\n"
        "fmla_loop:\n"
        "1:\n"
        "  ldp q1, q2, [x1]\n"
        "  ld1 {v3.4s}, [x1]\n"
        "  fmla v0.4s, v1.4s, v2.4s\n"
        "  fmla v4.4s, v1.4s, v3.s[1]\n"
        "  fmls v0.4s, v2.4s, v3.4s\n"
        "  fmls v4.4s, v2.4s, v1.s[2]\n"
        "  fmul v5.4s, v1.4s, v2.4s\n"
        "  fmadd s6, s1, s2, s6\n"
        "  prfm pldl1keep, [x1, #64]\n"
        "  stp q0, q4, [x1, #32]\n"
        "  subs x0, x0, #1\n"
        "  b.ne 1b\n"
        "  mov x0, #0\n"
        "  mov x8, #93\n" /* exit */
        "  svc #0\n"
        ".size fmla_loop, . - fmla_loop\n"
        ".bss\n"
        ".balign 64\n"
        "buf: .space 128\n");
