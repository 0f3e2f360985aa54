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
    {"mobilenet_v3_large", sn_model_mobilenet_v3_large},
    {"mobilenet_v3_small", sn_model_mobilenet_v3_small},
    {"efficientnet_b0", sn_model_efficientnet_b0},
    {"shufflenet_v2_x1_0", sn_model_shufflenet_v2_x1_0},
};

static const char *const names[] = {
    "resnet18",           "resnet50",           "mobilenet_v2",    "squeezenet1_1",
    "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0",
    NULL};

const char *const *sn_model_names(void) { return names; }

sn_tensor *sn_model_build(sn_graph *graph, const char *name, sn_tensor *images) {
    for (size_t i = 0; name && i < sizeof models / sizeof models[0]; i++)
        if (strcmp(models[i].name, name) == 0) return models[i].build(graph, images);
    char message[160];
    snprintf(message, sizeof message,
             "sn_model_build: unknown model '%.64s' (sn_model_names() "
             "lists them)",
             name ? name : "(null)");
    if (graph) sn_graph_record_error(graph, SN_ERR_INVALID_ARGUMENT, message);
    return NULL;
}
