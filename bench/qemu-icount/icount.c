/* libicount.so: a qemu-user TCG plugin that counts executed guest
 * instructions by class: total, FMA, loads, stores.
 *
 *   qemu-aarch64 -cpu cortex-a72 -plugin ./libicount.so -d plugin PROGRAM
 *   -> icount: total N fma N load N store N
 *
 * Each instruction is classified once, at translation time, from qemu's
 * disassembly of it; execution counts are inline adds (no helper calls).
 * FMA: aarch64 fmla/fmls (vector, by element); armv7 vfma/vfms (any type)
 * and vmla.f32/vmls.f32. Loads and stores: every instruction whose mnemonic
 * reads or writes memory (ldr/ldp/ld1..., str/stp/st1..., ldm/stm, push/pop,
 * vldr/vld1/vldm/vpop, vstr/vst1/vstm/vpush; atomics count as both).
 * Plugin arguments: `verbose=on` prints every classified instruction once,
 * at translation, to qemu's plugin log; `symbols=N` adds, at exit, the N
 * symbols of the main program that executed the most instructions, with
 * their FMA counts (a translation block counts for the symbol of its first
 * instruction; "?" gathers blocks outside the program's symbol table, such
 * as shared libraries'). Start the program itself, not through its dynamic
 * loader, for symbols to resolve.
 * The counters are plain globals: exact for single-threaded guests only. */
#include "qemu-plugin-api.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { C_TOTAL, C_FMA, C_LOAD, C_STORE, C_N };
static uint64_t counts[C_N];
static int verbose;

/* symbols=N: per-symbol counts, looked up by name at translation time */
enum { MAX_SYMBOLS = 4096 };
struct sym_count {
    const char *name; /* owned by qemu; NULL: free slot */
    uint64_t total, fma;
};
static struct sym_count syms[MAX_SYMBOLS];
static int nsyms, top_symbols;

static struct sym_count *symbol_slot(const char *name) {
    if (!name) name = "?";
    for (int i = 0; i < nsyms; i++)
        if (!strcmp(syms[i].name, name)) return &syms[i];
    if (nsyms == MAX_SYMBOLS) return &syms[MAX_SYMBOLS - 1]; /* overflow: last slot */
    syms[nsyms].name = name;
    return &syms[nsyms++];
}

static int by_total(const void *a, const void *b) {
    const struct sym_count *x = a, *y = b;
    return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

enum { F_FMA = 1, F_LOAD = 2, F_STORE = 4 };

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* Classify one mnemonic (lowercase, no operands). */
static int classify(const char *m, size_t n) {
    char buf[32];
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, m, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++) buf[i] = (char)tolower((unsigned char)buf[i]);
    int f = 0;
    /* aarch64 */
    if (!strcmp(buf, "fmla") || !strcmp(buf, "fmls")) f |= F_FMA;
    /* armv7 VFP/NEON: vfma.f32, vfms.f32, vfma.f64, vmla.f32, vmls.f32 */
    if (starts(buf, "vfma") || starts(buf, "vfms") || !strcmp(buf, "vmla.f32") ||
        !strcmp(buf, "vmls.f32"))
        f |= F_FMA;
    /* Memory. aarch64: ld*, st* (ldr ldp ldur ld1 ldxr ldar ldadd..., str stp
     * stur st1 stxr stlr...), cas/swp atomics (load and store), prfm is
     * neither. armv7: ldr/ldm/ldrd/ldrex..., str/stm/strex..., pop/push,
     * vldr/vld1-4/vldm/vpop, vstr/vst1-4/vstm/vpush. */
    if (starts(buf, "ld") || starts(buf, "vld") || starts(buf, "pop") || starts(buf, "vpop"))
        f |= F_LOAD;
    if ((starts(buf, "st") && !starts(buf, "stc")) || starts(buf, "vst") ||
        starts(buf, "push") || starts(buf, "vpush"))
        f |= F_STORE;
    /* aarch64 atomics: ldadd/ldclr/ldeor/ldset/ldsmax... read and write;
     * stadd etc. are aliases that start with "st" (write, and read). */
    if (starts(buf, "cas") || starts(buf, "swp") || starts(buf, "ldadd") || starts(buf, "ldclr") ||
        starts(buf, "ldeor") || starts(buf, "ldset") || starts(buf, "ldsmax") ||
        starts(buf, "ldsmin") || starts(buf, "ldumax") || starts(buf, "ldumin"))
        f |= F_LOAD | F_STORE;
    if (starts(buf, "stadd") || starts(buf, "stclr") || starts(buf, "steor") ||
        starts(buf, "stset") || starts(buf, "stsmax") || starts(buf, "stsmin") ||
        starts(buf, "stumax") || starts(buf, "stumin"))
        f |= F_LOAD | F_STORE;
    /* armv7 coprocessor ldc/stc: not counted as data loads/stores. */
    if (starts(buf, "ldc")) f &= ~F_LOAD;
    return f;
}

static int classify_disas(const char *d) {
    while (*d && isspace((unsigned char)*d)) d++;
    size_t n = 0;
    while (d[n] && !isspace((unsigned char)d[n])) n++;
    return classify(d, n);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counts[C_TOTAL], n);
    struct sym_count *sym = NULL;
    if (top_symbols && n) {
        sym = symbol_slot(qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0)));
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &sym->total, n);
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        char *d = qemu_plugin_insn_disas(insn);
        if (!d) continue;
        int f = classify_disas(d);
        if (f & F_FMA)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       &counts[C_FMA], 1);
        if ((f & F_FMA) && sym)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &sym->fma,
                                                       1);
        if (f & F_LOAD)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       &counts[C_LOAD], 1);
        if (f & F_STORE)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       &counts[C_STORE], 1);
        if (verbose) {
            char line[256];
            snprintf(line, sizeof line, "icount-insn: %s%s%s %s\n", f & F_FMA ? "F" : "-",
                     f & F_LOAD ? "L" : "-", f & F_STORE ? "S" : "-", d);
            qemu_plugin_outs(line);
        }
        free(d);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p) {
    (void)id, (void)p;
    char line[160];
    snprintf(line, sizeof line, "icount: total %" PRIu64 " fma %" PRIu64 " load %" PRIu64
             " store %" PRIu64 "\n", counts[C_TOTAL], counts[C_FMA], counts[C_LOAD], counts[C_STORE]);
    qemu_plugin_outs(line);
    if (!top_symbols) return;
    qsort(syms, (size_t)nsyms, sizeof syms[0], by_total);
    for (int i = 0; i < nsyms && i < top_symbols && syms[i].total; i++) {
        char sl[512];
        snprintf(sl, sizeof sl, "icount-symbol: %12" PRIu64 " %5.1f%% fma %12" PRIu64 " %s\n",
                 syms[i].total, 100.0 * (double)syms[i].total / (double)counts[C_TOTAL],
                 syms[i].fma, syms[i].name);
        qemu_plugin_outs(sl);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
    if (info->version.min > QEMU_PLUGIN_VERSION) return 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "verbose=on") || !strcmp(argv[i], "verbose=true")) verbose = 1;
        else if (!strncmp(argv[i], "symbols=", 8) && atoi(argv[i] + 8) > 0)
            top_symbols = atoi(argv[i] + 8);
        else {
            fprintf(stderr, "icount: unknown argument %s (verbose=on, symbols=N)\n", argv[i]);
            return 1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
