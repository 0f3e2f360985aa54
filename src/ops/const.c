/* Const: tf.constant, a scalar (sn_scalar). */
#include "base/alloc.h"
#include "ops/ops.h"
#include "graph/graph.h"

sn_tensor *sn_scalar(sn_graph *g, float value, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    char *wanted = sn_op_wanted_name(g, SN_OP_CONST, name);
    struct sn_op_attrs at = {.value = value};
    struct sn_op *op = wanted ? sn_op_make(g, SN_OP_CONST, wanted, SN_SCALAR, NULL, 0, &at) : NULL;
    sn_free(wanted);
    return op ? &op->output : NULL;
}

const struct sn_op_class sn_const_class = {.source = SN_SOURCE_CONST};
