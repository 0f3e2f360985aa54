/* Seed 001: capturing a variable scope and re-entering it.
 *
 *     with tf.variable_scope("foo") as foo_scope: v = tf.get_variable("v", [1])
 *     with tf.variable_scope(foo_scope):          w = tf.get_variable("w", [1])
 *     with tf.variable_scope(foo_scope, reuse=True):
 *         v1 = tf.get_variable("v", [1]); w1 = tf.get_variable("w", [1])
 *     assert v1 is v and w1 is w      # v.name: foo/v, w.name: foo/w
 *
 * and, re-entered from inside other scopes, the captured scope keeps its own
 * name: foo, not bar/baz/foo. The program checks its own results and exits
 * 1 if any is off. */
#include <scopenn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

int main(void) {
    sn_graph *g = sn_graph_create(NULL);
    sn_variable *v = NULL, *w = NULL, *v1 = NULL, *w1 = NULL;
    const char *inner = "";

    sn_scope *foo_scope = sn_variable_scope_open(g, "foo", SN_REUSE_INHERIT);
    v = sn_get_variable(g, "v", SN_SHAPE(1), SN_NO_INITIALIZER);
    sn_variable_scope_close(g, foo_scope);

    SN_WITH_CAPTURED_SCOPE(g, foo_scope, SN_REUSE_INHERIT)
    w = sn_get_variable(g, "w", SN_SHAPE(1), SN_NO_INITIALIZER);

    SN_WITH_CAPTURED_SCOPE(g, foo_scope, SN_REUSE_TRUE) {
        v1 = sn_get_variable(g, "v", SN_SHAPE(1), SN_NO_INITIALIZER);
        w1 = sn_get_variable(g, "w", SN_SHAPE(1), SN_NO_INITIALIZER);
    }

    SN_WITH_VARIABLE_SCOPE(g, "bar")
    SN_WITH_VARIABLE_SCOPE(g, "baz")
    SN_WITH_CAPTURED_SCOPE(g, foo_scope, SN_REUSE_INHERIT)
    inner = sn_scope_name(sn_current_scope(g));

    if (sn_graph_status(g) != SN_OK) {
        fprintf(stderr, "error: %s\n", sn_graph_error(g));
        return 1;
    }
    printf("v.name: %s\n", sn_variable_name(v));
    printf("w.name: %s\n", sn_variable_name(w));
    printf("v1 is v: %s, w1 is w: %s\n", v1 == v ? "True" : "False", w1 == w ? "True" : "False");
    printf("foo_scope re-entered inside bar/baz: %s\n", inner);
    CHECK(v1 == v && w1 == w);
    CHECK(strcmp(sn_variable_name(v), "foo/v") == 0);
    CHECK(strcmp(sn_variable_name(w), "foo/w") == 0);
    CHECK(strcmp(inner, "foo") == 0);
    CHECK(sn_graph_variable_count(g) == 2);
    sn_graph_destroy(g);

    printf("%s\n", failures ? "FAILED" : "captured scope: same variables, same name");
    return failures ? 1 : 0;
}
