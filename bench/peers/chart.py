#!/usr/bin/env python3
"""One chart of a `make bench-peers` run: scopenn's speed against each peer.

    chart.py BENCH-PEERS.JSONL OUT [--title TEXT]

writes OUT.svg and OUT.png: for each layer workload (top) and each model
(bottom), at each thread count, one bar per peer of ratio = peer ms /
scopenn ms (above 1, scopenn is faster), drawn from 1 outwards on a log
scale, with a line at 1 and a dashed one at the bar scopenn aims for
(1.05 for layers, 1.2 for models). Each engine's figure on a row is the
one compare.sh's tables show: of its rounds, the one with the median of
their medians.

Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import json
import sys

COLORS = {"xnnpack": "#4c72b0", "onednn": "#dd8452", "pytorch": "#c44e52"}
BARS = {False: 1.05, True: 1.2}  # layers, models: scopenn's aim
FINE_TICKS = [0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.5, 3, 4,
              5, 7, 10, 15, 20, 30, 50, 100]
COARSE_TICKS = [0.1, 0.2, 0.5, 0.8, 1, 1.2, 1.5, 2, 3, 5, 10, 20, 50, 100]


def figures(path):
    """{(is model, name, threads): {engine: ms, "busy": bool}} from the
    lines measured, in the order first measured: each engine's median
    round; busy if other processes took 10% of a core or more during the
    row (compare.sh's "!")."""
    rounds, order, busy = {}, [], set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("check") or "median_ms" not in r:
                continue
            row = (r.get("op") == "model", r["workload"], r["threads"])
            if row not in rounds:
                rounds[row] = {}
                order.append(row)
            rounds[row].setdefault(r["peer"], []).append(r["median_ms"])
            if r["peer"] == "scopenn" and r.get("others_cpu_pct", 0) >= 10:
                busy.add(row)
    rows = {}
    for row in order:
        ms = {}
        for engine, values in rounds[row].items():
            values = sorted(values)
            ms[engine] = values[(len(values) - 1) // 2]
        if "scopenn" in ms and len(ms) > 1:
            rows[row] = dict(ms, busy=row in busy)
    return rows


def panel(ax, rows, model, peers):
    """Horizontal bars, one group per (name, threads), top to bottom in the
    order measured."""
    import matplotlib.ticker as ticker

    height = 0.8 / max(1, len(peers))
    labels, ratios = [], []
    for i, ((_, name, threads), ms) in enumerate(rows):
        labels.append("%s, %d thread%s%s" % (name, threads, "" if threads == 1 else "s",
                                             " (busy!)" if ms["busy"] else ""))
        for j, peer in enumerate(peers):
            if peer not in ms:
                continue
            ratio = ms[peer] / ms["scopenn"]
            ratios.append(ratio)
            y = i + (j - (len(peers) - 1) / 2) * height
            # from 1 outwards: right where scopenn is faster, left where slower
            ax.barh(y, ratio - 1, left=1, height=height, color=COLORS.get(peer, "#8c8c8c"),
                    label=peer if peer not in ax.get_legend_handles_labels()[1] else None)
            ax.text(ratio, y, (" %.2f" if ratio >= 1 else "%.2f ") % ratio, va="center",
                    ha="left" if ratio >= 1 else "right", fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    lo, hi = min(ratios + [0.8]) / 1.25, max(ratios + [BARS[model] * 1.1]) * 1.3
    ax.set_xlim(lo, hi)
    # ticks a reader can use on a short range (1 to 2) and a long one (to 20)
    ticks = [t for t in FINE_TICKS if lo <= t <= hi]
    if len(ticks) > 12:
        ticks = [t for t in COARSE_TICKS if lo <= t <= hi]
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: "%g" % v))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.axvline(1.0, color="black", linewidth=1)
    ax.axvline(BARS[model], color="black", linewidth=0.8, linestyle="--")
    ax.grid(axis="x", which="both", alpha=0.25)
    ax.set_title("%s: peer ms / scopenn ms (above 1: scopenn is faster; dashed: %.2f)"
                 % ("whole models, batch 1" if model else "layers", BARS[model]), fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", help="BUILD_DIR/bench-peers.jsonl of compare.sh")
    parser.add_argument("out", help="OUT: writes OUT.svg and OUT.png")
    parser.add_argument("--title", default="scopenn against its peers")
    args = parser.parse_args(argv[1:])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = figures(args.jsonl)
    panels = []
    for model in (False, True):
        part = [(row, ms) for row, ms in rows.items() if row[0] == model]
        if part:
            peers = [p for p in COLORS if any(p in ms for _, ms in part)]
            peers += sorted({p for _, ms in part for p in ms} - set(peers) - {"scopenn", "busy"})
            panels.append((model, part, peers))
    if not panels:
        sys.stderr.write("chart.py: %s: no rows with scopenn and a peer\n" % args.jsonl)
        return 1
    sizes = [len(part) * (0.28 * len(peers) + 0.15) + 0.9 for _, part, peers in panels]
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text
    height = sum(sizes) + 0.6
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, height),
                             gridspec_kw={"height_ratios": sizes}, squeeze=False)
    for ax, (model, part, peers) in zip(axes[:, 0], panels):
        panel(ax, part, model, peers)
    fig.suptitle(args.title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / height))  # room for the suptitle
    fig.savefig(args.out + ".svg", metadata={"Date": None})
    fig.savefig(args.out + ".png", dpi=110)
    print("chart: %s.svg, %s.png" % (args.out, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
