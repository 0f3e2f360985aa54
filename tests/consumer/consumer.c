/* A program outside the tree, built against an installed scopenn (through
 * find_package and through pkg-config): a two-layer model under variable
 * scopes, its weights set by name, run, and checked. */
#include <math.h>
#include <scopenn.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    if (strcmp(sn_version(), "0.0.0") < 0) return 1;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 3});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 2)), *y = x;
    SN_WITH_VARIABLE_SCOPE(g, "layer1") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(2, 3), SN_NO_INITIALIZER);
        sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(3), sn_zeros_initializer());
        y = sn_relu(g, sn_add(g, sn_matmul(g, y, sn_var(g, w), false, false, NULL), sn_var(g, b), NULL), NULL);
    }
    const float w1[6] = {1, -1, 2, 3, 1, -2}, b1[3] = {0.5f, 0, -1};
    sn_graph_assign(g, "layer1/weights", SN_SHAPE(2, 3), w1);
    sn_graph_assign(g, "layer1/biases", SN_SHAPE(3), b1);
    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 2, .max_batch = 2});
    if (!s) {
        fprintf(stderr, "consumer: %s\n", sn_graph_error(g));
        return 1;
    }
    const float in[4] = {1, 2, -1, 0.5f};
    sn_output out;
    if (sn_session_run(s, &(sn_feed){x, in, SN_SHAPE(2, 2)}, 1, &out) != SN_OK) {
        fprintf(stderr, "consumer: %s\n", sn_session_error(s));
        return 1;
    }
    /* relu(in x w1 + b1), by hand */
    const float want[6] = {7.5f, 1, 0, 1, 1.5f, 0};
    int ok = out.shape.dims[0] == 2 && out.shape.dims[1] == 3;
    for (int i = 0; i < 6; i++) ok &= fabsf(out.data[i] - want[i]) < 1e-6f;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    printf("consumer: scopenn %s, isa %s, %s\n", sn_version(), sn_isa_name(info.isa), ok ? "ok" : "WRONG");
    sn_session_destroy(s);
    sn_graph_destroy(g);
    return ok ? 0 : 1;
}
