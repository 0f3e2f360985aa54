/* The variable op's builder, for src/scope. */
#ifndef SN_OPS_VARIABLE_H
#define SN_OPS_VARIABLE_H

#include "scopenn.h"

/* Makes the op of `variable` (src/scope's), named `name` (the variable's
 * full name) or suffixed if an op has it, with the variable's `shape`.
 * Returns its output, or NULL (error recorded) when out of memory. */
sn_tensor *sn_op_make_variable(sn_graph *graph, sn_variable *variable, const char *name,
                               sn_shape shape);

#endif
