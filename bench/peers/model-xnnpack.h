/* A whole network of scopenn's zoo (models/) built from XNNPACK's
 * operators (model-xnnpack.c), for `peers model` (peers-model.c). */
#ifndef SN_BENCH_PEERS_MODEL_XNNPACK_H
#define SN_BENCH_PEERS_MODEL_XNNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "scopenn.h"

struct xnn_model;

/* Model `name` on NHWC images [n, h, w, 3], its weights read from the
 * variables of `graph`: a graph in which sn_model_build(graph, name, ...)
 * was called (in its root variable scope) and whose variables hold the
 * weights, e.g. loaded from a checkpoint. Every variable must be used,
 * each by its full name and shape, so a mismatch with the zoo's model is
 * an error. Batch norms are folded into the convolutions before them;
 * XNNPACK packs the weights when it creates an operator, so the graph may
 * change or go once this returns. Every operator is set up on fixed
 * buffers, so a run is xnn_run_operator() on each in turn, on a
 * pthreadpool of `threads` threads (none for 1). Returns the model, or
 * NULL after writing why (naming the operator or variable) into err. */
struct xnn_model *xnn_model_create(sn_graph *graph, const char *name, int64_t n, int64_t h,
                                   int64_t w, int threads, char *err, size_t err_size);

/* The input buffer, [n, h, w, 3] floats, to be written before a run. */
float *xnn_model_input(struct xnn_model *m);

/* One inference. Returns 0, or 1 after writing why into err. (The
 * signature peers_time() takes.) */
int xnn_model_run(void *model, char *err, size_t err_size);

/* The logits of the last run, [n, classes]. */
const float *xnn_model_output(const struct xnn_model *m);
int64_t xnn_model_classes(const struct xnn_model *m);

/* The number of XNNPACK operators a run runs. */
size_t xnn_model_operators(const struct xnn_model *m);

/* NULL is a no-op. */
void xnn_model_destroy(struct xnn_model *m);

#endif
