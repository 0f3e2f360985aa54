/* Test program for libicount.so (armv7, ARM state): no libc, so every
 * executed instruction is known. Build: arm-linux-gnueabihf-gcc
 * -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -nostdlib -static.
 * 250 iterations of 13 instructions, 3 before, 3 after:
 *   total 3 + 250*13 + 3 = 3256
 *   fma   250*4 = 1000 (vfma.f32, vfms.f32, vmla.f32, vmls.f32;
 *                       vmla.i32 and vmul.f32 are not FMA-class)
 *   load  250*3 = 750  (vld1, vldr, pop)
 *   store 250*2 = 500  (vst1, push) */
__asm__(".text\n"
        ".arm\n"
        ".global _start\n"
        "_start:\n"
        "  movw r1, #:lower16:buf\n"
        "  movt r1, #:upper16:buf\n"
        "  mov r0, #250\n"
        "1:\n"
        "  vld1.32 {d2-d3}, [r1]\n"
        "  vldr d4, [r1, #16]\n"
        "  vfma.f32 q0, q1, q2\n"
        "  vfms.f32 q3, q1, q2\n"
        "  vmla.f32 q0, q1, q2\n"
        "  vmls.f32 q3, q1, q2\n"
        "  vmla.i32 q5, q1, q2\n"
        "  vmul.f32 q6, q1, q2\n"
        "  vst1.32 {d0-d1}, [r1]\n"
        "  push {r2}\n"
        "  pop {r2}\n"
        "  subs r0, r0, #1\n"
        "  bne 1b\n"
        "  mov r0, #0\n"
        "  mov r7, #1\n" /* exit */
        "  svc #0\n"
        ".bss\n"
        ".balign 64\n"
        "buf: .space 128\n");
