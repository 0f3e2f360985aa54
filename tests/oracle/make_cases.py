#!/usr/bin/python3
"""An oracle no one here wrote: small random networks, computed by PyTorch.

    /usr/bin/python3 tests/oracle/make_cases.py OUTDIR

writes, for every case below, OUTDIR/<case>.safetensors holding the weights
under their variable names ("net/conv1/weights", HWIO [kh, kw, in, out];
"net/fc/weights", [in, out]; "net/conv1/biases"), the inputs ("input", and
"input2" where a case has two) and the expected outputs ("expected", then
"expected_1", ...); and OUTDIR/manifest.json, which describes each case's
graph node by node. The case list lives here and only here: the C side
(tests/test_oracle.c) builds each graph from the manifest with the scopenn
API, loads the file by variable name, runs it and compares.

Activations are NHWC, as in scopenn and TensorFlow; PyTorch's NCHW ops are
reached by permuting. TensorFlow's semantics are reproduced explicitly:
SAME padding is asymmetric (the odd pixel goes to the bottom and right),
average pooling divides by the number of real input pixels in the window,
and LRN is tf.nn.local_response_normalization, not torch's LocalResponseNorm
(which divides alpha by the window size and pads differently).

The reference is computed in float64 from the float32 values written to the
file, so it is exact to well within the test's tolerance. A case made with
float32=True is computed by PyTorch in float32 instead, its own kernels'
floats, and the manifest gives the ULPs scopenn's may be from each
("ulps": 0 is the same float). Everything is
seeded (torch.manual_seed per case, from the case's name): the same torch
gives the same files.

Only torch and the standard library are used; the safetensors format is
written here: an 8-byte little-endian header length, a JSON header padded
with spaces to a multiple of 8, then the raw little-endian float32 data.
"""
import json
import math
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

# the safetensors writer of tools/export_torch.py, the project's one
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from export_torch import write_safetensors  # noqa: E402

F32 = torch.float32
F64 = torch.float64


def f32(v):
    """v rounded to the nearest float32, as the C side will hold it."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


# ---- describing a case ------------------------------------------------------


class Case:
    """A graph in build order. Each node is a dict with an "id", an "op" and
    its attributes; ops take their inputs by id. The node list goes into the
    manifest as is: keys starting with "_" are for this script only."""

    def __init__(self, name, description, float32=False, ulps=0):
        self.name = name
        self.description = description
        self.nodes = []
        self.outputs = []
        self.max_batch = 0
        self.float32 = float32
        self.ulps = ulps

    def _add(self, op, inputs=(), **attrs):
        node = {"id": "n%d" % len(self.nodes), "op": op}
        if inputs:
            node["inputs"] = list(inputs)
        node.update(attrs)
        self.nodes.append(node)
        return node["id"]

    # sources
    def input(self, shape, tensor="input", batch_unknown=False, kind="normal", scale=1.0):
        """A placeholder fed from the file's tensor `tensor`. With
        batch_unknown the placeholder's batch is -1 and the session's
        max_batch is one more than the batch fed."""
        if batch_unknown:
            self.max_batch = max(self.max_batch, shape[0] + 1)
        return self._add("input", tensor=tensor, shape=list(shape),
                         batch_unknown=batch_unknown, _kind=kind, _scale=scale)

    def var(self, name, shape, scale=None):
        """A variable, created under its scopes (name "net/conv1/weights":
        scopes net, conv1; get_variable("weights")). A name used before is
        got again through a reusing scope: the same variable."""
        for n in self.nodes:
            if n["op"] == "variable" and n["name"] == name:
                assert n["shape"] == list(shape)
                return self._add("variable", name=name, shape=list(shape), reuse=True)
        if scale is None:  # weights ~ N(0, 1/fan_in); vectors ~ N(0, 0.5^2)
            scale = 0.5 if len(shape) == 1 else 1.0 / math.sqrt(math.prod(shape[:-1]))
        return self._add("variable", name=name, shape=list(shape), reuse=False, _scale=scale)

    def scalar(self, value):
        return self._add("scalar", value=f32(value))

    # ops
    def conv2d(self, x, w, strides=(1, 1), padding="SAME", dilations=(1, 1)):
        return self._add("conv2d", [x, w], strides=list(strides), padding=padding,
                         dilations=list(dilations))

    def bias_add(self, x, b):
        return self._add("bias_add", [x, b])

    def add(self, a, b):
        return self._add("add", [a, b])

    def maximum(self, a, b):
        return self._add("maximum", [a, b])

    def multiply(self, a, b):
        return self._add("multiply", [a, b])

    def subtract(self, a, b):
        return self._add("subtract", [a, b])

    def leaky_relu(self, x, alpha):
        return self._add("leaky_relu", [x], alpha=f32(alpha))

    def add_n(self, *xs):
        return self._add("add_n", xs)

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        return self._add("matmul", [a, b], transpose_a=transpose_a, transpose_b=transpose_b)

    def max_pool(self, x, ksize, strides, padding):
        return self._add("max_pool", [x], ksize=list(ksize), strides=list(strides), padding=padding)

    def avg_pool(self, x, ksize, strides, padding):
        return self._add("avg_pool", [x], ksize=list(ksize), strides=list(strides), padding=padding)

    def reshape(self, x, shape):
        return self._add("reshape", [x], shape=list(shape))

    def lrn(self, x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
        return self._add("lrn", [x], depth_radius=depth_radius, bias=f32(bias), alpha=f32(alpha),
                         beta=f32(beta))

    def unary(self, op, x):
        assert op in ("relu", "relu6", "sigmoid", "tanh", "softmax", "swish", "hard_sigmoid",
                      "hard_swish")
        return self._add(op, [x])

    def fetch(self, *ids):
        self.outputs.extend(ids)
        return self

    # conv + bias (as BiasAdd, or as add with the bias first or second)
    def conv_layer(self, x, scope, k, cin, cout, strides=(1, 1), padding="SAME",
                   dilations=(1, 1), bias="bias_add", act=None):
        kh, kw = (k, k) if isinstance(k, int) else k
        w = self.var(scope + "/weights", [kh, kw, cin, cout])
        y = self.conv2d(x, w, strides, padding, dilations)
        if bias:
            b = self.var(scope + "/biases", [cout])
            y = {"bias_add": lambda: self.bias_add(y, b), "add": lambda: self.add(y, b),
                 "add_first": lambda: self.add(b, y)}[bias]()
        return self.unary(act, y) if act else y

    def fc_layer(self, x, scope, cin, cout, bias="bias_add", act=None):
        w = self.var(scope + "/weights", [cin, cout])
        y = self.matmul(x, w)
        if bias:
            b = self.var(scope + "/biases", [cout])
            y = self.bias_add(y, b) if bias == "bias_add" else self.add(y, b)
        return self.unary(act, y) if act else y


CASES = []


def case(name, description, float32=False, ulps=0):
    c = Case(name, description, float32, ulps)
    CASES.append(c)
    return c


def conv_case(name, description, shape, k, cout, strides=(1, 1), padding="SAME",
              dilations=(1, 1), bias="bias_add", act=None, batch_unknown=False, scale=1.0):
    c = case(name, description)
    x = c.input(shape, batch_unknown=batch_unknown, scale=scale)
    c.fetch(c.conv_layer(x, "net/conv1", k, shape[3], cout, strides, padding, dilations, bias, act))


# ---- the cases ----------------------------------------------------------------

# Conv2D: SAME and VALID, strides 1 and 2, dilation 2, odd sizes, channels
# that are not multiples of 8, batch > 1, kernels larger than the stride.
conv_case("conv_same_s1", "3x3 SAME stride 1, 7x9x3 -> 5, batch 2", [2, 7, 9, 3], 3, 5)
conv_case("conv_valid_s1", "3x3 VALID stride 1, 7x9x5 -> 13", [1, 7, 9, 5], 3, 13, padding="VALID")
conv_case("conv_same_s2", "3x3 SAME stride 2 on 7x9 (pads 1/1, 1/1)", [2, 7, 9, 3], 3, 5, (2, 2))
conv_case("conv_valid_s2", "3x3 VALID stride 2, 11x6x5 -> 13", [2, 11, 6, 5], 3, 13, (2, 2),
          "VALID")
conv_case("conv_same_s2_k2", "2x2 SAME stride 2 on 5x5: pad 0 top, 1 bottom", [1, 5, 5, 3], 2, 5,
          (2, 2))
conv_case("conv_same_s1_k4", "4x4 SAME stride 1 on 5x5: pad 1 top, 2 bottom", [2, 5, 5, 5], 4, 3)
conv_case("conv_same_s2_k4", "4x4 SAME stride 2 on 11x6x13: asymmetric pads", [1, 11, 6, 13], 4,
          5, (2, 2))
conv_case("conv_same_s2_k5_small", "5x5 SAME stride 2 on 3x3 (kernel larger than the image)",
          [2, 3, 3, 5], 5, 3, (2, 2))
conv_case("conv_same_dilated", "3x3 dilation 2 SAME on 11x6x5 -> 13", [2, 11, 6, 5], 3, 13,
          dilations=(2, 2))
conv_case("conv_valid_dilated", "3x3 dilation 2 VALID on 11x9x3 -> 5", [1, 11, 9, 3], 3, 5,
          padding="VALID", dilations=(2, 2))
conv_case("conv_same_dilated_s2", "3x3 dilation 2 stride 2 SAME on 7x9x3", [1, 7, 9, 3], 3, 5,
          (2, 2), dilations=(2, 2))
conv_case("conv_rect_same", "3x2 kernel, strides (2, 1), dilations (1, 2), SAME on 7x9x5",
          [2, 7, 9, 5], (3, 2), 3, (2, 1), dilations=(1, 2))
conv_case("conv_rect_valid", "1x3 kernel, strides (1, 2) VALID on 5x5x13", [1, 5, 5, 13], (1, 3), 5,
          (1, 2), "VALID")
conv_case("conv_1x1", "1x1 conv, 5x5x13 -> 8", [2, 5, 5, 13], 1, 8)
conv_case("conv_1x1_s2_valid", "1x1 conv stride 2 VALID, 7x9x5 -> 3", [1, 7, 9, 5], 1, 3, (2, 2),
          "VALID")
conv_case("conv_1x1_image", "3x3 SAME on a 1x1 image", [3, 1, 1, 5], 3, 13)
conv_case("conv_nobias", "3x3 SAME, no bias", [1, 7, 9, 3], 3, 5, bias=None)
conv_case("conv_add_relu", "conv + add(trailing vector) + relu: fused", [2, 7, 9, 3], 3, 13,
          bias="add", act="relu")
conv_case("conv_addfirst_relu", "conv + add(bias first) + relu: fused", [1, 11, 6, 5], 3, 5,
          (2, 2), bias="add_first", act="relu")
conv_case("conv_biasadd_relu6", "conv + BiasAdd + relu6, values beyond 6", [2, 7, 9, 3], 3, 5,
          bias="bias_add", act="relu6", scale=6.0)
conv_case("conv_relu_nobias", "conv + relu, no bias: fused", [1, 5, 5, 13], 3, 5, bias=None,
          act="relu")
conv_case("conv_batch_unknown", "placeholder batch -1, fed 3 with max_batch 4", [3, 7, 9, 3], 3, 5,
          (2, 2), act="relu", batch_unknown=True)

c = case("conv_fetch_intermediates", "conv, bias and relu all fetched: nothing fused")
x = c.input([2, 5, 5, 3])
w = c.var("net/conv1/weights", [3, 3, 3, 5])
b = c.var("net/conv1/biases", [5])
y = c.conv2d(x, w)
z = c.bias_add(y, b)
c.fetch(c.unary("relu", z), y, z)

c = case("conv_shared_weights", "one variable, got again through a reusing scope, used twice")
x = c.input([2, 7, 9, 5])
y = c.conv_layer(x, "net/conv1", 3, 5, 5, act="relu")
y = c.conv_layer(y, "net/conv1", 3, 5, 5, (2, 2), act="relu")  # same variables
c.fetch(y)

c = case("conv_stack", "three convs: SAME s1, VALID s2 with dilation, SAME s2")
x = c.input([2, 11, 9, 3])
y = c.conv_layer(x, "net/conv1", 3, 3, 13, act="relu")
y = c.conv_layer(y, "net/conv2", 3, 13, 5, (1, 1), "VALID", (2, 2), bias="add", act="relu6")
y = c.conv_layer(y, "net/conv3", 2, 5, 3, (2, 2), "SAME", bias="add_first")
c.fetch(y)

c = case("conv_bias_fed", "conv + add of a bias that is fed (input2), then relu")
y = c.conv2d(c.input([2, 7, 9, 3]), c.var("net/conv1/weights", [3, 3, 3, 5]))
c.fetch(c.unary("relu", c.add(y, c.input([5], tensor="input2"))))

c = case("conv_bias_made_after", "conv + add of a bias computed after the conv (tanh(variable))")
y = c.conv2d(c.input([1, 5, 5, 13]), c.var("net/conv1/weights", [3, 3, 13, 5]))
b = c.unary("tanh", c.var("net/conv1/biases", [5]))
c.fetch(c.unary("relu", c.add(y, b)))

c = case("conv_filter_fed", "conv whose filter is an input, not a variable")
c.fetch(c.conv2d(c.input([2, 7, 9, 3]), c.input([3, 3, 3, 5], tensor="input2", scale=0.3),
                 (2, 2), "SAME"))

c = case("conv_filter_computed", "conv whose filter is relu6 of a variable")
w = c.unary("relu6", c.var("net/conv1/weights", [3, 3, 5, 3], scale=1.0))
c.fetch(c.conv2d(c.input([1, 7, 9, 5]), w, (1, 1), "VALID"))

c = case("conv_k2_s3", "2x2 SAME stride 3 on 9x8 (no padding needed) and 3x3 VALID stride 3")
x = c.input([2, 9, 8, 3])
c.fetch(c.conv_layer(x, "net/conv1", 2, 3, 5, (3, 3), "SAME"),
        c.conv_layer(x, "net/conv2", 3, 3, 5, (3, 3), "VALID"))

c = case("conv_one_channel", "1 channel in, 1 channel out, SAME stride 2, + bias + relu")
c.fetch(c.conv_layer(c.input([3, 7, 9, 1]), "net/conv1", 3, 1, 1, (2, 2), act="relu"))

c = case("residual", "x + conv(relu(conv(x))): x lives across two convs")
x = c.input([2, 7, 9, 5])
y = c.conv_layer(x, "net/conv1", 3, 5, 5, act="relu")
y = c.conv_layer(y, "net/conv2", 3, 5, 5, bias="add")
c.fetch(c.unary("relu", c.add(x, y)))

c = case("branches", "inception-like: three branches summed, and a pruned branch")
x = c.input([2, 9, 7, 13])
a = c.conv_layer(x, "net/branch_1x1", 1, 13, 5, act="relu")
b = c.conv_layer(c.conv_layer(x, "net/branch_3x3/reduce", 1, 13, 3, act="relu"),
                 "net/branch_3x3", 3, 3, 5, act="relu6")
p = c.conv_layer(c.max_pool(x, (3, 3), (1, 1), "SAME"), "net/branch_pool", 1, 13, 5)
c.unary("sigmoid", c.conv_layer(x, "net/unused", 3, 13, 5))  # not fetched: pruned
c.fetch(c.add_n(a, b, p), p)

c = case("fetch_sources", "fetches an input, a variable, a scalar and the same tensor twice")
x = c.input([2, 3, 5])
w = c.var("net/table", [3, 5])
y = c.add(x, w)
c.fetch(y, x, w, y, c.scalar(2.5))

c = case("scalars_only", "a graph with no input: scalar + scalar, maximum of scalars")
a = c.scalar(1.5)
c.fetch(c.add(a, c.scalar(2.25)), c.maximum(c.scalar(-1.0), a))

# Elementwise, BiasAdd, add with broadcasting, Maximum, AddN.
for op in ("relu", "relu6", "sigmoid", "tanh"):
    c = case("unary_" + op, "%s on [2,5,7,3], values in about [-16, 16]" % op)
    c.fetch(c.unary(op, c.input([2, 5, 7, 3], scale=4.0)))

c = case("softmax_2d", "softmax over the last axis of [4,10], large logits")
c.fetch(c.unary("softmax", c.input([4, 10], scale=10.0)))
c = case("softmax_4d", "softmax over the last axis of [2,3,5,7]")
c.fetch(c.unary("softmax", c.input([2, 3, 5, 7], scale=3.0)))
c = case("softmax_1d", "softmax of a vector of 13")
c.fetch(c.unary("softmax", c.input([13], scale=2.0)))

c = case("bias_add_4d", "BiasAdd of a 13-vector on [2,3,5,13]")
c.fetch(c.bias_add(c.input([2, 3, 5, 13]), c.var("net/biases", [13])))
c = case("bias_add_2d", "BiasAdd of a 5-vector on [3,5]")
c.fetch(c.bias_add(c.input([3, 5]), c.var("net/biases", [5])))

c = case("add_trailing_vector", "add of [2,3,5,7] and a variable [7], both orders")
x = c.input([2, 3, 5, 7])
b = c.var("net/offset", [7])
c.fetch(c.add(x, b), c.add(b, x))
c = case("add_broadcast", "add of [2,3,1,5] and [4,1] -> [2,3,4,5]")
c.fetch(c.add(c.input([2, 3, 1, 5]), c.input([4, 1], tensor="input2")))
c = case("add_same_shape_scalar", "add of two [3,7,5] inputs, then of a scalar")
s = c.add(c.input([3, 7, 5]), c.input([3, 7, 5], tensor="input2"))
c.fetch(c.add(s, c.scalar(0.75)))
c = case("add_matrix_column", "add of [5,6] and a variable [5,1]")
c.fetch(c.add(c.input([5, 6]), c.var("net/column", [5, 1])))

# Mul and Sub, broadcast as add; the activations of MobileNetV3 and
# EfficientNet (PyTorch's Hardsigmoid, Hardswish, SiLU) and LeakyReLU.
c = case("multiply_scale", "[2,5,7,3] times a variable [3] and a scalar, both orders")
x = c.input([2, 5, 7, 3], scale=4.0)
s = c.var("net/scale", [3])
c.fetch(c.multiply(x, s), c.multiply(s, x), c.multiply(x, c.scalar(-1.5)),
        c.multiply(c.scalar(0.25), x))
c = case("multiply_broadcast", "[2,4,4,6] times [2,1,1,6] (a squeeze-excite scale), same shape")
x = c.input([2, 4, 4, 6])
c.fetch(c.multiply(x, c.input([2, 1, 1, 6], tensor="input2")), c.multiply(x, x))
c = case("subtract_both_orders", "[2,5,7,3] minus a variable [3], a scalar; and from them")
x = c.input([2, 5, 7, 3])
m = c.var("net/mean", [3])
c.fetch(c.subtract(x, m), c.subtract(m, x), c.subtract(x, c.scalar(0.5)),
        c.subtract(c.scalar(1.0), x))
c = case("subtract_broadcast", "[4,1,3] minus [5,1] -> [4,5,3]; x - x")
x = c.input([4, 1, 3])
c.fetch(c.subtract(x, c.input([5, 1], tensor="input2")), c.subtract(x, x))
for op in ("swish", "hard_sigmoid", "hard_swish"):
    c = case("unary_" + op, "%s on [2,5,7,3], values in about [-16, 16]" % op)
    c.fetch(c.unary(op, c.input([2, 5, 7, 3], scale=4.0)))
c = case("leaky_relu", "leaky relu with TensorFlow's alpha 0.2 and PyTorch's 0.01 on [3,7,5]")
x = c.input([3, 7, 5], scale=2.0)
c.fetch(c.leaky_relu(x, 0.2), c.leaky_relu(x, 0.01))
c = case("hard_swish_block", "MobileNetV3's bneck tail: x * hard_sigmoid(conv(x)) (squeeze-excite)")
x = c.input([1, 6, 6, 8], scale=3.0)
c.fetch(c.unary("hard_swish", c.multiply(x, c.unary("hard_sigmoid", c.conv_layer(
    x, "net/se", 1, 8, 8)))))
# PyTorch's own float32 results: hard_sigmoid and hard_swish within 1 ULP
# (scopenn multiplies by 1/6 rounded where PyTorch divides by 6), the
# exact ones exactly, swish within 4 (PyTorch's x / (1 + exp(-x)), SLEEF's
# exp on both sides).
for op in ("hard_sigmoid", "hard_swish"):
    c = case("float32_" + op, "PyTorch's float32 %s on 4096 values in about [-8, 8]" % op,
             float32=True, ulps=1)
    c.fetch(c.unary(op, c.input([4096], scale=3.0)))
c = case("float32_swish", "PyTorch's float32 SiLU on 4096 values in about [-24, 24]",
         float32=True, ulps=4)
c.fetch(c.unary("swish", c.input([4096], scale=8.0)))
c = case("float32_exact", "PyTorch's float32 mul, sub and leaky relu: the same floats",
         float32=True, ulps=0)
x = c.input([16, 33], scale=3.0)
y = c.input([33], tensor="input2")
c.fetch(c.multiply(x, y), c.subtract(y, x), c.leaky_relu(x, 0.2), c.leaky_relu(x, 0.01))

c = case("maximum_scalar", "maximum of [2,5,7,3] and a scalar, both orders")
x = c.input([2, 5, 7, 3])
c.fetch(c.maximum(x, c.scalar(0.2)), c.maximum(c.scalar(-0.3), x))
c = case("maximum_tensors", "maximum of [2,5,7,3] and a variable [3]")
c.fetch(c.maximum(c.input([2, 5, 7, 3]), c.var("net/floor", [3])))

c = case("add_n_3", "AddN of relu(x), tanh(x) and x")
x = c.input([2, 5, 7, 3], scale=2.0)
c.fetch(c.add_n(c.unary("relu", x), c.unary("tanh", x), x))
c = case("add_n_6", "AddN of six tensors (more than four)")
x = c.input([3, 4, 5])
y = c.input([3, 4, 5], tensor="input2")
c.fetch(c.add_n(x, y, c.unary("sigmoid", x), c.unary("relu6", y), x, c.unary("tanh", y)))
c = case("softmax_one_column", "softmax over a last axis of 1: all ones")
c.fetch(c.unary("softmax", c.input([4, 1])))
c = case("add_n_1", "AddN of one tensor")
c.fetch(c.add_n(c.input([2, 3, 5])))

# MatMul with transposes, with and without bias and relu.
for ta in (False, True):
    for tb in (False, True):
        c = case("matmul_%s%s" % ("t" if ta else "n", "t" if tb else "n"),
                 "MatMul transpose_a=%s transpose_b=%s, [5,7] x [7,3]" % (ta, tb))
        a = c.input([7, 5] if ta else [5, 7])
        w = c.var("net/fc/weights", [3, 7] if tb else [7, 3])
        c.fetch(c.matmul(a, w, ta, tb))
c = case("matmul_var_first", "MatMul of a variable [6,13] by the input [13,5]")
c.fetch(c.matmul(c.var("net/fc/weights", [6, 13]), c.input([13, 5])))
c = case("matmul_inputs_tt", "MatMul of two inputs, both transposed")
c.fetch(c.matmul(c.input([9, 4]), c.input([3, 9], tensor="input2"), True, True))
c = case("matmul_k1_n1", "MatMul [5,1] x [1,3], and [5,4] x [4,1]")
c.fetch(c.matmul(c.input([5, 1]), c.var("net/fc/weights", [1, 3])),
        c.matmul(c.input([5, 4], tensor="input2"), c.var("net/fc2/weights", [4, 1])))
c = case("matmul_bias_relu", "MatMul + BiasAdd + relu: fused")
c.fetch(c.fc_layer(c.input([4, 13]), "net/fc", 13, 11, act="relu"))
c = case("matmul_add_relu6", "MatMul + add + relu6: fused")
c.fetch(c.fc_layer(c.input([3, 9], scale=8.0), "net/fc", 9, 5, bias="add", act="relu6"))
c = case("matmul_bias_unknown_batch", "MatMul + bias, placeholder [-1, 13] fed 2")
c.fetch(c.fc_layer(c.input([2, 13], batch_unknown=True), "net/fc", 13, 7))

# Pooling.
pools = [
    ("k3_s2_same", [2, 7, 9, 5], (3, 3), (2, 2), "SAME"),
    ("k3_s2_valid", [2, 7, 9, 5], (3, 3), (2, 2), "VALID"),
    ("k2_s2_same", [1, 5, 5, 3], (2, 2), (2, 2), "SAME"),
    ("k3_s1_same", [1, 5, 5, 13], (3, 3), (1, 1), "SAME"),
    ("k3x2_s1x2_same", [2, 11, 6, 3], (3, 2), (1, 2), "SAME"),
    ("k2_s1_valid", [1, 7, 9, 5], (2, 2), (1, 1), "VALID"),
    ("k4_s3_same", [1, 11, 6, 5], (4, 4), (3, 3), "SAME"),
    ("k2_s3_valid", [2, 8, 7, 3], (2, 2), (3, 3), "VALID"),
    ("k1_s1_same", [1, 3, 5, 5], (1, 1), (1, 1), "SAME"),
]
for kind in ("max", "avg"):
    for tag, shape, k, s, p in pools:
        c = case("%s_pool_%s" % (kind, tag),
                 "%s pool %s %s strides %s on %s" % (kind, p, k, s, shape))
        x = c.input(shape)
        c.fetch(c.max_pool(x, k, s, p) if kind == "max" else c.avg_pool(x, k, s, p))
c = case("max_pool_negative", "max pool SAME on all-negative values: padding is not 0")
c.fetch(c.max_pool(c.input([2, 5, 5, 3], kind="negative"), (3, 3), (2, 2), "SAME"))

# Reshape with -1.
c = case("reshape_flatten", "reshape [2,5,7,3] to [2,-1], then MatMul")
x = c.reshape(c.input([2, 5, 7, 3]), [2, -1])
c.fetch(c.matmul(x, c.var("net/fc/weights", [105, 4])))
c = case("reshape_middle", "reshape [2,5,7,3] to [2,-1,3] and to [-1]")
x = c.input([2, 5, 7, 3])
c.fetch(c.reshape(x, [2, -1, 3]), c.reshape(c.unary("relu", x), [-1]))
c = case("reshape_to_4d", "reshape [6,10] to [-1,2,5,3] and convolve")
x = c.reshape(c.input([6, 10]), [-1, 2, 5, 3])
c.fetch(c.conv_layer(x, "net/conv1", 3, 3, 5))

# LRN, as tf.nn.local_response_normalization.
for tag, shape, r, bias, alpha, beta in [
    ("cifar", [2, 5, 7, 13], 4, 1.0, 0.001 / 9.0, 0.75),
    ("strong", [2, 5, 7, 13], 2, 1.0, 0.5, 0.75),
    ("radius_gt_channels", [1, 3, 5, 5], 5, 2.0, 0.3, 0.5),
    ("radius_0", [1, 3, 5, 7], 0, 0.5, 1.0, 1.0),
    ("beta_1_5", [2, 3, 3, 3], 1, 1.5, 0.1, 1.5),
]:
    c = case("lrn_" + tag, "LRN radius %d bias %g alpha %g beta %g on %s" % (r, bias, alpha, beta,
                                                                              shape))
    c.fetch(c.lrn(c.input(shape, scale=2.0), r, bias, alpha, beta))


def cifar(name, description, shape, c1, c2, fc, classes, alpha, batch_unknown=False):
    """The cifar10 inference graph, small: conv, relu, maxpool, lrn, conv,
    relu, lrn, maxpool, reshape, matmul+bias+relu, matmul+bias, softmax."""
    c = case(name, description)
    x = c.input(shape, batch_unknown=batch_unknown)
    y = c.conv_layer(x, "net/conv1", 5, shape[3], c1, act="relu")
    y = c.max_pool(y, (3, 3), (2, 2), "SAME")
    y = c.lrn(y, 4, 1.0, alpha, 0.75)
    y = c.conv_layer(y, "net/conv2", 5, c1, c2, bias="add", act="relu")
    y = c.lrn(y, 4, 1.0, alpha, 0.75)
    y = c.max_pool(y, (3, 3), (2, 2), "SAME")
    h = (((shape[1] + 1) // 2) + 1) // 2
    w = (((shape[2] + 1) // 2) + 1) // 2
    y = c.reshape(y, [-1, h * w * c2] if batch_unknown else [shape[0], -1])
    y = c.fc_layer(y, "net/local3", h * w * c2, fc, act="relu")
    logits = c.fc_layer(y, "net/softmax_linear", fc, classes)
    c.fetch(c.unary("softmax", logits), logits)


cifar("cifar10_small", "the cifar10 chain on [2,12,12,3], as TensorFlow's cifar10 (alpha 0.001/9)",
      [2, 12, 12, 3], 8, 13, 24, 10, 0.001 / 9.0)
cifar("cifar10_odd", "the cifar10 chain on [3,13,11,3], LRN alpha 0.2, odd channels",
      [3, 13, 11, 3], 5, 13, 19, 7, 0.2)
cifar("cifar10_unknown_batch", "the cifar10 chain, placeholder batch -1 fed 2",
      [2, 9, 10, 3], 8, 5, 16, 10, 0.05, batch_unknown=True)


# ---- PyTorch, with TensorFlow's semantics -------------------------------------


def tf_pads(size, k, stride, dilation, padding):
    """(before, after) padding along one axis, as TensorFlow computes it."""
    if padding == "VALID":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def expected_size(size, k, stride, dilation, padding):
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "SAME" else (size - eff) // stride + 1


def nchw_padded(x, k, strides, dilations, padding, value=0.0):
    """NHWC x as NCHW, padded as TensorFlow pads it."""
    top, bottom = tf_pads(x.shape[1], k[0], strides[0], dilations[0], padding)
    left, right = tf_pads(x.shape[2], k[1], strides[1], dilations[1], padding)
    return F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom), value=value)


def check_spatial(y, x, k, strides, dilations, padding):
    want = (expected_size(x.shape[1], k[0], strides[0], dilations[0], padding),
            expected_size(x.shape[2], k[1], strides[1], dilations[1], padding))
    assert tuple(y.shape[1:3]) == want, (tuple(y.shape), want)
    return y


def conv2d(x, w, strides, padding, dilations):
    k = (w.shape[0], w.shape[1])
    xp = nchw_padded(x, k, strides, dilations, padding)
    y = F.conv2d(xp, w.permute(3, 2, 0, 1), stride=tuple(strides), dilation=tuple(dilations))
    return check_spatial(y.permute(0, 2, 3, 1), x, k, strides, dilations, padding)


def max_pool(x, ksize, strides, padding):
    xp = nchw_padded(x, ksize, strides, (1, 1), padding, value=-math.inf)
    y = F.max_pool2d(xp, tuple(ksize), tuple(strides))
    return check_spatial(y.permute(0, 2, 3, 1), x, ksize, strides, (1, 1), padding)


def avg_pool(x, ksize, strides, padding):
    """TensorFlow's AvgPool: the mean of the real pixels in the window
    (count_include_pad=False, with TensorFlow's asymmetric padding)."""
    xp = nchw_padded(x, ksize, strides, (1, 1), padding)
    ones = nchw_padded(torch.ones_like(x), ksize, strides, (1, 1), padding)
    total = F.avg_pool2d(xp, tuple(ksize), tuple(strides), divisor_override=1)
    count = F.avg_pool2d(ones, tuple(ksize), tuple(strides), divisor_override=1)
    y = (total / count).permute(0, 2, 3, 1)
    return check_spatial(y, x, ksize, strides, (1, 1), padding)


def lrn(x, depth_radius, bias, alpha, beta):
    """tf.nn.local_response_normalization over the last axis:
    sqr_sum[..., c] = sum(x[..., c-r .. c+r] ** 2) (clipped to the channels);
    out = x / (bias + alpha * sqr_sum) ** beta."""
    r = depth_radius
    sq = F.pad(x * x, (r, r))  # zeros beyond the channels
    sqr_sum = sq.unfold(-1, 2 * r + 1, 1).sum(-1)
    return x / (bias + alpha * sqr_sum) ** beta


def evaluate(c, values):
    """Every node's value, in float64; `values` has the sources."""
    t = {}
    for n in c.nodes:
        op, ins = n["op"], [t[i] for i in n.get("inputs", [])]
        if op == "input":
            v = values[n["tensor"]]
        elif op == "variable":
            v = values[n["name"]]
        elif op == "scalar":
            v = torch.tensor(n["value"], dtype=F32 if c.float32 else F64)
        elif op == "conv2d":
            v = conv2d(ins[0], ins[1], n["strides"], n["padding"], n["dilations"])
        elif op == "bias_add":
            assert ins[1].dim() == 1 and ins[1].shape[0] == ins[0].shape[-1]
            v = ins[0] + ins[1]
        elif op == "add":
            v = ins[0] + ins[1]
        elif op == "maximum":
            v = torch.maximum(ins[0], ins[1])
        elif op == "multiply":
            v = ins[0] * ins[1]
        elif op == "subtract":
            v = ins[0] - ins[1]
        elif op == "leaky_relu":
            v = F.leaky_relu(ins[0], n["alpha"])
        elif op == "add_n":
            v = ins[0]
            for other in ins[1:]:
                assert other.shape == v.shape
                v = v + other
        elif op == "matmul":
            a = ins[0].t() if n["transpose_a"] else ins[0]
            b = ins[1].t() if n["transpose_b"] else ins[1]
            v = a @ b
        elif op == "max_pool":
            v = max_pool(ins[0], n["ksize"], n["strides"], n["padding"])
        elif op == "avg_pool":
            v = avg_pool(ins[0], n["ksize"], n["strides"], n["padding"])
        elif op == "reshape":
            v = ins[0].reshape(n["shape"])
        elif op == "lrn":
            v = lrn(ins[0], n["depth_radius"], n["bias"], n["alpha"], n["beta"])
        elif op == "relu":
            v = ins[0].clamp_min(0)
        elif op == "relu6":
            v = ins[0].clamp(0, 6)
        elif op == "sigmoid":
            v = torch.sigmoid(ins[0])
        elif op == "tanh":
            v = torch.tanh(ins[0])
        elif op == "softmax":
            v = torch.softmax(ins[0], dim=-1)
        elif op == "swish":
            v = F.silu(ins[0])
        elif op == "hard_sigmoid":
            v = F.hardsigmoid(ins[0])
        elif op == "hard_swish":
            v = F.hardswish(ins[0])
        else:
            raise ValueError("case %s: unknown op %s" % (c.name, op))
        t[n["id"]] = v
    return t


def source_values(c):
    """The inputs and variables of a case, float32 values held as float64."""
    torch.manual_seed(zlib.crc32(c.name.encode()))
    values = {}
    for n in c.nodes:
        if n["op"] == "input":
            v = torch.randn(n["shape"], dtype=F32) * n["_scale"]
            if n["_kind"] == "negative":
                v = -v.abs() - 0.5
            values[n["tensor"]] = v.to(F64)
        elif n["op"] == "variable" and not n["reuse"]:
            v = torch.randn(n["shape"], dtype=F32) * n["_scale"]
            values[n["name"]] = v.to(F32).to(F64)
    return values


# ---- files ----------------------------------------------------------------------


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTDIR\n" % argv[0])
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    manifest = {"format": "scopenn-oracle", "version": 1, "torch": torch.__version__,
                "cases": []}
    for c in CASES:
        assert c.outputs, c.name
        values = source_values(c)
        t = evaluate(c, dict((k, v.to(F32)) for k, v in values.items()) if c.float32 else values)
        tensors = dict((k, v) for k, v in values.items() if "/" in k)  # variables first
        tensors.update((k, v) for k, v in values.items() if "/" not in k)  # then inputs
        for i, o in enumerate(c.outputs):
            v = t[o]
            assert torch.isfinite(v).all(), (c.name, o)
            tensors["expected" if i == 0 else "expected_%d" % i] = v
        file = c.name + ".safetensors"
        write_safetensors(os.path.join(out, file), tensors, {"case": c.name,
                                                             "generator": "make_cases.py"})
        nodes = [dict((k, v) for k, v in n.items() if not k.startswith("_")) for n in c.nodes]
        entry = {"name": c.name, "description": c.description, "file": file,
                 "max_batch": c.max_batch, "nodes": nodes, "outputs": c.outputs}
        if c.float32:
            entry.update(float32=True, ulps=c.ulps)
        manifest["cases"].append(entry)
    tmp = os.path.join(out, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "manifest.json"))
    print("make_cases: %d cases written to %s" % (len(CASES), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
