"""Compiled workflows by source and fingerprint: a worker compiles each workflow once."""

from __future__ import annotations

import dataclasses

from plait.definition import WorkflowDefinition
from plait.errors import PlaitError
from plait.graph import Plan
from plait.store.base import RunRow


class WorkflowChangedError(PlaitError):
    """The run's workflow file no longer matches the run (or is not a declared graph)."""


class PlanCache:
    """`(source, fingerprint) -> Plan`; a changed file is refused, never mixed into a run."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, str], Plan] = {}

    def plan_for(self, run: RunRow) -> Plan:
        key = (run.source or "", run.fingerprint)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = unlimited(load_plan(run))
        return plan


def load_plan(run: RunRow) -> Plan:
    from plait.fingerprint import fingerprints
    from plait.loader import load_target

    if not run.source:
        raise WorkflowChangedError(
            f"run {run.run_id} has no workflow file to load; only runs of files can go to a fleet"
        )
    loaded = load_target(run.source)
    if not isinstance(loaded, WorkflowDefinition):
        raise WorkflowChangedError(
            f"{run.source} is a code-first workflow; a fleet runs declared (YAML/JSON) graphs"
        )
    whole, _ = fingerprints(loaded)
    if run.fingerprint and whole != run.fingerprint:
        raise WorkflowChangedError(
            f"the workflow {run.source} changed since run {run.run_id} was enqueued; "
            f"start a new run (plait rerun {run.run_id} --from STEP reuses what is valid)"
        )
    return loaded.compile()


def unlimited(plan: Plan) -> Plan:
    """The plan without per-run limits: in a fleet they hold fleet-wide, at claim time."""
    return dataclasses.replace(plan, max_concurrency=None, agent_limits={})
