#!/usr/bin/env python3
"""PyTorch as a peer of `make bench-peers` on the model zoo's whole models.

    torch_peer.py export MODEL [MODEL...] DIR [--size HxW] [--seed N]
    torch_peer.py time MODEL --threads T [--size HxW] [--iters N] [--warmup W] [--seed N]

export writes, for each MODEL (torchvision's, seeded random weights, its
batch norms' statistics measured: tools/export_torch.py --model), the
scopenn checkpoint DIR/MODEL.safetensors and DIR/MODEL-input.safetensors,
one normalized random image as "input" (NHWC) and the eager module's
logits for it as "expected" (export_torch.py --sample-input, batch 1), and
DIR/MODEL-input.json, what compare.sh needs to judge `scopenn run`'s
difference: {model, size, seed, classes, max_abs_logit}. One JSON line per
model on stdout too.

time builds the same module (the same export_torch.torchvision_model call,
so the same weights as the checkpoint), in eval mode and channels_last,
then torch.jit.trace, freeze and optimize_for_inference, and runs it under
torch.inference_mode() on T threads (one inter-op thread). It checks that
the optimized module's logits for the sample image equal the eager
module's within 1e-4 of the largest |logit| (on the first run and after
the warmup, when the profiling executor has settled). Torch 1.13's
optimize_for_inference gets mobilenet_v3's nn.Hardswish wrong: then it
tries again with each nn.Hardswish written as x relu6(x + 3) / 6, then
merely frozen (impl says which); if none is right, it exits 1. Then
W untimed runs and timed runs, each timed alone: N of them, or without
--iters at least 0.3 s and 3 runs, as bench/peers/peers times its layers.
One JSON line, in the shape of peers' lines:

    {"op": "model", "workload": MODEL, "peer": "pytorch", "threads": T,
     "median_ms": .., "min_ms": .., "iterations": N, "impl": "torch 1.13.0",
     "max_abs_error_vs_eager": ..}

Run it with Debian's python3-torch and python3-torchvision (/usr/bin/python3).
"""
import argparse
import copy
import io
import json
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import export_torch  # noqa: E402  (tools/export_torch.py)

DEFAULT_SECONDS = 0.3  # as peers.c: time at least this long and this many runs
DEFAULT_MIN_RUNS = 3
TOLERANCE = 1e-4  # of the largest |logit|


def parse_size(text):
    try:
        size = tuple(int(d) for d in text.split("x"))
        if len(size) != 2 or min(size) < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError("wants HxW, not %r" % text)
    return size


def export(models, directory, size, seed):
    """Each model's checkpoint, sample input and its .json into directory."""
    os.makedirs(directory, exist_ok=True)
    for name in models:
        module = export_torch.torchvision_model(name, seed, size)
        checkpoint = os.path.join(directory, name + ".safetensors")
        sample = os.path.join(directory, name + "-input.safetensors")
        # export_torch's notes (the num_batches_tracked left out) are of no use here
        export_torch.export_state_dict(module.state_dict(), checkpoint, log=io.StringIO(),
                                       depthwise=sorted(export_torch.depthwise_weights(module)),
                                       multipliers=export_torch.multipliers_of(module))
        logits = export_torch.sample_input(sample, module, seed, size, 1)
        info = {"model": name, "size": list(size), "seed": seed, "checkpoint": checkpoint,
                "input": sample, "classes": int(logits.shape[1]),
                "max_abs_logit": float(logits.abs().max())}
        with open(os.path.join(directory, name + "-input.json"), "w") as f:
            f.write(json.dumps(info) + "\n")
        print(json.dumps(info), flush=True)
    return 0


def time_model(name, threads, size, seed, iters, warmup):
    import torch

    # the MKLDNN rewrite's chatter about resized outputs (mobilenet_v3's)
    warnings.filterwarnings("ignore", message="An output with one or more elements was resized")
    torch.set_num_threads(threads)
    try:  # only before any inter-op work, which there has been none of yet
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    # The module as exported (eager, NCHW): its logits are the reference.
    module = export_torch.torchvision_model(name, seed, size)
    x = export_torch.sample_images(seed, size, 1)
    with torch.no_grad():
        eager = module(x)
    tolerance = TOLERANCE * float(eager.abs().max())

    module = module.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)

    def error(logits):
        return float((logits - eager).abs().max())

    class Hardswish(torch.nn.Module):
        """nn.Hardswish as x relu6(x + 3) / 6: three ops, the same function."""

        def forward(self, v):
            return v * torch.nn.functional.relu6(v + 3) / 6

    def rewrite_hardswish(parent):
        for child_name, child in parent.named_children():
            if isinstance(child, torch.nn.Hardswish):
                setattr(parent, child_name, Hardswish())
            else:
                rewrite_hardswish(child)

    def settled(optimize, hardswish):
        """The module traced and frozen (and optimized), its first run and
        the warmup done; and its largest error over the first and the last."""
        m = module
        if hardswish:
            m = copy.deepcopy(module)
            rewrite_hardswish(m)
        with torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(m, x))
            if optimize:
                frozen = torch.jit.optimize_for_inference(frozen)
        with torch.inference_mode():
            worst = error(frozen(x))
            for _ in range(warmup):
                frozen(x)
            return frozen, max(worst, error(frozen(x)))

    # Debian's torch 1.13 optimize_for_inference gets a conv's nn.Hardswish
    # wrong when its channels are not a multiple of 16 (its MKLDNN rewrite:
    # mobilenet_v3_small and _large, both layouts); written as three plain
    # ops it gets it right. The JSON's impl says which of these ran.
    ways = [(True, False, "optimized", ""),
            (True, True, "optimized with nn.Hardswish rewritten",
             " (nn.Hardswish as x relu6(x + 3) / 6)"),
            (False, False, "frozen", " frozen only (optimize_for_inference wrong)")]
    for optimize, hardswish, what, note in ways:
        if hardswish and not any(isinstance(m, torch.nn.Hardswish) for m in module.modules()):
            continue
        optimized, worst = settled(optimize, hardswish)
        if worst <= tolerance:  # not NaN either
            break
        sys.stderr.write("torch_peer: %s: the %s module's logits differ from the eager module's "
                         "by %g (tolerance %g)\n" % (name, what, worst, tolerance))
    else:
        return 1
    impl = "torch " + torch.__version__ + note
    with torch.inference_mode():
        times = []
        start = time.perf_counter()
        while (len(times) < iters if iters else
               len(times) < DEFAULT_MIN_RUNS or time.perf_counter() - start < DEFAULT_SECONDS):
            t0 = time.perf_counter()
            optimized(x)
            times.append(time.perf_counter() - t0)
    print(json.dumps({"op": "model", "workload": name, "peer": "pytorch", "threads": threads,
                      "median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times),
                      "iterations": len(times), "impl": impl,
                      "max_abs_error_vs_eager": worst}), flush=True)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    e = commands.add_parser("export", help="checkpoints and sample inputs into DIR")
    e.add_argument("paths", nargs="+", metavar="MODEL... DIR")
    t = commands.add_parser("time", help="time MODEL, traced, frozen and optimized")
    t.add_argument("model")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--iters", type=int, default=0,
                   help="timed runs (default: at least 0.3 s and 3 runs)")
    t.add_argument("--warmup", type=int, default=10,
                   help="untimed runs after the first (default 10: the JIT's profiling "
                        "executor optimizes after its first few)")
    for p in (e, t):
        p.add_argument("--size", type=parse_size, default=(224, 224), help="HxW (default 224x224)")
        p.add_argument("--seed", type=int, default=0, help="as export_torch.py's (default 0)")
    args = parser.parse_args(argv[1:])
    if args.command == "export":
        if len(args.paths) < 2:
            parser.error("export wants MODEL... DIR")
        return export(args.paths[:-1], args.paths[-1], args.size, args.seed)
    if args.threads < 1 or args.iters < 0 or args.warmup < 0:
        parser.error("--threads wants 1 or more, --iters and --warmup 0 or more")
    return time_model(args.model, args.threads, args.size, args.seed, args.iters, args.warmup)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
