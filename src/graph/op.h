/* Ops and tensors: the nodes of a graph. */
#ifndef SN_GRAPH_OP_H
#define SN_GRAPH_OP_H

#include <stddef.h>
#include <stdint.h>

#include "scopenn.h"

typedef enum sn_op_type {
#define SN_OP_KIND(kind, type_name, default_name, class_name) SN_OP_##kind,
#include "graph/op-kinds.inc"
#undef SN_OP_KIND
    SN_OP_TYPE_COUNT
} sn_op_type;

struct sn_tensor {
    struct sn_op *op;
    sn_shape shape; /* -1: unknown until run time */
    sn_dtype dtype;
    char *name; /* "op:0" */
};

/* Explicit padding (attrs.pads), beside SAME and VALID. */
#define SN_PADDING_EXPLICIT ((sn_padding)2)

/* A piece of a Split: [lo, hi) along its axis, bound k at num[k] * dim /
 * den + offset[k] (dim: the input's size along the axis, maybe known only
 * at run time), which must be `total` unless that is -1. */
struct sn_split_piece {
    int64_t offset[2], total;
    int num[2], den;
};

/* What an op needs besides its inputs. */
struct sn_op_attrs {
    sn_hw strides, dilations, ksize; /* conv and pooling */
    sn_padding padding;
    sn_pads pads;                  /* SN_PADDING_EXPLICIT */
    bool count_include_pad;        /* AvgPool with explicit padding */
    bool transpose_a, transpose_b; /* MatMul */
    bool keepdims;                 /* Mean */
    unsigned axes;                 /* Mean: bit d set if dimension d is reduced */
    /* one op reads one of them: they share bytes (every op copies the attrs) */
    union {
        sn_shape shape;                   /* Reshape's target, -1 allowed once */
        int64_t paddings[SN_MAX_RANK][2]; /* Pad: before and after each dimension */
        int perm[SN_MAX_RANK];            /* Transpose: output dimension d is input perm[d] */
        struct sn_split_piece piece;      /* Split */
    };
    int depth_radius;        /* LRN */
    float bias, alpha, beta; /* LRN */
    float value;             /* Const; Pad's constant */
    int axis;                /* ConcatV2, Split: in [0, rank) */
    float epsilon;           /* FusedBatchNormV3 */
};

struct sn_op {
    sn_graph *graph;
    size_t index; /* in graph->ops */
    sn_op_type type;
    const char *name; /* interned in the graph */
    sn_tensor **inputs;
    int input_count;
    struct sn_op_attrs attrs;
    sn_variable *variable; /* a variable's op: the variable (src/scope) */
    sn_tensor output;
};

/* TensorFlow's type name ("Add") and default op name ("add") of a type. */
const char *sn_op_type_name(sn_op_type type);
const char *sn_op_default_name(sn_op_type type);

/* The name a new op asks for: `name` (validated) or the type's default,
 * under the current name scope. A heap string, or NULL (error recorded). */
char *sn_op_wanted_name(sn_graph *graph, sn_op_type type, const char *name);

/* Makes an op named uniquely after `wanted` (S20), once everything else
 * about it is known to be good: a shape too large to ever run is refused,
 * naming the dimension, and a call that fails takes no name. NULL (error
 * recorded) on failure. */
struct sn_op *sn_op_make(sn_graph *graph, sn_op_type type, const char *wanted, sn_shape shape,
                         sn_tensor *const *inputs, int input_count,
                         const struct sn_op_attrs *attrs);

/* Frees an op (its inputs array, tensor name and itself). */
void sn_op_free(struct sn_op *op);

#endif
