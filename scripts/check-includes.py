#!/usr/bin/env python3
"""Checks that includes run one way: no cycle between the folders of src/,
nor between the modules of tools/ (DESIGN.md, "Architecture").

  scripts/check-includes.py [REPOSITORY]

src/: every `#include "..."` of src/**/*.{c,h,inc} is resolved as the
compiler resolves it (the including file's folder, then src/); a file
belongs to its top folder under src/ (src/kernels/avx2/x.c to "kernels"),
a file directly in src/ to ".". Includes of files outside src/
(include/scopenn.h, system headers) are not edges.

tools/: a module is a file's stem (cli.c and cli.h are one module, "cli").

Op kinds: outside src/ops/ no file names an op kind (SN_OP_CONV2D, ...):
only the op classes know them, and the list of kinds
(src/graph/op-kinds.inc) makes the enum and the names table through
SN_OP_KIND (DESIGN.md: nothing outside src/ops/ switches on the op kind).

Prints the order found, lowest first (each group depends only on groups
before it). Exits 1, printing the include lines that make each cycle, if
there is one; 0 otherwise. Python 3 standard library only.
"""

import os
import re
import sys
from collections import defaultdict

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def includes(path):
    """(line number, line, included name) for each quoted include."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, line.rstrip("\n"), m.group(1)


def sources(root, extensions):
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(extensions):
                yield os.path.join(folder, name)


def resolve(path, name, search):
    """The file `#include "name"` in `path` reads, or None if it is not
    under one of `search` (the include folders after the file's own)."""
    for folder in [os.path.dirname(path)] + search:
        candidate = os.path.normpath(os.path.join(folder, name))
        if os.path.isfile(candidate):
            return candidate
    return None


def graph(files, unit_of, search, repo):
    """Edges unit -> {unit it includes: [include lines]}, and every unit."""
    edges = defaultdict(lambda: defaultdict(list))
    units = set()
    for path in files:
        unit = unit_of(path)
        units.add(unit)
        for number, line, name in includes(path):
            target = resolve(path, name, search)
            if target is None or unit_of(target) is None:
                continue
            other = unit_of(target)
            units.add(other)
            if other != unit:
                where = os.path.relpath(path, repo)
                edges[unit][other].append(f"{where}:{number}: {line.strip()}")
    return edges, units


def components(units, edges):
    """Strongly connected components (Tarjan), each a sorted list."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(units):
        if v not in index:
            visit(v)
    return found


def levels(units, edges, group_of):
    """Groups (a cycle counts as one) by level: 0 for a group that includes
    no other, else one more than the highest level it includes."""
    level = {}

    def of(g):
        if g not in level:
            level[g] = -1  # being computed; groups form a DAG, so never read
            below = [of(group_of[w]) for v in g for w in edges[v] if group_of[w] != g]
            level[g] = 1 + max(below, default=-1)
        return level[g]

    by_level = defaultdict(list)
    for g in sorted(set(group_of.values())):
        by_level[of(g)].append(g)
    return [sorted(by_level[k]) for k in sorted(by_level)]


def check(title, units, edges):
    """Prints the order of `units`; returns False if they include in a
    circle, after printing the include lines of each circle."""
    groups = components(units, edges)
    group_of = {v: tuple(g) for g in groups for v in g}
    order = levels(units, edges, group_of)

    def name(g):
        return g[0] if len(g) == 1 else "{" + " <-> ".join(g) + "}"

    found = " < ".join(", ".join(name(g) for g in level) for level in order)
    print(f"{title}: order, lowest first: {found}")
    cycles = [g for g in groups if len(g) > 1]
    for g in cycles:
        print(f"{title}: cycle between {', '.join(g)}:")
        for v in g:
            for w in sorted(edges[v]):
                if w in g:
                    print(f"  {v} -> {w}")
                    for line in edges[v][w]:
                        print(f"    {line}")
    return not cycles


OP_KIND = re.compile(r"\bSN_OP_(?!TYPE_COUNT\b|KIND\b)[A-Z0-9_]+")


def check_op_kinds(repo):
    """Prints every line outside src/ops/ that names an op kind; returns
    False if there is one."""
    ops = os.path.join(repo, "src", "ops")
    found = []
    for top in ("src", "tools"):
        for path in sources(os.path.join(repo, top), (".c", ".h", ".inc")):
            if path.startswith(ops + os.sep):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    if OP_KIND.search(line):
                        found.append(f"  {os.path.relpath(path, repo)}:{number}: {line.strip()}")
    if found:
        print("op kinds named outside src/ops/:")
        print("\n".join(found))
    else:
        print("op kinds: named only in src/ops/")
    return not found


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else here)
    src, tools = os.path.join(repo, "src"), os.path.join(repo, "tools")

    def folder(path):
        rel = os.path.relpath(path, src)
        if rel.startswith(".."):
            return None
        parts = rel.split(os.sep)
        return parts[0] if len(parts) > 1 else "."

    def module(path):
        rel = os.path.relpath(path, tools)
        if rel.startswith("..") or os.sep in rel:
            return None
        return os.path.splitext(rel)[0]

    ok = True
    edges, units = graph(sources(src, (".c", ".h", ".inc")), folder, [src], repo)
    if not units:
        print(f"check-includes: no sources under {src}", file=sys.stderr)
        return 2
    ok &= check("src folders", units, edges)
    ok &= check_op_kinds(repo)
    if os.path.isdir(tools):
        names = sorted(n for n in os.listdir(tools) if n.endswith((".c", ".h")))
        edges, units = graph([os.path.join(tools, n) for n in names], module, [src], repo)
        ok &= check("tools modules", units, edges)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
