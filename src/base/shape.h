/* Shapes (sn_shape, include/scopenn.h): element counts, checks and the
 * text of messages. */
#ifndef SN_BASE_SHAPE_H
#define SN_BASE_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scopenn.h"

/* Number of elements of a shape (1 for a scalar), or -1 if the rank is
 * out of [0, SN_MAX_RANK], a dimension is negative, or the product
 * overflows int64. */
int64_t sn_shape_elements(const sn_shape *shape);

/* -1 if the known dimensions of `shape` (-1s skipped) hold at most
 * SN_MAX_ELEMENTS elements; else the first dimension at which their
 * product passes it: a tensor of that shape could never run. */
int sn_shape_too_large(const sn_shape *shape);

/* Formats a shape as TensorFlow prints it in S7's message: "(2)", "(2, 3)",
 * "()"; unknown dimensions as "?". Writes at most `size` bytes, always
 * terminated. */
void sn_shape_format(const sn_shape *shape, char *buf, size_t size);

bool sn_shape_equal(const sn_shape *a, const sn_shape *b);

#endif
