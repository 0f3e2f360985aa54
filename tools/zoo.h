/* The model zoo as the tool's commands use it (`run`, `bench model`):
 * names, building with zeroed variables, loading weights strictly. */
#ifndef SN_TOOLS_ZOO_H
#define SN_TOOLS_ZOO_H

#include <stdio.h>

#include "scopenn.h"

/* 1 if sn_model_build() knows `name`. */
int sn_cli_known_model(const char *name);

/* " resnet18 resnet50 ...": every model's name, each after a space. */
void sn_cli_print_models(FILE *f);

/* Prints "scopenn COMMAND: unknown model 'NAME'; the zoo has: ..." on
 * `err`; returns the exit code 2. */
int sn_cli_unknown_model(FILE *err, const char *command, const char *name);

/* Model `name` on `images`, its variables zeros (not the default glorot
 * draws: a checkpoint or the caller overwrites them, and zeros are much
 * cheaper to make). NULL on error, recorded on the graph. */
sn_tensor *sn_cli_build_model(sn_graph *graph, const char *name, sn_tensor *images);

/* Loads `weights` into the graph of model `model` strictly. Returns 0, or
 * 1 after printing why on `err` ("scopenn COMMAND: ..."): for a file made
 * for another model, how many names are missing and unexpected, and a few
 * of each. */
int sn_cli_load_weights(sn_graph *graph, const char *model, const char *weights,
                        const char *command, FILE *err);

#endif
