#include "zoo.h"

#include "output.h"

#include <string.h>

#include "scopenn_models.h"

/* Names printed when a list is too long to print whole. */
#define NAMES_SHOWN 4

int sn_cli_known_model(const char *name) {
    for (const char *const *m = sn_model_names(); *m; m++)
        if (strcmp(*m, name) == 0) return 1;
    return 0;
}

void sn_cli_print_models(FILE *f) {
    for (const char *const *m = sn_model_names(); *m; m++) fprintf(f, " %s", *m);
}

int sn_cli_unknown_model(FILE *err, const char *command, const char *name) {
    fprintf(err, "scopenn %s: unknown model '%s'; the zoo has:", command, name);
    sn_cli_print_models(err);
    fputc('\n', err);
    return 2;
}

sn_tensor *sn_cli_build_model(sn_graph *g, const char *name, sn_tensor *images) {
    sn_scope *root =
        sn_variable_scope_reenter(g, sn_current_scope(g), SN_REUSE_INHERIT, sn_zeros_initializer());
    sn_tensor *logits = sn_model_build(g, name, images);
    sn_variable_scope_close(g, root);
    return logits;
}

/* "COUNT WHAT (a, b, c, d, ...)": a list of names, its first few. */
static void print_names(FILE *err, size_t count, const char *const *names, const char *what) {
    fprintf(err, "%zu %s (", count, what);
    for (size_t i = 0; i < count && i < NAMES_SHOWN; i++) {
        fputs(i ? ", " : "", err);
        sn_cli_print_name(err, names[i]);
    }
    fputs(count > NAMES_SHOWN ? ", ...)" : ")", err);
}

int sn_cli_load_weights(sn_graph *g, const char *model, const char *weights, const char *command,
                        FILE *err) {
    sn_load_report *report = NULL;
    if (sn_graph_load_checkpoint(g, weights, true, &report) == SN_OK) {
        sn_load_report_free(report);
        return 0;
    }
    fprintf(err, "scopenn %s: ", command);
    if (report && (report->missing_count || report->unexpected_count)) {
        fprintf(err, "%s: not the weights of %s: ", weights, model);
        if (report->missing_count)
            print_names(err, report->missing_count, report->missing,
                        "variables of the model missing from the file");
        if (report->missing_count && report->unexpected_count) fputs("; ", err);
        if (report->unexpected_count)
            print_names(err, report->unexpected_count, report->unexpected,
                        "tensors in the file that the model does not have");
    } else {
        fputs(sn_graph_error(g), err);
    }
    fputc('\n', err);
    sn_load_report_free(report);
    return 1;
}
