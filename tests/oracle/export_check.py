#!/usr/bin/env python3
"""The PyTorch export path, end to end: a small CNN, randomly initialized
(nothing trained), saved with torch.save, exported with
tools/export_torch.py (flatten reordered for NHWC), plus an input and
PyTorch's output for it. test_export then builds the same graph in C under
the same scope names, loads the checkpoint strictly and compares.

    export_check.py OUTDIR   -> OUTDIR/model.pt, model.safetensors, check.safetensors
"""
import os
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "export_torch.py")
sys.path.insert(0, os.path.dirname(TOOL))
from export_torch import write_safetensors  # noqa: E402


class SmallCNN(nn.Module):
    """conv1 3->8 (3x3, SAME) + relu, 2x2 max pool, conv2 8->16 (3x3, SAME)
    + relu, flatten (NCHW), fc 16*4*4 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 10)
        self.bn = nn.BatchNorm2d(16)  # unused by forward; its num_batches_tracked is I64

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(2024)
    model = SmallCNN().eval()
    torch.save(model.state_dict(), os.path.join(out, "model.pt"))
    subprocess.run([sys.executable, TOOL, os.path.join(out, "model.pt"),
                    os.path.join(out, "model.safetensors"), "--map", "^bn/=ignored_bn/",
                    "--flatten", "fc/weights=16,4,4"], check=True, stdout=subprocess.DEVNULL)
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(out, "check.safetensors"),
                      {"input": x.permute(0, 2, 3, 1), "expected": y})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
