/* `scopenn demo`: the seeds' two-layer image filter, built with variable
 * scopes, applied to two images that share its four variables, run, and
 * checked against the scalar reference kernels. */
#include "demo.h"

#include "output.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

static const char demo_usage[] =
    "usage: scopenn demo [--json] [--isa scalar|avx2|avx512|neon] [--threads N] [--size HxW]\n";

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *in, int k, int c) {
    sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(k, k, c, c),
                                     sn_random_normal_initializer(0.0f, 0.1f));
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(c), sn_constant_initializer(0.1f));
    sn_tensor *conv = sn_conv2d(g, in, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
    return sn_relu(g, sn_add(g, conv, sn_var(g, b), NULL), NULL);
}

static sn_tensor *my_image_filter(sn_graph *g, sn_tensor *images) {
    sn_tensor *x = images;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") x = conv_relu(g, x, 5, 32);
    SN_WITH_VARIABLE_SCOPE(g, "conv2") x = conv_relu(g, x, 5, 32);
    return x;
}

struct demo_args {
    int json, threads, limit_isa;
    sn_isa isa;
    long h, w;
};

static int parse(int argc, char **argv, struct demo_args *a, FILE *err) {
    *a = (struct demo_args){.threads = 1, .h = 16, .w = 16};
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(f, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (!v) goto bad;
        i++;
        if (strcmp(f, "--isa") == 0 && sn_isa_from_name(v, &a->isa) == SN_OK) {
            a->limit_isa = 1;
        } else if (strcmp(f, "--threads") == 0 && sn_cli_parse_long(v, 0, 256, &n)) {
            a->threads = (int)n;
        } else if (strcmp(f, "--size") == 0) {
            char *x = strchr(v, 'x');
            char hs[16], ws[16];
            if (!x || x - v >= 16 || strlen(x + 1) >= 16) goto bad;
            memcpy(hs, v, (size_t)(x - v));
            hs[x - v] = '\0';
            strcpy(ws, x + 1);
            if (!sn_cli_parse_long(hs, 1, 4096, &a->h) || !sn_cli_parse_long(ws, 1, 4096, &a->w))
                goto bad;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(err, "scopenn demo: bad flag or value '%s%s%s'\n\n%s", f, v ? " " : "", v ? v : "",
                demo_usage);
        return 0;
    }
    return 1;
}

int sn_cmd_demo(int argc, char **argv, FILE *out, FILE *err) {
    struct demo_args a;
    if (!parse(argc, argv, &a, err)) return 2;
    int code = 1;
    size_t pixels = (size_t)(a.h * a.w * 32);
    float *image1 = malloc(pixels * sizeof(float)), *image2 = malloc(pixels * sizeof(float));
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 42});
    sn_session *s = NULL, *ref = NULL;
    if (!image1 || !image2 || !g) {
        fprintf(err, "scopenn demo: out of memory\n");
        goto done;
    }
    sn_tensor *in1 = sn_placeholder(g, "image1", SN_SHAPE(1, a.h, a.w, 32));
    sn_tensor *in2 = sn_placeholder(g, "image2", SN_SHAPE(1, a.h, a.w, 32));
    sn_tensor *r1 = NULL, *r2 = NULL;
    SN_WITH_VARIABLE_SCOPE_AS(g, "image_filters", SN_REUSE_INHERIT, scope) {
        r1 = my_image_filter(g, in1);
        sn_scope_reuse_variables(scope);
        r2 = my_image_filter(g, in2); /* the same 4 variables */
    }
    sn_session_options opt = {.threads = a.threads, .limit_isa = a.limit_isa, .max_isa = a.isa};
    s = sn_session_create(g, SN_FETCH(r1, r2), &opt);
    ref = sn_session_create(
        g, SN_FETCH(r1, r2),
        &(sn_session_options){.threads = 1, .limit_isa = true, .max_isa = SN_ISA_SCALAR});
    if (!s || !ref) {
        fprintf(err, "scopenn demo: %s\n", sn_graph_error(g));
        goto done;
    }
    uint32_t seed = 7;
    for (size_t i = 0; i < pixels; i++) {
        seed = seed * 1664525u + 1013904223u;
        image1[i] = (float)(seed >> 8) / 16777216.0f;
        image2[i] = 1.0f - image1[i];
    }
    sn_feed feeds[2] = {{in1, image1, SN_SHAPE(1, a.h, a.w, 32)},
                        {in2, image2, SN_SHAPE(1, a.h, a.w, 32)}};
    sn_output got[2], want[2];
    if (sn_session_run(s, feeds, 2, got) != SN_OK) { /* also warms up */
        fprintf(err, "scopenn demo: %s\n", sn_session_error(s));
        goto done;
    }
    int iterations = 0;
    double start = 1e3 * sn_cli_now_seconds(), elapsed;
    do {
        sn_session_run(s, feeds, 2, got);
        iterations++;
    } while ((elapsed = 1e3 * sn_cli_now_seconds() - start) < 200.0 && iterations < 1000);
    double ms_per_image = elapsed / iterations / 2.0;
    if (sn_session_run(ref, feeds, 2, want) != SN_OK) {
        fprintf(err, "scopenn demo: %s\n", sn_session_error(ref));
        goto done;
    }
    double max_err = 0.0;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < pixels; i++) {
            double d = got[k].data[i] - want[k].data[i];
            if (d < 0) d = -d;
            if (d > max_err) max_err = d;
        }
    sn_session_stats st;
    sn_session_stats_get(s, &st);

    if (a.json) {
        cJSON *root = cJSON_CreateObject();
        int ok = cJSON_AddStringToObject(root, "isa", sn_isa_name(st.isa)) != NULL;
        cJSON *vars = cJSON_AddArrayToObject(root, "variables");
        ok &= vars != NULL;
        for (size_t i = 0; ok && i < sn_graph_variable_count(g); i++) {
            cJSON *name = cJSON_CreateString(sn_variable_tensor_name(sn_graph_variable(g, i)));
            ok &= name != NULL && cJSON_AddItemToArray(vars, name);
        }
        char size[48];
        snprintf(size, sizeof size, "%ldx%ld", a.h, a.w);
        ok &= cJSON_AddNumberToObject(root, "packs_made", (double)st.packs_made) != NULL &&
              cJSON_AddNumberToObject(root, "packs_reused", (double)st.packs_reused) != NULL &&
              cJSON_AddNumberToObject(root, "pack_ms", st.pack_ms) != NULL &&
              cJSON_AddNumberToObject(root, "max_abs_err_vs_reference", max_err) != NULL &&
              cJSON_AddNumberToObject(root, "ms_per_image", ms_per_image) != NULL &&
              cJSON_AddNumberToObject(root, "threads", st.threads) != NULL &&
              cJSON_AddStringToObject(root, "size", size) != NULL;
        if (sn_cli_print_json(root, ok, out, err) != 0) goto done;
    } else {
        fprintf(
            out,
            "image filter (seeds 000-002): two 5x5 conv layers, 32 -> 32 channels, bias, relu,\n");
        fprintf(
            out,
            "applied to two %ldx%ld images under variable scope image_filters (reuse_variables)\n",
            a.h, a.w);
        fprintf(out, "variables:");
        for (size_t i = 0; i < sn_graph_variable_count(g); i++)
            fprintf(out, " %s", sn_variable_tensor_name(sn_graph_variable(g, i)));
        fprintf(out, "\npacks: %zu made, %zu reused (%zu bytes, packed in %.3f ms)\n",
                st.packs_made, st.packs_reused, st.packed_bytes, st.pack_ms);
        fprintf(out, "kernels: %zu calls per run (%zu ops fused), arena %zu bytes\n", st.ops,
                st.fused, st.arena_bytes);
        fprintf(out, "isa: %s, threads: %d\n", sn_isa_name(st.isa), st.threads);
        fprintf(out, "max abs error vs reference kernels: %g\n", max_err);
        fprintf(out, "time: %.3f ms per image\n", ms_per_image);
    }
    code = max_err <= 1e-3 ? 0 : 1;
    if (code) fprintf(err, "scopenn demo: the result differs from the reference by %g\n", max_err);
done:
    sn_session_destroy(s);
    sn_session_destroy(ref);
    sn_graph_destroy(g);
    free(image1);
    free(image2);
    return code;
}
