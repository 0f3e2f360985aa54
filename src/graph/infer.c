/* Shape inference for every op (TensorFlow's rules), shared by the graph
 * builders and the runtime. */
#include <stdio.h>

#include "base/checked.h"
#include "graph/graph.h"
#include "graph/op.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

bool sn_window(int64_t in, int k, int stride, int dilation, sn_padding padding, int64_t *out,
               int64_t *pad_before) {
    int64_t effective, total;
    if (k < 1 || stride < 1 || dilation < 1 || !sn_mul_i64(k - 1, dilation, &effective) ||
        !sn_add_i64(effective, 1, &effective))
        return false;
    if (in < 0) { /* unknown until run time */
        *out = -1;
        *pad_before = 0;
        return true;
    }
    if (padding == SN_PADDING_SAME) {
        *out = in / stride + (in % stride != 0);
        if (!sn_mul_i64(*out - 1, stride, &total) || !sn_add_i64(total, effective, &total) ||
            !sn_sub_i64(total, in, &total))
            return false;
        *pad_before = total > 0 ? total / 2 : 0;
        return true;
    }
    if (in < effective) return false;
    *out = (in - effective) / stride + 1;
    *pad_before = 0;
    return true;
}

/* NumPy broadcasting; -1 broadcasts with 1 and takes a known size. */
static bool broadcast(const sn_shape *a, const sn_shape *b, sn_shape *out) {
    int rank = a->rank > b->rank ? a->rank : b->rank;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = a->rank - rank + i, ib = b->rank - rank + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            out->dims[i] = da;
        else if (da == 1)
            out->dims[i] = db;
        else if (da < 0)
            out->dims[i] = db;
        else if (db < 0)
            out->dims[i] = da;
        else
            return false;
    }
    return true;
}

static bool known(int64_t d) { return d >= 0; }

/* One spatial axis of a window op: its output size, or false with why.
 * With VALID padding the window does not fit; with SAME (an int64
 * overflow), the padding it needs is past any size that could run. */
static bool axis(const struct sn_op_attrs *at, int64_t in, int k, int stride, int dilation,
                 const char *dim, const char *larger, int64_t *out, char *why, size_t why_size) {
    int64_t pad;
    if (sn_window(in, k, stride, dilation, at->padding, out, &pad)) return true;
    if (at->padding == SN_PADDING_VALID)
        return WHY("the window (%s %d, dilation %d) is %s than the input (%lld) with VALID "
                   "padding",
                   dim, k, dilation, larger, (long long)in);
    return WHY("the window (%s %d, dilation %d) needs padding too large for the input's %s (%lld)",
               dim, k, dilation, dim, (long long)in);
}

static bool spatial(const struct sn_op_attrs *at, const sn_shape *in, int kh, int kw,
                    int64_t channels, sn_shape *out, char *why, size_t why_size) {
    int64_t oh, ow;
    if (!axis(at, in->dims[1], kh, at->strides.h, at->dilations.h, "height", "taller", &oh, why,
              why_size) ||
        !axis(at, in->dims[2], kw, at->strides.w, at->dilations.w, "width", "wider", &ow, why,
              why_size))
        return false;
    *out = (sn_shape){4, {in->dims[0], oh, ow, channels}};
    return true;
}

static bool check_window_attrs(const struct sn_op_attrs *at, bool pool, char *why,
                               size_t why_size) {
    if (at->strides.h < 1 || at->strides.w < 1)
        return WHY("strides (%d, %d) must be >= 1", at->strides.h, at->strides.w);
    if (at->dilations.h < 1 || at->dilations.w < 1)
        return WHY("dilations (%d, %d) must be >= 1", at->dilations.h, at->dilations.w);
    if (pool && (at->ksize.h < 1 || at->ksize.w < 1))
        return WHY("ksize (%d, %d) must be >= 1", at->ksize.h, at->ksize.w);
    if (at->padding != SN_PADDING_SAME && at->padding != SN_PADDING_VALID)
        return WHY("padding %d is neither SAME nor VALID", (int)at->padding);
    return true;
}

bool sn_infer_shape(sn_op_type type, const struct sn_op_attrs *at, const sn_shape *in, int n,
                    sn_shape *out, char *why, size_t why_size) {
    switch (type) {
    case SN_OP_PLACEHOLDER:
    case SN_OP_VARIABLE:
    case SN_OP_CONST: return true; /* set by their builders */
    case SN_OP_ADD:
    case SN_OP_MAXIMUM:
        if (!broadcast(&in[0], &in[1], out)) return WHY("the shapes cannot be broadcast together");
        return true;
    case SN_OP_BIAS_ADD:
        if (in[0].rank < 1) return WHY("the value must have rank >= 1");
        if (in[1].rank != 1) return WHY("the bias must be a vector");
        if (known(in[1].dims[0]) && known(in[0].dims[in[0].rank - 1]) &&
            in[1].dims[0] != in[0].dims[in[0].rank - 1])
            return WHY("the bias length %lld does not match the last dimension %lld",
                       (long long)in[1].dims[0], (long long)in[0].dims[in[0].rank - 1]);
        *out = in[0];
        return true;
    case SN_OP_ADD_N:
        *out = in[0];
        for (int i = 1; i < n; i++) {
            if (in[i].rank != out->rank)
                return WHY("input %d has rank %d, input 0 rank %d", i, in[i].rank, out->rank);
            for (int d = 0; d < out->rank; d++) {
                if (known(in[i].dims[d]) && known(out->dims[d]) && in[i].dims[d] != out->dims[d])
                    return WHY("input %d differs from input 0 in dimension %d", i, d);
                if (!known(out->dims[d])) out->dims[d] = in[i].dims[d];
            }
        }
        return true;
    case SN_OP_RELU:
    case SN_OP_RELU6:
    case SN_OP_SIGMOID:
    case SN_OP_TANH: *out = in[0]; return true;
    case SN_OP_SOFTMAX:
        if (in[0].rank < 1) return WHY("logits must have rank >= 1");
        *out = in[0];
        return true;
    case SN_OP_LRN:
        if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
        if (at->depth_radius < 0) return WHY("depth_radius %d must be >= 0", at->depth_radius);
        *out = in[0];
        return true;
    case SN_OP_CONV2D: {
        if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
        if (in[1].rank != 4) return WHY("the filter must have rank 4 (HWIO), not %d", in[1].rank);
        if (!check_window_attrs(at, false, why, why_size)) return false;
        const int64_t *f = in[1].dims;
        if (!known(f[0]) || !known(f[1]) || !known(f[2]) || !known(f[3]) || f[0] < 1 || f[1] < 1)
            return WHY("the filter's shape must be known and its window non-empty");
        if (f[0] > (1 << 20) || f[1] > (1 << 20)) return WHY("the filter window is too large");
        if (known(in[0].dims[3]) && in[0].dims[3] != f[2])
            return WHY("input channels %lld do not match the filter's input channels %lld",
                       (long long)in[0].dims[3], (long long)f[2]);
        return spatial(at, &in[0], (int)f[0], (int)f[1], f[3], out, why, why_size);
    }
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL:
        if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
        if (!check_window_attrs(at, true, why, why_size)) return false;
        return spatial(at, &in[0], at->ksize.h, at->ksize.w, in[0].dims[3], out, why, why_size);
    case SN_OP_MATMUL: {
        if (in[0].rank != 2 || in[1].rank != 2)
            return WHY("both operands must be matrices (ranks %d and %d)", in[0].rank, in[1].rank);
        int64_t m = in[0].dims[at->transpose_a ? 1 : 0], ka = in[0].dims[at->transpose_a ? 0 : 1];
        int64_t kb = in[1].dims[at->transpose_b ? 1 : 0], nn = in[1].dims[at->transpose_b ? 0 : 1];
        if (known(ka) && known(kb) && ka != kb)
            return WHY("inner dimensions %lld and %lld do not match", (long long)ka, (long long)kb);
        *out = (sn_shape){2, {m, nn}};
        return true;
    }
    case SN_OP_RESHAPE: {
        const sn_shape *t = &at->shape;
        int infer = -1;
        int64_t product = 1, total = sn_shape_elements(&in[0]);
        for (int i = 0; i < t->rank; i++) {
            if (t->dims[i] == -1) {
                if (infer >= 0) return WHY("the target shape has more than one -1");
                infer = i;
            } else if (t->dims[i] < 0) {
                return WHY("target dimension %d is %lld", i, (long long)t->dims[i]);
            } else if (t->dims[i] != 0 && product > INT64_MAX / t->dims[i]) {
                return WHY("the target shape is too large");
            } else {
                product *= t->dims[i];
            }
        }
        *out = *t;
        if (total < 0) return true; /* input size unknown until run time */
        if (infer >= 0) {
            if (product == 0 || total % product != 0)
                return WHY("%lld elements cannot be reshaped with %lld per -1", (long long)total,
                           (long long)product);
            out->dims[infer] = total / product;
        } else if (product != total) {
            return WHY("%lld elements cannot take a shape of %lld", (long long)total,
                       (long long)product);
        }
        return true;
    }
    case SN_OP_TYPE_COUNT: break;
    }
    return WHY("unknown op type %d", (int)type);
}
