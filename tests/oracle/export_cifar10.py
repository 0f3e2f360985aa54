#!/usr/bin/env python3
"""The cifar10 inference model as a PyTorch module (TensorFlow's padding,
pooling and LRN, from make_cases.py), randomly initialized, exported with
tools/export_torch.py for examples/cifar10.c, with an input and PyTorch's
logits for it.

    export_cifar10.py OUTDIR  -> OUTDIR/cifar10.safetensors, OUTDIR/check.safetensors
"""
import os
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "export_torch.py")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(TOOL))
import make_cases as tf  # noqa: E402  (TensorFlow's conv padding, pooling, LRN on NHWC)
from export_torch import write_safetensors  # noqa: E402


class Cifar10(nn.Module):
    """cifar10.inference at 24x24: conv1 5x5 3->64, pool1, norm1, conv2 5x5
    64->64, norm2, pool2, local3 2304->384, local4 384->192, softmax_linear
    192->10 (logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 5)
        self.conv2 = nn.Conv2d(64, 64, 5)
        self.local3 = nn.Linear(6 * 6 * 64, 384)
        self.local4 = nn.Linear(384, 192)
        self.softmax_linear = nn.Linear(192, 10)

    def forward(self, x):  # x: NHWC
        def conv(x, layer):
            hwio = layer.weight.permute(2, 3, 1, 0)
            return F.relu(tf.conv2d(x, hwio, (1, 1), "SAME", (1, 1)) + layer.bias)

        y = tf.max_pool(conv(x, self.conv1), (3, 3), (2, 2), "SAME")
        y = tf.lrn(y, 4, 1.0, 0.001 / 9.0, 0.75)
        y = tf.lrn(conv(y, self.conv2), 4, 1.0, 0.001 / 9.0, 0.75)
        y = tf.max_pool(y, (3, 3), (2, 2), "SAME")
        y = torch.flatten(y.permute(0, 3, 1, 2), 1)  # as a PyTorch model flattens: NCHW
        y = F.relu(self.local3(y))
        y = F.relu(self.local4(y))
        return self.softmax_linear(y)


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(10)
    model = Cifar10().eval()
    torch.save(model.state_dict(), os.path.join(out, "cifar10.pt"))
    subprocess.run([sys.executable, TOOL, os.path.join(out, "cifar10.pt"),
                    os.path.join(out, "cifar10.safetensors"), "--flatten", "local3/weights=64,6,6"],
                   check=True, stdout=subprocess.DEVNULL)
    x = torch.rand(2, 24, 24, 3) - 0.5
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(out, "check.safetensors"), {"images": x, "logits": y})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
