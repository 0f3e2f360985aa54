/* HardSwish: PyTorch's Hardswish, x relu6(x + 3) / 6, computed as
 * (x * min(max(x + 3, 0), 6)) * (1/6) (kernels/ref/ref.h). */
#include "ops/elementwise.h"

sn_tensor *sn_hard_swish(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_HARD_SWISH, &x, 1, NULL, name);
}

SN_UNARY_CLASS(sn_hard_swish_class, f32_hard_swish);
