/* Seed 004: five relus sharing one threshold variable. Each relu is built in
 * variable scope "relu", reusing from the second on; the variable stays
 * relu/threshold while the ops' name scopes become relu, relu_1 ... relu_4.
 * A batch fed through all five shows they share the threshold's value. The
 * program checks its own results and exits 1 if any is off. */
#include <scopenn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* def relu(X): threshold = get_variable("threshold", shape=(), ...);
 *              return tf.maximum(z, threshold, name="max") */
static sn_tensor *relu(sn_graph *g, sn_tensor *x) {
    sn_variable *threshold =
        sn_get_variable(g, "threshold", SN_SCALAR, sn_constant_initializer(0.0f));
    return sn_maximum(g, x, sn_var(g, threshold), "max");
}

int main(void) {
    enum { N_FEATURES = 3 };
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "X", SN_SHAPE(-1, N_FEATURES));
    sn_tensor *relus[5];
    for (int relu_index = 0; relu_index < 5; relu_index++)
        SN_WITH_VARIABLE_SCOPE_REUSE(g, "relu", relu_index >= 1 ? SN_REUSE_TRUE : SN_REUSE_FALSE)
    relus[relu_index] = relu(g, x);
    if (sn_graph_status(g) != SN_OK) {
        fprintf(stderr, "error: %s\n", sn_graph_error(g));
        return 1;
    }

    static const char *const want[5] = {"relu/max", "relu_1/max", "relu_2/max", "relu_3/max",
                                        "relu_4/max"};
    for (int i = 0; i < 5; i++) {
        printf("relus[%d]: %s\n", i, sn_tensor_name(relus[i]));
        CHECK(strcmp(sn_tensor_op_name(relus[i]), want[i]) == 0);
    }
    printf("variables:");
    for (size_t i = 0; i < sn_graph_variable_count(g); i++)
        printf(" %s", sn_variable_tensor_name(sn_graph_variable(g, i)));
    printf("\n");
    CHECK(sn_graph_variable_count(g) == 1);
    CHECK(strcmp(sn_variable_name(sn_graph_variable(g, 0)), "relu/threshold") == 0);

    /* Feed a batch of 4 rows, with the threshold set to 0.5: every relu
     * gives max(x, 0.5), from the one shared variable. */
    const float half = 0.5f;
    CHECK(sn_graph_assign(g, "relu/threshold", SN_SCALAR, &half) == SN_OK);
    sn_tensor *sum = sn_add_n(g, relus, 5, "output");
    sn_session *s = sn_session_create(g, SN_FETCH(sum), &(sn_session_options){.max_batch = 4});
    float batch[4 * N_FEATURES] = {-2, 0, 0.25f, 0.5f, 1, 3, -1, 0.75f, 2, 0, 0, 0};
    sn_feed feed = {x, batch, SN_SHAPE(4, N_FEATURES)};
    sn_output out;
    CHECK(s && sn_session_run(s, &feed, 1, &out) == SN_OK);
    if (s) {
        printf("output = relus[0] + ... + relus[4] for a batch of %lld:\n",
               (long long)out.shape.dims[0]);
        for (int r = 0; r < 4; r++) {
            printf("  [");
            for (int c = 0; c < N_FEATURES; c++) {
                float v = batch[r * N_FEATURES + c];
                float want = 5.0f * (v > half ? v : half);
                printf("%s%g", c ? " " : "", out.data[r * N_FEATURES + c]);
                CHECK(out.data[r * N_FEATURES + c] == want);
            }
            printf("]\n");
        }
    }
    sn_session_destroy(s);
    sn_graph_destroy(g);

    printf("%s\n", failures ? "FAILED" : "five relus, one shared threshold");
    return failures ? 1 : 0;
}
