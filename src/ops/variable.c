/* VariableV2: a variable's op. Its builder is sn_get_variable's (src/scope);
 * the session reads the variable's value, and packs it through the pack
 * cache. */
#include "ops/ops.h"

const struct sn_op_class sn_variable_class = {.source = SN_SOURCE_VARIABLE};
