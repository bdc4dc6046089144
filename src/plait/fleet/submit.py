"""Enqueue a run for the fleet (`plait run --detach`): no step runs in this process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from plait.definition import WorkflowDefinition
from plait.engine import FLEET_OWNER
from plait.fleet import queue
from plait.fleet.plans import WorkflowChangedError, unlimited
from plait.fleet.progress import advance
from plait.store.base import RunRow
from plait.store.postgres import PostgresStore


async def submit(
    store: PostgresStore,
    definition: WorkflowDefinition,
    inputs: Mapping[str, Any],
    *,
    run_id: str | None = None,
) -> str:
    """Create the run and queue its first steps; returns the run id.

    Workers load the workflow from `definition.source`, so it must be a file path
    they can read (the same path on every machine, e.g. a shared checkout).
    """
    from plait.fingerprint import fingerprints

    if not definition.source:
        raise WorkflowChangedError(
            "only workflows loaded from a file can run on a fleet (workers load the file)"
        )
    plan = definition.compile()
    whole, per_step = fingerprints(definition)
    now = time.time()
    run = RunRow(
        run_id=run_id or uuid.uuid4().hex[:12],
        workflow_id=definition.workflow_id,
        status="running",
        created_at=now,
        updated_at=now,
        workflow_name=definition.name,
        source=definition.source,
        fingerprint=whole,
        step_fingerprints=per_step,
        inputs=dict(inputs),
        owner=FLEET_OWNER,
    )
    first = advance(unlimited(plan), run, {}, now)
    await queue.enqueue_run(store, run, plan, first.ready)
    return run.run_id
