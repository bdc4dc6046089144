"""A definition's fingerprint, so a resumed run never mixes results of two different workflows."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from plait.definition import WorkflowDefinition, WorkflowStep


def _callable_name(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    module = getattr(value, "__module__", "")
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"{module}:{name}"


def step_fingerprint(step: WorkflowStep) -> str:
    """Hash of what decides a step's behaviour: action, inputs, dependencies, policies."""
    shape = {
        "action": _callable_name(step.action),
        "inputs": step.inputs,
        "dependencies": sorted(step.dependencies or ()),
        "condition": _callable_name(step.condition),
        "trigger_rule": str(step.trigger_rule),
        "retry_count": step.retry_count,
        "timeout_seconds": step.timeout_seconds,
        "kind": getattr(step, "kind", "task"),
    }
    text = json.dumps(shape, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprints(definition: WorkflowDefinition) -> tuple[str, dict[str, str]]:
    """(workflow fingerprint, step id -> step fingerprint)."""
    steps = {s.step_id: step_fingerprint(s) for s in definition.steps}
    whole = json.dumps(
        {"workflow_id": definition.workflow_id, "steps": steps, "output": definition.output},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(whole.encode()).hexdigest()[:16], steps


def changed_steps(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Step ids added, removed or changed between two step-fingerprint maps."""
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
