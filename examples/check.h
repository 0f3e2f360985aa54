/* The examples check their own results: CHECK(cond) reports a condition
 * that does not hold, with its line, and counts it in `failures`; each
 * program exits 1 if any failed. */
#ifndef SN_EXAMPLES_CHECK_H
#define SN_EXAMPLES_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__);                     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
