"""Positions for drawing a workflow's DAG left to right, by topological level.

Pure and small on purpose: the dashboard draws the result as SVG, so no graph
layout library ships to the browser. A step's column is the length of the longest
path reaching it; within a column, steps are ordered by the mean row of their
predecessors (one barycentre pass), which keeps most edges from crossing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NODE_WIDTH = 180
NODE_HEIGHT = 44
COLUMN_GAP = 70
ROW_GAP = 22
MARGIN = 16


def layout(ids: Sequence[str], preds: Sequence[Sequence[int]]) -> dict[str, Any]:
    """`{"nodes": [{id, level, row, x, y}], "edges": [{source, target}], width, height}`.

    `preds[i]` holds the indexes of the steps step `i` depends on; the graph is
    acyclic (plans are checked for cycles when compiled).
    """
    n = len(ids)
    level = [0] * n
    for i in _topological(preds):
        level[i] = max((level[p] + 1 for p in preds[i]), default=0)
    columns: dict[int, list[int]] = {}
    for i in range(n):
        columns.setdefault(level[i], []).append(i)
    row = [0.0] * n
    for lv in sorted(columns):
        members = columns[lv]
        if lv > 0:
            members.sort(key=lambda i: (_mean([row[p] for p in preds[i]]), i))
        for r, i in enumerate(members):
            row[i] = float(r)
    tallest = max((len(c) for c in columns.values()), default=0)
    height = MARGIN * 2 + tallest * NODE_HEIGHT + max(0, tallest - 1) * ROW_GAP
    nodes = []
    for i in range(n):
        size = len(columns[level[i]])
        # Centre short columns vertically against the tallest one.
        offset = (tallest - size) * (NODE_HEIGHT + ROW_GAP) / 2
        nodes.append(
            {
                "id": ids[i],
                "level": level[i],
                "row": int(row[i]),
                "x": MARGIN + level[i] * (NODE_WIDTH + COLUMN_GAP),
                "y": MARGIN + offset + row[i] * (NODE_HEIGHT + ROW_GAP),
            }
        )
    edges = [{"source": ids[p], "target": ids[i]} for i in range(n) for p in preds[i]]
    levels = (max(level) + 1) if n else 0
    width = MARGIN * 2 + levels * NODE_WIDTH + max(0, levels - 1) * COLUMN_GAP
    return {
        "nodes": nodes,
        "edges": edges,
        "width": width,
        "height": height,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
    }


def _topological(preds: Sequence[Sequence[int]]) -> list[int]:
    n = len(preds)
    succs: list[list[int]] = [[] for _ in range(n)]
    remaining = [len(p) for p in preds]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    ready = [i for i in range(n) if remaining[i] == 0]
    order = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for j in succs[i]:
            remaining[j] -= 1
            if remaining[j] == 0:
                ready.append(j)
    return order


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
