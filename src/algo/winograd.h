/* Winograd F(4x4, 3x3) and F(2x2, 5x5) convolutions (stride 1, dilation
 * 1; sn_winograd_geometry in kernels/kernels.h) on the kernel set's
 * transforms and tile kernels, in work items of a few tiles, each with its
 * V and M in its thread's part of the workspace. */
#ifndef SN_ALGO_WINOGRAD_H
#define SN_ALGO_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algo/direct-conv.h"
#include "algo/parallel.h"
#include "kernels/kernels.h"

/* Whether a conv of an r x r filter (3 or 5), ic channels in and oc out,
 * with out_h x out_w outputs per image and `batch` images (-1 counts as
 * 1), pays as Winograd on the kernel set of `cc` (the caller checks the
 * stride, dilation and that the set has the transforms). */
bool sn_winograd_worth(const struct sn_conv_config *cc, int64_t r, int64_t ic, int64_t oc,
                       int64_t batch, int64_t out_h, int64_t out_w);

/* The bytes of workspace for ic and oc channels on `threads` threads, and
 * in *part the floats from one thread's part to the next. */
size_t sn_winograd_workspace(const struct sn_conv_config *cc, int64_t ic, int64_t oc,
                             size_t threads, size_t *part);

/* The conv of `job` (kh = kw = 3 or 5, stride and dilation 1). */
void sn_winograd_run(const struct sn_conv_job *job);

#endif
