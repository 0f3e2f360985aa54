/* Placeholder: tf.placeholder, a tensor the caller feeds at each run; -1
 * for dimensions unknown until then (the batch, at most the session's
 * max_batch). */
#include "base/alloc.h"
#include "ops/ops.h"
#include "graph/graph.h"

sn_tensor *sn_placeholder(sn_graph *g, const char *name, sn_shape shape) {
    if (!g || sn_graph_failed(g)) return NULL;
    char *wanted = sn_op_wanted_name(g, SN_OP_PLACEHOLDER, name);
    struct sn_op *op = NULL;
    if (!wanted) return NULL;
    if (shape.rank < 0 || shape.rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Placeholder %s: rank %d is not in [0, %d]",
                      wanted, shape.rank, SN_MAX_RANK);
        goto done;
    }
    for (int i = 0; i < shape.rank; i++)
        if (shape.dims[i] < -1) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "Placeholder %s: dimension %d is %lld; sizes are >= 0, or -1 for unknown",
                          wanted, i, (long long)shape.dims[i]);
            goto done;
        }
    op = sn_op_make(g, SN_OP_PLACEHOLDER, wanted, shape, NULL, 0, NULL);
done:
    sn_free(wanted);
    return op ? &op->output : NULL;
}

const struct sn_op_class sn_placeholder_class = {.source = SN_SOURCE_FEED};
