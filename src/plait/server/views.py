"""The JSON shapes of the API: plain dicts built from definitions and stored rows.

Kept apart from the routes so the shapes are defined once and read as a schema:
a run, its steps (each with its attempts), a request for a person, a workflow.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from plait.definition import WorkflowDefinition
from plait.server.layout import layout
from plait.store.base import AttemptRow, HumanRequest, RunRow, StepRow
from plait.types import WorkflowStatus


def run_view(
    row: RunRow, *, active: bool = False, server_error: str | None = None
) -> dict[str, Any]:
    data = dataclasses.asdict(row)
    data.pop("step_fingerprints", None)
    data["terminal"] = WorkflowStatus(row.status).is_terminal
    data["active"] = active  # driven by a task of this server right now
    data["server_error"] = server_error
    return data


def step_views(
    steps: Iterable[StepRow], attempts: Iterable[AttemptRow], order: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every step of a run, in plan order, with its attempts; unstarted steps are `pending`."""
    by_step: dict[str, list[dict[str, Any]]] = {}
    for a in attempts:
        item = dataclasses.asdict(a)
        del item["run_id"], item["step_id"]
        by_step.setdefault(a.step_id, []).append(item)
    stored = {s.step_id: s for s in steps}
    ids = list(order) + [s for s in stored if s not in order]
    views = []
    for sid in ids:
        row = stored.get(sid)
        item = dataclasses.asdict(row) if row else {"step_id": sid, "status": "pending"}
        item.pop("run_id", None)
        item["attempt_history"] = sorted(by_step.get(sid, []), key=lambda a: a["attempt"])
        views.append(item)
    return views


def request_view(request: HumanRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    data["assignees"] = list(request.assignees)
    return data


def workflow_summary(definition: WorkflowDefinition) -> dict[str, Any]:
    return {
        "workflow_id": definition.workflow_id,
        "name": definition.name,
        "description": definition.description,
        "source": definition.source,
        "steps": len(definition.steps),
        "inputs": input_views(definition),
        "triggers": trigger_views(definition),
    }


def input_views(definition: WorkflowDefinition) -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "type": spec.type,
            "default": spec.default,
            "required": spec.required,
            "description": spec.description,
        }
        for spec in definition.inputs.values()
    ]


def trigger_views(definition: WorkflowDefinition) -> list[dict[str, Any]]:
    return [
        {"event": t.event, "cron": t.cron, "filter": t.filter, "inputs": dict(t.inputs)}
        for t in definition.triggers
    ]


def workflow_detail(definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition with its steps, edges and a layout for drawing the graph."""
    plan = definition.compile()
    steps = []
    for i, sid in enumerate(plan.ids):
        step = definition.step(sid)
        steps.append(
            {
                "step_id": plan.ids[i],
                "kind": step.kind,
                "agent": step.agent_label,
                "action": step.action if isinstance(step.action, str) else _name(step.action),
                "description": step.description,
                "dependencies": [plan.ids[p] for p in plan.preds[i]],
                "condition": step.condition if isinstance(step.condition, str) else None,
                "trigger_rule": str(step.trigger_rule),
                "retry_count": step.retry_count,
                "timeout_seconds": step.timeout_seconds,
            }
        )
    return {
        **workflow_summary(definition),
        "steps": steps,
        "edges": [
            {"source": plan.ids[p], "target": plan.ids[i]}
            for i in range(len(plan.ids))
            for p in plan.preds[i]
        ],
        "graph": layout(plan.ids, plan.preds),
    }


def _name(action: Any) -> str | None:
    if action is None:
        return None
    return f"{getattr(action, '__module__', '?')}:{getattr(action, '__qualname__', repr(action))}"


def call_graph(run: RunRow, rows: Sequence[StepRow]) -> dict[str, Any] | None:
    """The graph of the step calls a code-first run made, for drawing it like a declared one.

    Calls are ordered by their sequence number; a call that started before the previous
    one finished ran beside it (an `asyncio.gather`), so the calls fall into groups and
    each group follows the one before.
    """
    calls = sorted((r for r in rows if r.seq is not None), key=lambda r: r.seq or 0)
    if not calls:
        return None
    groups: list[list[StepRow]] = []
    for row in calls:
        current = groups[-1] if groups else None
        if current is not None and _overlaps(current, row):
            current.append(row)
        else:
            groups.append([row])
    ids = [r.step_id for r in calls]
    index = {sid: k for k, sid in enumerate(ids)}
    preds: list[list[int]] = [[] for _ in ids]
    for before, after in itertools.pairwise(groups):
        for row in after:
            preds[index[row.step_id]] = [index[b.step_id] for b in before]
    return {
        "workflow_id": run.workflow_id,
        "name": run.workflow_name or run.workflow_id,
        "description": "the step calls this code-first run made",
        "source": run.source,
        "inputs": [],
        "triggers": [],
        "steps": [
            {
                "step_id": sid,
                "kind": "task",
                "agent": calls[k].agent,
                "action": None,
                "description": "",
                "dependencies": [ids[p] for p in preds[k]],
                "condition": None,
                "trigger_rule": "all_success",
                "retry_count": None,
                "timeout_seconds": None,
            }
            for k, sid in enumerate(ids)
        ],
        "edges": [{"source": ids[p], "target": ids[k]} for k in range(len(ids)) for p in preds[k]],
        "graph": layout(ids, preds),
    }


def _overlaps(group: Sequence[StepRow], row: StepRow) -> bool:
    started = row.started_at
    if started is None:
        return False
    return any(g.finished_at is None or g.finished_at > started for g in group)
