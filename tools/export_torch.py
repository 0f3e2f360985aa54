#!/usr/bin/env python3
"""Export a PyTorch state_dict as a scopenn safetensors checkpoint.

    export_torch.py MODEL.pt OUT.safetensors [--map REGEX=REPLACEMENT]...
                    [--flatten NAME=C,H,W]...

MODEL.pt holds a state_dict (torch.save(model.state_dict(), path)) or a
whole module. Each tensor is renamed from its module path to a scopenn
variable name, and laid out as scopenn reads it:

  conv1.weight  [out, in, kh, kw]  ->  conv1/weights  [kh, kw, in, out]  (OIHW -> HWIO)
  conv1.bias    [out]              ->  conv1/biases   [out]
  fc.weight     [out, in]          ->  fc/weights     [in, out]
  features.0.weight                ->  features/0/weights

--map rewrites names further, applied in order to the scopenn name (Python
regular expressions; --map '^features/0/=conv1/' say). --flatten tells
that the input of a dense layer is a flattened C x H x W map: PyTorch
flattens NCHW, scopenn NHWC, so the rows of NAME (after --map, e.g.
fc/weights) are reordered from (c, h, w) to (h, w, c).

Integer tensors (BatchNorm's num_batches_tracked) are left out with a note;
floating tensors are written as F32. Run it with Debian's python3-torch
(/usr/bin/python3). As a module: export_state_dict(state_dict, path, ...).
"""
import json
import os
import re
import struct
import sys


def write_safetensors(path, tensors, metadata=None):
    """Write name -> torch tensor as F32 safetensors, in insertion order
    (header padded to a multiple of 8; written to a temporary file, then
    renamed)."""
    import torch

    header, blobs, offset = {"__metadata__": metadata or {}}, [], 0
    for name, value in tensors.items():
        flat = value.detach().to(torch.float32).contiguous().reshape(-1).tolist()
        blob = struct.pack("<%df" % len(flat), *flat)
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def scopenn_name(path):
    """conv1.weight -> conv1/weights; conv1.bias -> conv1/biases."""
    parts = path.split(".")
    last = {"weight": "weights", "bias": "biases"}.get(parts[-1], parts[-1])
    return "/".join(parts[:-1] + [last])


def to_scopenn_layout(path, value):
    """OIHW filters to HWIO, [out, in] linear weights to [in, out]."""
    if path.endswith("weight") and value.dim() == 4:
        return value.permute(2, 3, 1, 0)
    if path.endswith("weight") and value.dim() == 2:
        return value.t()
    return value


def nhwc_rows(weights, c, h, w):
    """Reorder the rows of a dense layer's [c*h*w, out] weights from the
    (c, h, w) order of an NCHW flatten to the (h, w, c) order of NHWC."""
    out = weights.shape[1]
    return weights.reshape(c, h, w, out).permute(1, 2, 0, 3).reshape(c * h * w, out)


def export_state_dict(state_dict, path, maps=(), flatten=None, log=sys.stderr):
    """Write `state_dict` (module path -> tensor) to `path` as scopenn
    variables; returns {scopenn name: shape}. maps: (regex, replacement)
    pairs; flatten: {scopenn name: (c, h, w)}."""
    import torch

    out, flatten = {}, dict(flatten or {})
    for key, value in state_dict.items():
        if not torch.is_floating_point(value):
            log.write("export_torch: leaving out %s (%s, not floating point)\n" % (key, value.dtype))
            continue
        name = scopenn_name(key)
        for pattern, replacement in maps:
            name = re.sub(pattern, replacement, name)
        value = to_scopenn_layout(key, value)
        if name in flatten:
            value = nhwc_rows(value, *flatten.pop(name))
        if name in out:
            raise SystemExit("export_torch: two tensors map to %s" % name)
        out[name] = value
    if flatten:
        raise SystemExit("export_torch: --flatten names no exported tensor: %s" % ", ".join(flatten))
    write_safetensors(path, out, {"format": "scopenn", "source": "pytorch"})
    return {name: list(v.shape) for name, v in out.items()}


def main(argv):
    import argparse

    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a torch.save()d state_dict or module")
    parser.add_argument("output", help="the safetensors file to write")
    parser.add_argument("--map", action="append", default=[], metavar="REGEX=REPLACEMENT")
    parser.add_argument("--flatten", action="append", default=[], metavar="NAME=C,H,W")
    args = parser.parse_args(argv[1:])
    maps, flatten = [], {}
    for m in args.map:
        if "=" not in m:
            parser.error("--map wants REGEX=REPLACEMENT, not %r" % m)
        maps.append(tuple(m.split("=", 1)))
    for f in args.flatten:
        name, _, dims = f.partition("=")
        try:
            c, h, w = (int(d) for d in dims.split(","))
        except ValueError:
            parser.error("--flatten wants NAME=C,H,W, not %r" % f)
        flatten[name] = (c, h, w)
    loaded = torch.load(args.model, map_location="cpu")
    state = loaded.state_dict() if hasattr(loaded, "state_dict") else loaded
    for name, shape in export_state_dict(state, args.output, maps, flatten).items():
        print("%s\t%s" % (name, "x".join(str(d) for d in shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
