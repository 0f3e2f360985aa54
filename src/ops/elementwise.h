/* What the elementwise op classes share: the split of a kernel call over
 * the threads, NumPy broadcasting, and the plans of ops that may run in
 * place. */
#ifndef SN_OPS_ELEMENTWISE_H
#define SN_OPS_ELEMENTWISE_H

#include <stdbool.h>
#include <stddef.h>

#include "ops/ops.h"

/* An elementwise kernel call over `total` rows of `width` floats, split in
 * pieces of `unit` rows. Exactly one kernel is set; all but `row` and
 * `softmax` see their rows as one flat run (width 1). */
struct sn_elementwise {
    sn_f32_vunary_fn unary;
    sn_f32_vlrelu_fn lrelu;
    sn_f32_vbinary_fn same;
    sn_f32_vbinaryc_fn scalar;
    sn_f32_vbinaryrow_fn row;
    sn_f32_softmax_fn softmax;
    const float *a, *b; /* b: the second operand (row: the vector) */
    float c;            /* scalar: the scalar operand; lrelu: alpha */
    float *y;
    size_t total, width, unit;
};

/* Runs the call on the threads when it is big enough to split. */
void sn_elementwise_run(const struct sn_exec *x, struct sn_elementwise *e);

/* Runs the unary kernel `fn` over the node's input into its output. */
void sn_unary_run(const struct sn_exec *x, const struct sn_node *n, sn_f32_vunary_fn fn);

/* Defines `const struct sn_op_class NAME`, a unary op run by the kernel
 * set's FIELD, which a product before it may fold in as its post. */
#define SN_UNARY_CLASS(NAME, FIELD)                                                                \
    static sn_f32_vunary_fn post(const struct sn_kernels *kernels) { return kernels->FIELD; }      \
    static void run(const struct sn_exec *x, const struct sn_node *n) {                            \
        sn_unary_run(x, n, post(x->kernels));                                                      \
    }                                                                                              \
    const struct sn_op_class NAME = {.infer = sn_same_shape_infer,                                 \
                                     .plan = sn_plan_in_place,                                     \
                                     .run = run,                                                   \
                                     .fuse = SN_FUSE_ACTIVATION,                                   \
                                     .post = post}

/* A binary op (add, maximum, subtract, multiply): the kernel set's
 * kernels for the same shape, a scalar operand or a trailing vector
 * (either side: with it first, the kernels of the op with its operands
 * swapped, b - a for a - b); the reference for any other broadcast. */
void sn_binary_run(const struct sn_exec *x, const struct sn_node *n, sn_binary_op op);

/* NumPy broadcasting; -1 broadcasts with 1 and takes a known size. */
bool sn_broadcast_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int n, sn_shape *out,
                        char *why, size_t why_size);

/* The output has the input's shape. */
bool sn_same_shape_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int n, sn_shape *out,
                         char *why, size_t why_size);

/* The plan of an op that may write its output over input 0 where that
 * input dies (its output has input 0's shape, and each output element
 * depends only on the input elements at its own position or before). */
bool sn_plan_in_place(const struct sn_plan *plan, struct sn_node *node, char *why, size_t why_size);

#endif
