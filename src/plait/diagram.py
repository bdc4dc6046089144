"""A plan's graph as Mermaid or Graphviz DOT text, for docs and `plait graph`."""

from __future__ import annotations

import json

from plait.graph import Plan


def to_mermaid(plan: Plan) -> str:
    lines = ["flowchart LR"]
    for i, sid in enumerate(plan.ids):
        step = plan.steps[i].step
        label = sid if step.condition is None else f"{sid} ?"
        lines.append(f'    {sid}["{label}"]')
    for j, preds in enumerate(plan.preds):
        for i in preds:
            lines.append(f"    {plan.ids[i]} --> {plan.ids[j]}")
    return "\n".join(lines)


def to_dot(plan: Plan) -> str:
    name = json.dumps(plan.definition.workflow_id)
    lines = [f"digraph {name} {{", "    rankdir=LR;", "    node [shape=box];"]
    for i, sid in enumerate(plan.ids):
        style = ", style=dashed" if plan.steps[i].step.condition is not None else ""
        lines.append(f"    {json.dumps(sid)} [label={json.dumps(sid)}{style}];")
    for j, preds in enumerate(plan.preds):
        for i in preds:
            lines.append(f"    {json.dumps(plan.ids[i])} -> {json.dumps(plan.ids[j])};")
    lines.append("}")
    return "\n".join(lines)
