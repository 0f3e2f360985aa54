#include "cli.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "bench.h"
#include "demo.h"
#include "output.h"
#include "run.h"
#include "scopenn.h"

static const char usage_text[] =
    "usage: scopenn COMMAND [FLAGS]\n"
    "\n"
    "commands:\n"
    "  bench [WORKLOAD...] [--isa NAME] [--threads N] [--iters N] [--warmup W]\n"
    "        [--json] [--no-peak]\n"
    "                  time fused conv2d / matmul + bias + relu layers: ms per run,\n"
    "                  GFLOP/s, % of the measured FMA peak; bench --help lists the\n"
    "                  workloads and how to time any shape (bench conv2d ...)\n"
    "  bench model NAME [--size HxW] [--threads N] [--isa NAME] [--iters N]\n"
    "        [--weights FILE] [--startup] [--profile] [--json]\n"
    "                  time a whole model of the zoo: ms per inference, GFLOP/s,\n"
    "                  startup, and where the time goes (bench model --help)\n"
    "  demo [--json] [--isa NAME] [--threads N] [--size HxW]\n"
    "                  the seeds' two-layer image filter on two images sharing\n"
    "                  its variables: packs, isa, error vs reference, time\n"
    "  info [--json]   the kernel set in use (first line: isa: NAME), the CPU\n"
    "                  features detected, why that kernel set, the version\n"
    "  inspect FILE [--json]\n"
    "                  check a safetensors checkpoint and list its tensors, one\n"
    "                  per line: name, dtype, shape, bytes (tab-separated);\n"
    "                  exit 1 with the problem if the file is not valid\n"
    "  run MODEL --weights FILE --input FILE [--json] [--threads N] [--top K]\n"
    "        [--nchw]\n"
    "                  run a model of the zoo on the images of a safetensors file\n"
    "                  and print each image's top K classes (default 5): class,\n"
    "                  probability, logit; run --help tells more\n"
    "  help            this text\n"
    "  version         the library version\n"
    "\n"
    "environment:\n"
    "  SCOPENN_ISA=scalar|avx2|avx512|neon   use no better kernel set than this\n";

static int usage_error(FILE *err, const char *what, const char *arg) {
    fprintf(err, "scopenn: %s '%s'\n\n%s", what, arg, usage_text);
    return 2;
}

/* The features that mean something on `arch`, as a range of the enum. */
static void arch_features(const char *arch, int *first, int *last) {
    if (strcmp(arch, "x86_64") == 0) {
        *first = SN_CPU_AVX2, *last = SN_CPU_OS_ZMM;
    } else if (strcmp(arch, "aarch64") == 0) {
        *first = SN_CPU_ASIMD, *last = SN_CPU_I8MM;
    } else if (strcmp(arch, "arm") == 0) {
        *first = SN_CPU_NEON, *last = SN_CPU_VFPV4;
    } else {
        *first = 0, *last = -1;
    }
}

static void print_info_text(FILE *out, const sn_cpu_info *info) {
    int first, last;
    fprintf(out, "isa: %s\n", sn_isa_name(info->isa));
    fprintf(out, "arch: %s\n", info->arch);
    arch_features(info->arch, &first, &last);
    for (int f = first; f <= last; f++)
        fprintf(out, "feature %s: %s\n", sn_cpu_feature_name((sn_cpu_feature)f),
                (info->features >> f) & 1 ? "yes" : "no");
    fprintf(out, "runs:");
    for (int i = 0; i < SN_ISA_COUNT; i++)
        if ((info->isas >> i) & 1) fprintf(out, " %s", sn_isa_name((sn_isa)i));
    fprintf(out, "\nbest: %s\n", sn_isa_name(info->best_isa));
    if (info->max_isa == SN_ISA_COUNT)
        fprintf(out, "cap: none\n");
    else
        fprintf(out, "cap: %s (%s)\n", sn_isa_name(info->max_isa), info->cap_source);
    fprintf(out, "reason: %s\n", info->reason);
    fprintf(out, "version: %s\n", sn_version());
}

static int print_info_json(FILE *out, FILE *err, const sn_cpu_info *info) {
    int first, last, ok = 1;
    cJSON *root = cJSON_CreateObject();
    ok &= cJSON_AddStringToObject(root, "isa", sn_isa_name(info->isa)) != NULL;
    ok &= cJSON_AddStringToObject(root, "arch", info->arch) != NULL;
    cJSON *features = cJSON_AddObjectToObject(root, "features");
    ok &= features != NULL;
    arch_features(info->arch, &first, &last);
    for (int f = first; ok && f <= last; f++)
        ok &= cJSON_AddBoolToObject(features, sn_cpu_feature_name((sn_cpu_feature)f),
                                    (info->features >> f) & 1) != NULL;
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    ok &= runs != NULL;
    for (int i = 0; ok && i < SN_ISA_COUNT; i++)
        if ((info->isas >> i) & 1) {
            cJSON *name = cJSON_CreateString(sn_isa_name((sn_isa)i));
            ok &= name != NULL && cJSON_AddItemToArray(runs, name);
        }
    ok &= cJSON_AddStringToObject(root, "best", sn_isa_name(info->best_isa)) != NULL;
    if (info->max_isa == SN_ISA_COUNT) {
        ok &= cJSON_AddNullToObject(root, "cap") != NULL;
    } else {
        cJSON *cap = cJSON_AddObjectToObject(root, "cap");
        ok &= cap != NULL && cJSON_AddStringToObject(cap, "isa", sn_isa_name(info->max_isa)) &&
              cJSON_AddStringToObject(cap, "source", info->cap_source);
    }
    ok &= cJSON_AddStringToObject(root, "reason", info->reason) != NULL;
    ok &= cJSON_AddStringToObject(root, "version", sn_version()) != NULL;
    return sn_cli_print_json(root, ok, out, err);
}

static int cmd_info(int argc, char **argv, FILE *out, FILE *err) {
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            return usage_error(err, "info: unknown flag", argv[i]);
    }
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    if (json) return print_info_json(out, err, &info);
    print_info_text(out, &info);
    return 0;
}

/* The safetensors spelling of a dtype an open checkpoint can hold. */
static const char *safetensors_dtype(sn_dtype dtype) {
    switch (dtype) {
    case SN_F32: return "F32";
    case SN_F16: return "F16";
    case SN_BF16: return "BF16";
    default: return "?";
    }
}

/* An integer as JSON text: cJSON would print 1e15 and above with an
 * exponent. */
static cJSON *json_integer(uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_CreateRaw(text);
}

static int print_tensors_json(FILE *out, FILE *err, const char *file, const sn_checkpoint *ck) {
    cJSON *root = cJSON_CreateObject();
    int ok = cJSON_AddStringToObject(root, "file", file) != NULL;
    cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
    ok &= tensors != NULL;
    for (size_t i = 0; ok && i < sn_checkpoint_tensor_count(ck); i++) {
        sn_checkpoint_tensor info;
        sn_checkpoint_tensor_info(ck, i, &info);
        cJSON *t = cJSON_CreateObject();
        ok &= t != NULL && cJSON_AddItemToArray(tensors, t);
        if (!ok) {
            cJSON_Delete(t);
            break;
        }
        ok &= cJSON_AddStringToObject(t, "name", info.name) != NULL;
        ok &= cJSON_AddStringToObject(t, "dtype", safetensors_dtype(info.dtype)) != NULL;
        cJSON *shape = cJSON_AddArrayToObject(t, "shape");
        ok &= shape != NULL;
        for (int d = 0; ok && d < info.shape.rank; d++) {
            cJSON *dim = json_integer((uint64_t)info.shape.dims[d]);
            ok &= dim != NULL && cJSON_AddItemToArray(shape, dim);
        }
        cJSON *bytes = ok ? json_integer(info.nbytes) : NULL;
        ok &= bytes != NULL && cJSON_AddItemToObject(t, "bytes", bytes);
    }
    return sn_cli_print_json(root, ok, out, err);
}

static int cmd_inspect(int argc, char **argv, FILE *out, FILE *err) {
    const char *file = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error(err, "inspect: unknown flag", argv[i]);
        else if (file)
            return usage_error(err, "inspect: extra argument", argv[i]);
        else
            file = argv[i];
    }
    if (!file) {
        fprintf(err, "scopenn: inspect: FILE missing\n\n%s", usage_text);
        return 2;
    }
    sn_checkpoint *ck = NULL;
    if (sn_checkpoint_open(file, &ck) != SN_OK) {
        /* the message is one line, naming the file, the problem, the tensor */
        fprintf(err, "scopenn: %s\n", sn_checkpoint_error(ck));
        sn_checkpoint_close(ck);
        return 1;
    }
    int code = 0;
    if (json) {
        code = print_tensors_json(out, err, file, ck);
    } else {
        for (size_t i = 0; i < sn_checkpoint_tensor_count(ck); i++) {
            sn_checkpoint_tensor info;
            sn_checkpoint_tensor_info(ck, i, &info);
            sn_cli_print_name(out, info.name);
            fprintf(out, "\t%s\t", safetensors_dtype(info.dtype));
            sn_cli_print_dims(out, info.shape.dims, info.shape.rank);
            fprintf(out, "\t%llu\n", (unsigned long long)info.nbytes);
        }
    }
    sn_checkpoint_close(ck);
    return code;
}

int sn_cli_main(int argc, char **argv, FILE *out, FILE *err) {
    if (argc < 2) {
        fputs(usage_text, err);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "info") == 0) return cmd_info(argc, argv, out, err);
    if (strcmp(cmd, "demo") == 0) return sn_cmd_demo(argc, argv, out, err);
    if (strcmp(cmd, "bench") == 0) return sn_cmd_bench(argc, argv, out, err);
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc, argv, out, err);
    if (strcmp(cmd, "run") == 0) return sn_cmd_run(argc, argv, out, err);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, out);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2) return usage_error(err, "version: unknown flag", argv[2]);
        fprintf(out, "scopenn %s\n", sn_version());
        return 0;
    }
    return usage_error(err, cmd[0] == '-' ? "unknown flag" : "unknown command", cmd);
}
