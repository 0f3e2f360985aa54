/* Fuse: one node per op that computes, in creation order (a topological
 * order), with the ops after a product folded into its node where each is
 * the only consumer of the one before it and is not fetched. What may
 * follow, in order, each step optional, is the pattern table below: a
 * bias, a batch normalization (folded into the product's packs, S25),
 * then an activation: a clamp the tile kernels apply (relu, relu6), or a
 * unary kernel the node applies to its output (sigmoid, tanh, swish,
 * hard_sigmoid, hard_swish: struct sn_node's post). The op classes say
 * which role an op plays (enum sn_fuse_role). */
#include <assert.h>

#include "base/alloc.h"
#include "compile/compile.h"
#include "graph/graph.h"

static const enum sn_fuse_role pattern[] = {SN_FUSE_BIAS, SN_FUSE_BATCH_NORM, SN_FUSE_ACTIVATION};
static_assert(sizeof pattern / sizeof *pattern == SN_NODE_FUSED, "a node holds its fused ops");

/* The fused node runs where its head is in the op order, so a bias must
 * be ready by then: a source (variable, constant or feed), or made before
 * the head. */
static bool ready_before(const sn_tensor *t, const struct sn_op *head) {
    return sn_op_class(t->op)->source != SN_SOURCE_NONE || t->op->index < head->index;
}

/* The op after `last` in n's pattern, if it plays `role` and may fold. */
static const struct sn_op *next_in_pattern(const struct sn_program *p, const struct sn_usage *u,
                                           const struct sn_op *last, enum sn_fuse_role role) {
    if (u->uses[last->index] != 1 || u->fetched[last->index]) return NULL;
    const struct sn_op *c = p->graph->ops[u->only_user[last->index]];
    return sn_op_class(c)->fuse == role ? c : NULL;
}

bool sn_fuse(struct sn_program *p, struct sn_usage *u) {
    sn_graph *g = p->graph;
    for (size_t k = 0; k < g->op_count; k++) {
        const struct sn_op *op = g->ops[k];
        const struct sn_op_class *cls = sn_op_class(op);
        if (!u->needed[k] || u->covered[k] || cls->source != SN_SOURCE_NONE) continue;
        struct sn_node *n = &p->nodes[p->node_count];
        *n = (struct sn_node){.op = op,
                              .cls = cls,
                              .bias = -1,
                              .bn = {-1, -1, -1, -1},
                              .view_input = -1,
                              .in_place_input = -1};
        if (!(n->inputs = sn_malloc((size_t)op->input_count * sizeof *n->inputs))) {
            sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory compiling %s", op->name);
            return false;
        }
        p->node_count++;
        n->input_count = op->input_count;
        for (int i = 0; i < op->input_count; i++)
            n->inputs[i] = sn_program_value(p, u, op->inputs[i]);
        const struct sn_op *last = op;
        for (size_t step = 0; cls->fuse == SN_FUSE_HEAD && step < sizeof pattern / sizeof *pattern;
             step++) {
            const struct sn_op *c = next_in_pattern(p, u, last, pattern[step]);
            if (!c) continue;
            if (pattern[step] == SN_FUSE_BIAS) {
                const sn_tensor *bias = sn_op_class(c)->bias_operand(c, &last->output);
                if (!bias || !ready_before(bias, op)) continue;
                n->bias = sn_program_value(p, u, bias);
            } else if (pattern[step] == SN_FUSE_BATCH_NORM) {
                bool ready = c->inputs[0] == &last->output;
                for (int k = 1; k < 5; k++) ready = ready && ready_before(c->inputs[k], op);
                if (!ready) continue;
                for (int k = 1; k < 5; k++) n->bn[k - 1] = sn_program_value(p, u, c->inputs[k]);
                n->bn_epsilon = c->attrs.epsilon;
            } else {
                n->act = sn_op_class(c)->activation;
                n->post = sn_op_class(c)->post;
            }
            u->covered[c->index] = true;
            n->fused[n->fused_count++] = c;
            last = c;
            p->fused++;
        }
        n->out = sn_program_value(p, u, &last->output);
    }
    for (size_t i = 0; i < p->fetch_count; i++) {
        p->fetches[i] = u->value_of_op[p->fetches[i]];
        p->values[p->fetches[i]].fetched = true;
    }
    return true;
}
