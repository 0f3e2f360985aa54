/* VariableV2: a variable's op. sn_get_variable (src/scope) makes it; the
 * session reads the variable's value, and packs it through the pack
 * cache. */
#include "ops/variable.h"

#include "graph/op.h"
#include "ops/ops.h"

sn_tensor *sn_op_make_variable(sn_graph *g, sn_variable *v, const char *name, sn_shape shape) {
    /* One namespace for ops and variables' ops, as in TensorFlow: the op
     * takes the variable's full name, or a suffixed one if an op has it */
    struct sn_op *op = sn_op_make(g, SN_OP_VARIABLE, name, shape, NULL, 0, NULL);
    if (!op) return NULL;
    op->variable = v;
    return &op->output;
}

const struct sn_op_class sn_variable_class = {.source = SN_SOURCE_VARIABLE};
