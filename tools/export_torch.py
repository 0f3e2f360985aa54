#!/usr/bin/env python3
"""Export a PyTorch state_dict as a scopenn safetensors checkpoint.

    export_torch.py MODEL.pt OUT.safetensors [--map REGEX=REPLACEMENT]...
                    [--flatten NAME=C,H,W]... [--depthwise REGEX]...
    export_torch.py --model NAME [--seed N] [--size HxW] [MODEL.pt] OUT.safetensors
                    [--sample-input PATH [--batch N]]

MODEL.pt holds a state_dict (torch.save(model.state_dict(), path)) or a
whole module; --model builds torchvision's NAME (resnet18, mobilenet_v2,
...) with random weights from --seed instead (there are no pretrained
weights offline), its batch-norm statistics measured on random images of
--size so that every batch norm does real work (each variance at least
1e-3, so that the random model's logits do not hang on float32's
rounding); --model NAME MODEL.pt
builds NAME and loads the state_dict MODEL.pt into it (torchvision's
pretrained weights, say), so that its depthwise convs are known.

--sample-input PATH writes an input for `scopenn run`: --batch random
images of --size (seeded by --seed), normalized as torchvision's models
were trained (ImageNet mean and std), NHWC, as "input" [N, H, W, 3];
and, when there is a module to run, its eval-mode logits for them as
"expected" [N, classes], which `scopenn run` compares with its own.

Each tensor is renamed
from its module path to a scopenn variable name, and laid out as scopenn
reads it:

  conv1.weight  [out, in, kh, kw]  ->  conv1/weights  [kh, kw, in, out]  (OIHW -> HWIO)
  conv1.bias    [out]              ->  conv1/biases   [out]
  fc.weight     [out, in]          ->  fc/weights     [in, out]
  features.0.weight                ->  features/0/weights
  a depthwise conv's weight [c m, 1, kh, kw] -> weights [kh, kw, c, m]
  bn1.weight, .bias, .running_mean, .running_var
                                   ->  bn1/gamma, bn1/beta, bn1/moving_mean,
                                       bn1/moving_variance (tf.layers' names)

A conv is depthwise when the module says so (groups == in_channels > 1);
for a bare state_dict, --depthwise names its weights (a regular
expression on the PyTorch name). A batch norm is recognised by its
running_mean.

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
    """Write name -> torch tensor as F32 safetensors (written to a temporary
    file, then renamed). The data starts 64 bytes into a cache line, and the
    tensors whose bytes fill whole cache lines come first, in insertion
    order, then the others: every weight then lies 64-byte aligned in the
    file, where scopenn reads it without a copy (sn_graph_load_checkpoint).
    Safetensors allows no gaps between tensors, hence the order."""
    import torch

    items = list(tensors.items())
    items = ([(n, v) for n, v in items if v.numel() * 4 % 64 == 0] +
             [(n, v) for n, v in items if v.numel() * 4 % 64 != 0])
    header, blobs, offset = {"__metadata__": metadata or {}}, [], 0
    for name, value in items:
        flat = value.detach().to(torch.float32).contiguous().reshape(-1).tolist()
        blob = struct.pack("<%df" % len(flat), *flat)
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 64)
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


BATCH_NORM = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean",
              "running_var": "moving_variance"}


def batch_norm_prefixes(state_dict):
    """The module paths of the batch norms: those with a running_mean."""
    return {k[: -len(".running_mean")] for k in state_dict if k.endswith(".running_mean")}


def depthwise_weights(module):
    """The state_dict names of the depthwise convs' weights of `module`
    (groups == in_channels > 1); other grouped convs are refused."""
    import torch.nn as nn

    names = set()
    for path, m in module.named_modules():
        if isinstance(m, nn.Conv2d) and m.groups > 1:
            if m.groups != m.in_channels:
                raise SystemExit("export_torch: %s is a grouped conv (groups %d of %d channels); "
                                 "scopenn has depthwise convs only" % (path, m.groups, m.in_channels))
            names.add(path + ".weight")
    return names


def to_scopenn_layout(path, value, depthwise=False):
    """OIHW filters to HWIO, a depthwise [c m, 1, kh, kw] to [kh, kw, c, m],
    [out, in] linear weights to [in, out]."""
    if depthwise:
        if value.dim() != 4 or value.shape[1] != 1:
            raise SystemExit("export_torch: %s is not a depthwise weight %s" % (path, list(value.shape)))
        return value.permute(2, 3, 0, 1)  # [kh, kw, c m, 1]; reshaped by the caller
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


def export_state_dict(state_dict, path, maps=(), flatten=None, log=sys.stderr, depthwise=(),
                      multipliers=None):
    """Write `state_dict` (module path -> tensor) to `path` as scopenn
    variables; returns {scopenn name: shape}. maps: (regex, replacement)
    pairs; flatten: {scopenn name: (c, h, w)}; depthwise: the names of the
    depthwise convs' weights, or regular expressions matching them."""
    import torch

    out, flatten = {}, dict(flatten or {})
    norms = batch_norm_prefixes(state_dict)
    counters = []  # BatchNorm's num_batches_tracked: a count, not a weight
    for key, value in state_dict.items():
        if key.endswith(".num_batches_tracked"):
            counters.append(key)
            continue
        if not torch.is_floating_point(value):
            log.write("export_torch: leaving out %s (%s, not floating point)\n" % (key, value.dtype))
            continue
        prefix, _, leaf = key.rpartition(".")
        if prefix in norms and leaf in BATCH_NORM:
            name = "/".join(prefix.split(".") + [BATCH_NORM[leaf]])
        else:
            name = scopenn_name(key)
        for pattern, replacement in maps:
            name = re.sub(pattern, replacement, name)
        is_depthwise = any(key == d or re.fullmatch(d, key) for d in depthwise)
        value = to_scopenn_layout(key, value, is_depthwise)
        if is_depthwise:  # [kh, kw, c m, 1] -> [kh, kw, c, m]: m from the module, else 1
            m = (multipliers or {}).get(key, 1)
            value = value.reshape(value.shape[0], value.shape[1], value.shape[2] // m, m)
        if name in flatten:
            value = nhwc_rows(value, *flatten.pop(name))
        if name in out:
            raise SystemExit("export_torch: two tensors map to %s" % name)
        out[name] = value
    if counters:
        log.write("export_torch: leaving out %d num_batches_tracked counters (%s%s)\n"
                  % (len(counters), counters[0], ", ..." if len(counters) > 1 else ""))
    if flatten:
        raise SystemExit("export_torch: --flatten names no exported tensor: %s" % ", ".join(flatten))
    write_safetensors(path, out, {"format": "scopenn", "source": "pytorch"})
    return {name: list(v.shape) for name, v in out.items()}


def torchvision_model(name, seed=0, size=(224, 224), batches=4, batch=2):
    """torchvision's `name` with random weights from `seed`, in eval mode,
    its batch norms' statistics measured (a plain average) on `batches`
    batches of `batch` (or more, for small images) random images, so that
    each normalizes for real."""
    import torch
    import torchvision

    torch.manual_seed(seed)
    try:
        model = getattr(torchvision.models, name)(weights=None)
    except AttributeError:
        raise SystemExit("export_torch: torchvision has no model %r" % name)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average of the batches
            # random affine parameters, so that folding them is tested
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    # Below 224x224 the late layers see a few pixels an image: more images,
    # as many pixels a batch as 2 images of 224x224 (at most 256), else a
    # channel's variance came from a handful of values and the random
    # model's logits hung on float32's rounding (efficientnet_b0 at 16x16:
    # PyTorch's own logits 9x the 1e-4 tolerance off float64's, 0.1x now).
    # At 224x224 and above: the same 2 images as before.
    batch = max(batch, min(256, -(-2 * 224 * 224 // (size[0] * size[1]))))
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch, 3, size[0], size[1]))
        if batches:
            # A channel nearly constant on random images (efficientnet_b0's
            # late depthwise convs: variance 2e-6) got a gain of 200-400
            # that made the logits hang on float32's rounding at some sizes
            # (64x64: PyTorch's own 0.6x the 1e-4 tolerance off float64's,
            # 2.7x with another floor); with variances of 1e-3 or more,
            # 0.03-0.06x at 33x47, 64x64 and 224x224.
            for m in model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.running_var.clamp_(min=1e-3)
    return model.eval()


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def sample_images(seed=0, size=(224, 224), batch=1):
    """`batch` random images of `size`, seeded, normalized with ImageNet's
    mean and std, NCHW: what sample_input writes."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    pixels = torch.rand(batch, 3, size[0], size[1], generator=generator)
    mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    return (pixels - mean) / std


def sample_input(path, module=None, seed=0, size=(224, 224), batch=1):
    """Write `batch` random images of `size`, seeded, normalized with
    ImageNet's mean and std, as NHWC "input", and `module`'s logits for
    them (if a module is given) as "expected"; returns the logits or None."""
    import torch

    x = sample_images(seed, size, batch)
    tensors = {"input": x.permute(0, 2, 3, 1)}  # NCHW -> NHWC
    logits = None
    if module is not None:
        try:
            with torch.no_grad():
                logits = module.eval()(x)
            tensors["expected"] = logits
        except RuntimeError as e:  # not an image classifier: the images alone
            sys.stderr.write("export_torch: %s: no \"expected\": the module does not take "
                             "%s images (%s)\n" % (path, "x".join(map(str, x.shape)), e))
            logits = None
    write_safetensors(path, tensors, {"format": "scopenn", "layout": "NHWC"})
    return logits


def multipliers_of(module):
    """Depthwise weights' depth multipliers (out / in channels)."""
    import torch.nn as nn

    return {path + ".weight": m.out_channels // m.in_channels
            for path, m in module.named_modules()
            if isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels}


def main(argv):
    import argparse

    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="[MODEL.pt] OUT.safetensors",
                        help="a torch.save()d state_dict or module (unless --model), and the "
                             "safetensors file to write")
    parser.add_argument("--model", help="a torchvision model's name: its weights random, or "
                                        "MODEL.pt's if given")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="224x224",
                        help="the images' HxW for --model's statistics and --sample-input")
    parser.add_argument("--sample-input", metavar="PATH",
                        help="also write random normalized NHWC images as \"input\" (and the "
                             "model's logits for them as \"expected\") for `scopenn run`")
    parser.add_argument("--batch", type=int, default=1, help="images in --sample-input")
    parser.add_argument("--map", action="append", default=[], metavar="REGEX=REPLACEMENT")
    parser.add_argument("--flatten", action="append", default=[], metavar="NAME=C,H,W")
    parser.add_argument("--depthwise", action="append", default=[], metavar="REGEX")
    args = parser.parse_args(argv[1:])
    if len(args.paths) not in ((1, 2) if args.model else (2,)):
        parser.error("give MODEL.pt OUT.safetensors, or --model NAME [MODEL.pt] OUT.safetensors")
    if args.batch < 1:
        parser.error("--batch wants a positive count, not %d" % args.batch)
    args.output = args.paths[-1]
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
    try:
        size = tuple(int(d) for d in args.size.split("x"))
        if len(size) != 2 or min(size) < 1:
            raise ValueError
    except ValueError:
        parser.error("--size wants HxW, not %r" % args.size)
    if args.model and len(args.paths) == 2:
        loaded = torchvision_model(args.model, args.seed, size, batches=0)
        state = torch.load(args.paths[0], map_location="cpu")
        loaded.load_state_dict(state.state_dict() if hasattr(state, "state_dict") else state)
    elif args.model:
        loaded = torchvision_model(args.model, args.seed, size)
    else:
        loaded = torch.load(args.paths[0], map_location="cpu")
    module = loaded if hasattr(loaded, "state_dict") else None
    state = module.state_dict() if module is not None else loaded
    depthwise = list(args.depthwise) + (sorted(depthwise_weights(module)) if module else [])
    multipliers = multipliers_of(module) if module else {}
    for name, shape in export_state_dict(state, args.output, maps, flatten,
                                         depthwise=depthwise, multipliers=multipliers).items():
        print("%s\t%s" % (name, "x".join(str(d) for d in shape)))
    if args.sample_input:
        logits = sample_input(args.sample_input, module, args.seed, size, args.batch)
        if logits is not None:
            top = logits[0].topk(min(5, logits.shape[1]))
            sys.stderr.write("export_torch: %s: PyTorch's top 5 for image 0: %s\n" % (
                args.sample_input, ", ".join("%d (%.4f)" % (int(i), float(v))
                                             for v, i in zip(top.values, top.indices))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
