/* Seed 003: three ways to reuse a variable, each printing
 *     w1 : [1. 1.]   w2 : [2. 2.]   w3 : [1. 1.]
 * and a variable list of exactly test/weight_1:0 and test/weight_2:0.
 * The program checks its own results and exits 1 if any is off. */
#include <scopenn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void print_value(const char *label, const sn_variable *v) {
    printf("%s : [", label);
    for (int64_t i = 0; i < sn_variable_size(v); i++)
        printf("%s%g.", i ? " " : "", sn_variable_value(v)[i]);
    printf("]\n");
}

/* Prints and checks what the seed prints for one template. */
static void report(sn_graph *g, const sn_variable *w1, const sn_variable *w2,
                   const sn_variable *w3) {
    if (sn_graph_status(g) != SN_OK) {
        fprintf(stderr, "error: %s\n", sn_graph_error(g));
        failures++;
        return;
    }
    print_value("w1", w1);
    print_value("w2", w2);
    print_value("w3", w3);
    CHECK(w3 == w1); /* the very same variable */
    CHECK(sn_variable_value(w1)[0] == 1.0f && sn_variable_value(w1)[1] == 1.0f);
    CHECK(sn_variable_value(w2)[0] == 2.0f && sn_variable_value(w2)[1] == 2.0f);
    /* tf.global_variables() */
    printf("[");
    for (size_t i = 0; i < sn_graph_variable_count(g); i++) {
        const sn_variable *v = sn_graph_variable(g, i);
        printf("%s<Variable '%s' shape=(%lld,) dtype=%s>", i ? ",\n " : "",
               sn_variable_tensor_name(v), (long long)sn_variable_shape(v).dims[0],
               sn_dtype_name(sn_variable_dtype(v)));
    }
    printf("]\n\n");
    CHECK(sn_graph_variable_count(g) == 2);
    CHECK(strcmp(sn_variable_tensor_name(sn_graph_variable(g, 0)), "test/weight_1:0") == 0);
    CHECK(strcmp(sn_variable_tensor_name(sn_graph_variable(g, 1)), "test/weight_2:0") == 0);
}

static const float two[2] = {2.0f, 2.0f};

int main(void) {
    sn_variable *w1 = NULL, *w2 = NULL, *w3 = NULL;

    printf("Template 1: two scopes, the second with reuse=true\n");
    sn_graph *g = sn_graph_create(NULL);
    SN_WITH_VARIABLE_SCOPE_REUSE(g, "test", SN_REUSE_FALSE) {
        w1 = sn_get_variable(g, "weight_1", SN_SHAPE(2), sn_ones_initializer());
        w2 = sn_get_variable(g, "weight_2", SN_SHAPE_UNKNOWN,
                             sn_values_initializer(two, SN_SHAPE(2)));
    }
    SN_WITH_VARIABLE_SCOPE_REUSE(g, "test", SN_REUSE_TRUE)
    w3 = sn_get_variable(g, "weight_1", SN_SHAPE_UNKNOWN, SN_NO_INITIALIZER);
    report(g, w1, w2, w3);
    sn_graph_destroy(g);

    printf("Template 2: one scope and reuse_variables()\n");
    g = sn_graph_create(NULL);
    SN_WITH_VARIABLE_SCOPE_AS(g, "test", SN_REUSE_INHERIT, scope) {
        w1 = sn_get_variable(g, "weight_1", SN_SHAPE(2), sn_ones_initializer());
        w2 = sn_get_variable(g, "weight_2", SN_SHAPE_UNKNOWN,
                             sn_values_initializer(two, SN_SHAPE(2)));
        sn_scope_reuse_variables(scope);
        w3 = sn_get_variable(g, "weight_1", SN_SHAPE_UNKNOWN, SN_NO_INITIALIZER);
    }
    report(g, w1, w2, w3);
    sn_graph_destroy(g);

    printf("Template 3: one scope with reuse=AUTO_REUSE\n");
    g = sn_graph_create(NULL);
    SN_WITH_VARIABLE_SCOPE_REUSE(g, "test", SN_AUTO_REUSE) {
        w1 = sn_get_variable(g, "weight_1", SN_SHAPE(2), sn_ones_initializer());
        w2 = sn_get_variable(g, "weight_2", SN_SHAPE_UNKNOWN,
                             sn_values_initializer(two, SN_SHAPE(2)));
        w3 = sn_get_variable(g, "weight_1", SN_SHAPE_UNKNOWN, SN_NO_INITIALIZER);
    }
    report(g, w1, w2, w3);
    sn_graph_destroy(g);

    printf("%s\n", failures ? "FAILED" : "all three templates: w3 is w1, two variables");
    return failures ? 1 : 0;
}
