/* The op classes, one per op kind. */
#include <assert.h>

#include "ops/ops.h"

#define CLASSES(X)                                                                                 \
    X(PLACEHOLDER, placeholder)                                                                    \
    X(VARIABLE, variable)                                                                          \
    X(CONST, const)                                                                                \
    X(ADD, add)                                                                                    \
    X(MAXIMUM, maximum)                                                                            \
    X(BIAS_ADD, bias_add)                                                                          \
    X(ADD_N, add_n)                                                                                \
    X(RELU, relu)                                                                                  \
    X(RELU6, relu6)                                                                                \
    X(SIGMOID, sigmoid)                                                                            \
    X(TANH, tanh)                                                                                  \
    X(SOFTMAX, softmax)                                                                            \
    X(CONV2D, conv2d)                                                                              \
    X(MATMUL, matmul)                                                                              \
    X(MAX_POOL, max_pool)                                                                          \
    X(AVG_POOL, avg_pool)                                                                          \
    X(RESHAPE, reshape)                                                                            \
    X(LRN, lrn)

#define DECLARE(kind, name) extern const struct sn_op_class sn_##name##_class;
CLASSES(DECLARE)
#undef DECLARE

#define ENTRY(kind, name) [SN_OP_##kind] = &sn_##name##_class,
const struct sn_op_class *const sn_op_classes[SN_OP_TYPE_COUNT] = {CLASSES(ENTRY)};
#undef ENTRY

/* Every kind has a class: as many entries as kinds (a kind listed twice or
 * out of range fails to compile, or would leave a NULL this counts). */
#define ONE(kind, name) +1
static_assert(0 CLASSES(ONE) == SN_OP_TYPE_COUNT, "an op kind has no class in ops/table.c");
#undef ONE
