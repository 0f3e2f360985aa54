/* Architecture macros, each always defined as 0 or 1 and tested with #if
 * (we build with -Wundef, so a misspelt name is an error, not a silent 0). */
#ifndef SN_CPU_ARCH_H
#define SN_CPU_ARCH_H

#if defined(__x86_64__) || defined(_M_X64)
#define SN_ARCH_X86_64 1
#else
#define SN_ARCH_X86_64 0
#endif

#if defined(__aarch64__)
#define SN_ARCH_ARM64 1
#else
#define SN_ARCH_ARM64 0
#endif

#if defined(__arm__)
#define SN_ARCH_ARM32 1
#else
#define SN_ARCH_ARM32 0
#endif

#define SN_ARCH_ARM (SN_ARCH_ARM64 || SN_ARCH_ARM32)

#endif /* SN_CPU_ARCH_H */
