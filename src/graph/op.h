/* Ops and tensors: the nodes of a graph. */
#ifndef SN_GRAPH_OP_H
#define SN_GRAPH_OP_H

#include "scopenn.h"

typedef enum sn_op_type {
    SN_OP_PLACEHOLDER,
    SN_OP_VARIABLE,
    SN_OP_CONST,
    SN_OP_ADD,
    SN_OP_MAXIMUM,
    SN_OP_RELU,
    SN_OP_TYPE_COUNT
} sn_op_type;

enum { SN_OP_MAX_INPUTS = 2 };

struct sn_tensor {
    struct sn_op *op;
    sn_shape shape;
    sn_dtype dtype;
    char *name; /* "op:0" */
};

struct sn_op {
    sn_graph *graph;
    sn_op_type type;
    const char *name; /* interned in the graph */
    sn_tensor *inputs[SN_OP_MAX_INPUTS];
    int input_count;
    sn_tensor output;
    float value;           /* SN_OP_CONST */
    sn_variable *variable; /* SN_OP_VARIABLE */
};

/* TensorFlow's type name ("Add") and default op name ("add") of a type. */
const char *sn_op_type_name(sn_op_type type);
const char *sn_op_default_name(sn_op_type type);

/* Makes a variable's op, named exactly after the variable. Returns its
 * output, or NULL (error recorded) when out of memory. */
sn_tensor *sn_op_make_variable(sn_graph *graph, sn_variable *variable);

/* Frees an op (its tensor name and itself). */
void sn_op_free(struct sn_op *op);

#endif
