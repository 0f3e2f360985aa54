#!/usr/bin/env python3
"""The model zoo against PyTorch: torchvision's MODEL with random weights
(seed 0, batch-norm statistics measured at SIZE), exported as
tools/export_torch.py --model does, plus a random NHWC input and PyTorch's
eval-mode logits for it. test_zoo builds the model with sn_model_build,
loads the weights strictly and compares.

    zoo_check.py OUTDIR SIZE BATCH MODEL...
        -> OUTDIR/MODEL.safetensors, OUTDIR/MODEL-check.safetensors
           (input [BATCH, SIZE, SIZE, 3], expected [BATCH, 1000]) for each
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import export_torch  # noqa: E402


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    out, size, batch = argv[1], int(argv[2]), int(argv[3])
    os.makedirs(out, exist_ok=True)
    for name in argv[4:]:
        check(out, name, size, batch)
    return 0


def check(out, name, size, batch):
    model = export_torch.torchvision_model(name, seed=0, size=(size, size))
    export_torch.export_state_dict(model.state_dict(), os.path.join(out, name + ".safetensors"),
                                   log=open(os.devnull, "w"),
                                   depthwise=sorted(export_torch.depthwise_weights(model)),
                                   multipliers=export_torch.multipliers_of(model))
    torch.manual_seed(1)
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        y = model(x)
    export_torch.write_safetensors(os.path.join(out, name + "-check.safetensors"),
                                   {"input": x.permute(0, 2, 3, 1), "expected": y})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
