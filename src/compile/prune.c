/* Prune: keep the ops the fetches need, and count who consumes each. */
#include "base/alloc.h"
#include "compile/compile.h"
#include "graph/graph.h"

int sn_program_value(struct sn_program *p, struct sn_usage *u, const sn_tensor *t) {
    int *v = &u->value_of_op[t->op->index];
    if (*v < 0) {
        static const enum sn_value_kind kinds[] = {
            [SN_SOURCE_NONE] = SN_VALUE_COMPUTED,
            [SN_SOURCE_FEED] = SN_VALUE_FEED,
            [SN_SOURCE_VARIABLE] = SN_VALUE_VARIABLE,
            [SN_SOURCE_CONST] = SN_VALUE_CONST,
        };
        p->values[p->value_count] = (struct sn_value){.tensor = t,
                                                      .kind = kinds[sn_op_class(t->op)->source],
                                                      .dtype = t->dtype,
                                                      .view_of = -1,
                                                      .first = -1,
                                                      .last = -1};
        *v = (int)p->value_count++;
    }
    return *v;
}

bool sn_prune(struct sn_program *p, struct sn_usage *u, sn_tensor *const *fetches, size_t n) {
    sn_graph *g = p->graph;
    size_t *stack = sn_malloc(g->op_count * sizeof *stack), top = 0;
    if (!stack) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory compiling a session");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = fetches[i]->op->index;
        u->fetched[k] = true;
        if (!u->needed[k]) u->needed[k] = true, stack[top++] = k;
    }
    while (top) {
        const struct sn_op *op = g->ops[stack[--top]];
        for (int i = 0; i < op->input_count; i++) {
            size_t k = op->inputs[i]->op->index;
            if (!u->needed[k]) u->needed[k] = true, stack[top++] = k;
        }
    }
    sn_free(stack);
    for (size_t k = 0; k < g->op_count; k++) {
        if (!u->needed[k]) continue;
        const struct sn_op *op = g->ops[k];
        for (int i = 0; i < op->input_count; i++) {
            size_t in = op->inputs[i]->op->index;
            u->only_user[in] = u->uses[in] == 0 ? (int)k : -1;
            u->uses[in]++;
        }
    }
    /* the fetches' values first, as the run returns them */
    for (size_t i = 0; i < n; i++) sn_program_value(p, u, fetches[i]);
    return true;
}

void sn_program_release(struct sn_program *p) {
    for (size_t i = 0; i < p->node_count; i++) {
        sn_free(p->nodes[i].inputs);
        for (int k = 0; k < SN_NODE_PACKS; k++) {
            sn_aligned_free(p->nodes[i].packs[k].scratch);
            sn_aligned_free(p->nodes[i].packs[k].temp);
        }
    }
    sn_free(p->nodes);
    sn_free(p->values);
    sn_free(p->fetches);
    sn_free(p->packs);
}
