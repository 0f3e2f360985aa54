/* The op classes, one per op kind, from the list of kinds
 * (graph/op-kinds.inc): a kind whose class is not defined in src/ops/
 * fails to link. */
#include <assert.h>

#include "ops/ops.h"

#define SN_OP_KIND(kind, type_name, default_name, class_name)                                      \
    extern const struct sn_op_class sn_##class_name##_class;
#include "graph/op-kinds.inc"
#undef SN_OP_KIND

const struct sn_op_class *const sn_op_classes[] = {
#define SN_OP_KIND(kind, type_name, default_name, class_name)                                      \
    [SN_OP_##kind] = &sn_##class_name##_class,
#include "graph/op-kinds.inc"
#undef SN_OP_KIND
};

static_assert(sizeof sn_op_classes / sizeof *sn_op_classes == SN_OP_TYPE_COUNT,
              "every op kind has exactly one class");
