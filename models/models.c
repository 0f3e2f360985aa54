/* The model zoo by name: sn_model_build(), sn_model_names(). */
#include "scopenn_models.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    sn_tensor *(*build)(sn_graph *, sn_tensor *);
} models[] = {
    {"resnet18", sn_model_resnet18},
    {"resnet50", sn_model_resnet50},
    {"mobilenet_v2", sn_model_mobilenet_v2},
    {"squeezenet1_1", sn_model_squeezenet1_1},
};

static const char *const names[] = {"resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", NULL};

const char *const *sn_model_names(void) { return names; }

sn_tensor *sn_model_build(sn_graph *graph, const char *name, sn_tensor *images) {
    for (size_t i = 0; name && i < sizeof models / sizeof models[0]; i++)
        if (strcmp(models[i].name, name) == 0) return models[i].build(graph, images);
    /* The public API has no call that records an error of our own: open a
     * name scope whose name is invalid and says what is wrong, which records
     * SN_ERR_INVALID_ARGUMENT naming it (sticky, as every builder error). */
    char message[160];
    snprintf(message, sizeof message, "unknown model '%.64s' (sn_model_names() lists them)",
             name ? name : "(null)");
    if (sn_name_scope_open(graph, message)) sn_name_scope_close(graph);
    return NULL;
}
