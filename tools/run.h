#ifndef SN_TOOLS_RUN_H
#define SN_TOOLS_RUN_H

#include <stdio.h>

/* `scopenn run MODEL --weights FILE --input FILE [FLAGS]`: runs a model of
 * the zoo (sn_model_names()) on the images of a safetensors file, its
 * weights loaded strictly from another, and prints each image's top-K
 * classes with their softmax probabilities and logits. `scopenn run
 * --help` lists the flags. Returns the exit code: 0 ok, 1 a run-time
 * failure (a bad file, weights that do not fit; message on `err`), 2 a bad
 * flag or an unknown model (usage on `err`). */
int sn_cmd_run(int argc, char **argv, FILE *out, FILE *err);

#endif
