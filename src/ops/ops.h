/* Op classes: everything about one kind of op in one file of src/ops/.
 *
 * A class holds the op's shape inference (the builders and the runtime
 * both use it), its `plan` (at session create: the algorithm, the packs it
 * reads, the workspace it wants, whether its output may be a view) and its
 * `run` (one call per node and run). The compile passes (src/compile/) and
 * the session (src/runtime/) only call through the class: nothing outside
 * src/ops/ switches on the op kind. sn_op_classes (ops/table.c) lists
 * every class, with a static_assert that it covers every kind.
 *
 * Adding an op: one line in graph/op-kinds.inc (its kind, names and
 * class), one file here with its builder, infer, plan and run, its kernels
 * and their list lines, a tester, and its builder in include/scopenn.h.
 * docs/architecture.md walks through it. */
#ifndef SN_OPS_OPS_H
#define SN_OPS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algo/parallel.h"
#include "graph/op.h"
#include "kernels/kernels.h"
#include "pack/pack.h"
#include "scopenn.h"

/* ---- what a session holds per tensor and per node ----------------------- */

/* Where a value's data comes from. */
enum sn_value_kind {
    SN_VALUE_COMPUTED, /* by a node, into the arena */
    SN_VALUE_FEED,     /* a placeholder, from the caller's memory */
    SN_VALUE_VARIABLE, /* a variable's value */
    SN_VALUE_CONST,    /* a constant in the graph */
};

/* A tensor of the session. */
struct sn_value {
    const sn_tensor *tensor;
    enum sn_value_kind kind;
    sn_dtype dtype;
    sn_shape planned;   /* with every -1 batch at max_batch */
    size_t bytes;       /* computed: its planned bytes, a whole number of cache lines */
    size_t offset;      /* computed: its bytes' offset in the arena */
    int view_of;        /* computed: -1, or the value whose buffer it is in (compile/memory.c) */
    size_t view_offset; /* where in that value's bytes it starts */
    /* floats from one pixel's run of the last dimension to the next: 0 for
     * a dense tensor; the output's channels for a part of a concat along
     * channels (only a node whose plan says strided_output makes such a
     * value, and only the concat reads it) or for a slice along the
     * channels left in its source (a split's piece: only nodes whose plan
     * says strided_inputs read it) */
    size_t pixel_stride;
    int first, last; /* nodes producing and last reading it */
    bool fetched;
    sn_shape shape;   /* this run's */
    const void *data; /* this run's */
};

/* The algorithm a node runs, for the stats and the profile. */
enum sn_algorithm {
    SN_ALGO_KERNEL,    /* the kernel set's kernel for the op */
    SN_ALGO_REFERENCE, /* the scalar reference kernel */
    SN_ALGO_DIRECT,    /* direct convolution on the tile kernels */
    SN_ALGO_GEMM,      /* matrix product on the tile kernels */
    SN_ALGO_WINOGRAD,
    SN_ALGO_STRASSEN,
    SN_ALGO_VIEW, /* nothing to compute: the output is a view of an input */
};

/* The most packs a node reads, sources a pack is made from, and ops the
 * fuse pass folds into a node (a bias, a batch norm, an activation). */
enum { SN_NODE_PACKS = 2, SN_PACK_SOURCES = 6, SN_NODE_FUSED = 3 };

/* A pack a node reads: made by `packer` (with block `nr`) from the values
 * `sources`. The compile step finds it in the graph's pack cache when
 * every source is a variable; otherwise the node packs it at each run into
 * a buffer of its own. A reference packer over one computed source reads
 * the value as it is. */
struct sn_pack_use {
    const sn_packer *packer; /* NULL: none */
    int nr;
    struct sn_pack_params params; /* a multi-source packer's */
    int sources[SN_PACK_SOURCES]; /* value indices */
    int source_count;
    struct sn_pack *cached; /* from the cache */
    float *scratch;         /* packed at each run */
    float *temp;            /* the packing's own scratch, at each run */
};

/* One op's run: the op with what the fuse pass folded into it. */
struct sn_node {
    const struct sn_op *op;
    const struct sn_op_class *cls;
    int *inputs; /* value indices of op's inputs */
    int input_count;
    int bias; /* a fused bias: value index, or -1 */
    /* a fused batch normalization: mean, variance, offset, scale (value
     * indices), or bn[0] = -1; folded into the packs (S25) */
    int bn[4];
    float bn_epsilon;
    sn_activation act; /* a fused activation that clamps (relu, relu6) */
    /* a fused activation that is no clamp, or NULL: its unary kernel in
     * the node's kernel set, applied in place to the output once computed
     * (the products apply it to each work item's part while it is in
     * cache; the same bits as the op on its own, which runs that kernel) */
    sn_f32_vunary_fn (*post)(const struct sn_kernels *kernels);
    int out; /* value index */
    /* the ops folded into it, in order, for the profile */
    const struct sn_op *fused[SN_NODE_FUSED];
    int fused_count;
    /* set by lower: the kernels for the dtype it computes in */
    const struct sn_kernels *kernels;
    /* set by the class's plan */
    enum sn_algorithm algorithm;
    const struct sn_conv_config *gemm; /* a product's kernel, packer and tile */
    struct sn_pack_use packs[SN_NODE_PACKS];
    size_t workspace_bytes;  /* in the arena, for this node's run only */
    size_t workspace_align;  /* a power of 2; 64 if 0 */
    size_t workspace_part;   /* per-thread workspaces: elements from one thread's to the next */
    size_t zeros;            /* floats of zeros its run may read (sn_exec.zeros) */
    int view_input;          /* the output may be this input's buffer, reshaped, or -1 */
    bool strided_output;     /* its run writes the output with its value's pixel_stride */
    uint32_t strided_inputs; /* bit k: its run reads input k with its value's pixel_stride */
    /* a slice of input 0 along its last dimension, from float slice_begin
     * of each pixel's run (a split's piece): the output may stay in the
     * input's buffer, with the input's pixel stride, if every node that
     * reads it has that input's bit in strided_inputs */
    bool strided_slice;
    size_t slice_begin;
    bool inputs_in_output; /* a concat: its producers may write each input into its
                            * part of the output (along attrs.axis) */
    int in_place_input;    /* the output may take this input's buffer where it dies, or -1 */
    /* set by plan memory */
    size_t workspace_offset;
};

/* What a plan sees. */
struct sn_plan {
    sn_isa isa; /* the kernel set, under the ISA cap: see sn_kernels_get */
    const struct sn_threads *threads;
    bool direct_conv, direct_matmul; /* the session's options */
    const struct sn_value *values;   /* their planned shapes and kinds */
};

/* What a run sees. */
struct sn_exec {
    const struct sn_kernels *kernels; /* the node's */
    const struct sn_threads *threads;
    struct sn_value *values;
    const float *zeros;
    void *workspace;                    /* the node's, or NULL */
    const float *packed[SN_NODE_PACKS]; /* the node's packs this run */
};

/* ---- the class ----------------------------------------------------------- */

/* How an op takes part in fusion (compile/fuse.c). */
enum sn_fuse_role {
    SN_FUSE_NONE,
    SN_FUSE_HEAD,       /* a product that takes a bias and an activation */
    SN_FUSE_BIAS,       /* adds a per-channel vector: bias_operand says which */
    SN_FUSE_BATCH_NORM, /* inputs 1-4: mean, variance, offset, scale; attrs.epsilon */
    SN_FUSE_ACTIVATION, /* `activation`, or `post` */
};

/* How the session binds a source op's value (an op with no node). */
enum sn_source {
    SN_SOURCE_NONE, /* computed by a node */
    SN_SOURCE_FEED,
    SN_SOURCE_VARIABLE,
    SN_SOURCE_CONST,
};

struct sn_op_class {
    enum sn_source source;
    /* The output shape from the inputs' shapes; unknown dimensions (-1)
     * propagate, so the builders and each run use the same function. On a
     * mismatch false, with why (a phrase: "input channels 3 do not match
     * the filter's 32"). NULL for sources: their builders set the shape. */
    bool (*infer)(const struct sn_op_attrs *attrs, const sn_shape *inputs, int input_count,
                  sn_shape *out, char *why, size_t why_size);
    /* Chooses the algorithm, the packs, the workspace and views. False
     * with why if the node cannot run. NULL: the kernel set's kernel, no
     * packs, no workspace. */
    bool (*plan)(const struct sn_plan *plan, struct sn_node *node, char *why, size_t why_size);
    /* Runs the node (its output is not empty). */
    void (*run)(const struct sn_exec *exec, const struct sn_node *node);
    /* The floating-point operations of one run, for the profile: 2 per
     * multiply-add of a product counted as a direct convolution (every
     * tap, padding included). NULL: one per output element (an
     * elementwise op); sn_flops_none for an op that only moves data. */
    int64_t (*flops)(const struct sn_op_attrs *attrs, const sn_shape *inputs, int input_count,
                     const sn_shape *out);
    enum sn_fuse_role fuse;
    sn_activation activation; /* SN_FUSE_ACTIVATION: a clamp */
    /* SN_FUSE_ACTIVATION that is no clamp (sigmoid, swish, ...): its
     * unary kernel in a kernel set, which the node it folds into applies
     * to its output (see struct sn_node's post) */
    sn_f32_vunary_fn (*post)(const struct sn_kernels *kernels);
    /* SN_FUSE_BIAS: the bias of `value`'s output fed through op, if op can
     * fold into value's node as its bias: NULL otherwise */
    const sn_tensor *(*bias_operand)(const struct sn_op *op, const sn_tensor *value);
};

extern const struct sn_op_class *const sn_op_classes[SN_OP_TYPE_COUNT];

static inline const struct sn_op_class *sn_op_class(const struct sn_op *op) {
    return sn_op_classes[op->type];
}

/* ---- helpers for the classes ------------------------------------------- */

/* Bytes per element of a dtype the session computes in (only f32 today);
 * 0 for any other. */
static inline size_t sn_dtype_size(sn_dtype dtype) { return dtype == SN_F32 ? sizeof(float) : 0; }

/* The shape inference of an op kind (sn_op_classes' infer; true for
 * sources). */
bool sn_infer_shape(sn_op_type type, const struct sn_op_attrs *attrs, const sn_shape *inputs,
                    int input_count, sn_shape *out, char *why, size_t why_size);

/* Builds an op of `type` from its inputs: checks them, infers the shape
 * through the class, names it (S18-S20). The error, if any, names the op
 * and every input's shape. */
sn_tensor *sn_build_op(sn_graph *graph, sn_op_type type, sn_tensor *const *inputs, int count,
                       const struct sn_op_attrs *attrs, const char *name);

/* Refuses to build an op of `type` on `inputs` for an argument the
 * builder checks itself (an axis out of range, a negative padding):
 * SN_ERR_INVALID_ARGUMENT, with why (printf's `format`) worded as
 * sn_build_op words a mismatch, naming the op as it would have been named
 * and the inputs' shapes. An input that is NULL or of another graph is
 * reported as sn_build_op reports it. Returns NULL. */
sn_tensor *sn_build_refuse(sn_graph *graph, sn_op_type type, sn_tensor *const *inputs, int count,
                           const char *name, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

/* The data of pack use k of a node this run. */
static inline const float *sn_exec_pack(const struct sn_exec *x, int k) { return x->packed[k]; }

/* 0: the flops of an op that only moves data (sn_op_class.flops). */
int64_t sn_flops_none(const struct sn_op_attrs *attrs, const sn_shape *inputs, int input_count,
                      const sn_shape *out);

/* The flops of node n at this run's shapes (values[].shape): its op's
 * (its class's count), plus one per output element for each op folded
 * into it. `scratch` holds as many shapes as the node has inputs. */
int64_t sn_node_flops(const struct sn_node *n, const struct sn_value *values, sn_shape *scratch);

/* Elements of this run's shape of value v. */
size_t sn_value_count(const struct sn_exec *x, int v);

/* The node's post in its run's kernel set, or NULL. */
static inline sn_f32_vunary_fn sn_node_post(const struct sn_exec *x, const struct sn_node *n) {
    return n->post ? n->post(x->kernels) : NULL;
}

/* Applies the node's post (struct sn_node) to all of its output, in
 * place, with the output's pixel stride: for the algorithms that do not
 * apply it as they go (ops/elementwise.c). Nothing without a post. */
void sn_post_run(const struct sn_exec *x, const struct sn_node *n);

#endif
