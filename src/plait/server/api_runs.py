"""Runs: list, read (steps, attempts, requests, graph), pause, resume, cancel; the inbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query

from plait.definition import WorkflowDefinition
from plait.server import views
from plait.server.auth import require_token, services
from plait.server.schemas import Approve, Reject
from plait.server.services import Services
from plait.store.base import RunRow
from plait.types import WorkflowStatus

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)], tags=["runs"])
ServicesDep = Annotated[Services, Depends(services)]
STATUSES = tuple(s.value for s in WorkflowStatus)


@router.get("/runs", summary="List runs, newest first")
async def list_runs(
    s: ServicesDep,
    status: Annotated[str | None, Query(description=f"one of {', '.join(STATUSES)}")] = None,
    workflow_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise HTTPException(422, f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    rows = await s.store.list_runs(
        status=status, workflow_id=workflow_id, limit=limit + 1, offset=offset
    )
    more = len(rows) > limit
    return {
        "runs": [_run(s, r) for r in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get("/runs/{run_id}", summary="A run with its steps, attempts, requests and graph")
async def get_run(run_id: str, s: ServicesDep) -> dict[str, Any]:
    row = await s.store.get_run(run_id)
    definition = _definition_of(s, row)
    rows = await s.store.get_steps(run_id)
    detail = views.workflow_detail(definition) if definition is not None else None
    if detail is None:  # a code-first run: draw the calls it made
        detail = views.call_graph(row, rows)
    order = [st["step_id"] for st in detail["steps"]] if detail else []
    steps = views.step_views(rows, await s.store.get_attempts(run_id), order)
    requests = []
    for step in steps:
        if step["status"] in ("waiting", "running") or step.get("kind") == "approval":
            found = await s.store.get_human_request(run_id, step["step_id"])
            if found is not None:
                requests.append(views.request_view(found))
    return {
        "run": _run(s, row),
        "steps": steps,
        "requests": requests,
        "workflow": detail,
    }


@router.get("/runs/{run_id}/steps", summary="A run's steps with inputs, results, errors, attempts")
async def get_steps(run_id: str, s: ServicesDep) -> dict[str, Any]:
    row = await s.store.get_run(run_id)
    definition = _definition_of(s, row)
    order = list(definition.compile().ids) if definition is not None else []
    steps = views.step_views(
        await s.store.get_steps(run_id), await s.store.get_attempts(run_id), order
    )
    return {"run_id": run_id, "steps": steps}


@router.post("/runs/{run_id}/pause", status_code=202, summary="Pause: running steps finish")
async def pause_run(run_id: str, s: ServicesDep) -> dict[str, Any]:
    await s.store.get_run(run_id)  # 404 for an unknown run
    return {"run_id": run_id, "message": await s.runs.control(run_id, "pause")}


@router.post("/runs/{run_id}/cancel", status_code=202, summary="Cancel in-flight steps")
async def cancel_run(run_id: str, s: ServicesDep) -> dict[str, Any]:
    await s.store.get_run(run_id)
    return {"run_id": run_id, "message": await s.runs.control(run_id, "cancel")}


@router.post("/runs/{run_id}/resume", status_code=202, summary="Continue a paused run")
async def resume_run(run_id: str, s: ServicesDep) -> dict[str, Any]:
    return {"run_id": run_id, "message": await s.runs.resume(run_id)}


@router.get("/inbox", summary="Requests waiting for a person")
async def inbox(s: ServicesDep) -> dict[str, Any]:
    pending = await s.store.list_human_requests(status="pending")
    return {"requests": [views.request_view(r) for r in pending]}


@router.post("/runs/{run_id}/steps/{step_id}/approve", summary="Answer a request with yes")
async def approve(
    run_id: str, step_id: str, s: ServicesDep, body: Annotated[Approve | None, Body()] = None
) -> dict[str, Any]:
    answer = body or Approve()
    await _pending_request(s, run_id, step_id)
    await s.engine.approve(run_id, step_id, answer.data, by=answer.by, reason=answer.reason)
    return {"run_id": run_id, "step_id": step_id, "status": "approved"}


@router.post("/runs/{run_id}/steps/{step_id}/reject", summary="Answer a request with no")
async def reject(run_id: str, step_id: str, body: Reject, s: ServicesDep) -> dict[str, Any]:
    await _pending_request(s, run_id, step_id)
    await s.engine.reject(run_id, step_id, body.reason, by=body.by)
    return {"run_id": run_id, "step_id": step_id, "status": "rejected"}


async def _pending_request(s: Services, run_id: str, step_id: str) -> None:
    await s.store.get_run(run_id)
    request = await s.store.get_human_request(run_id, step_id)
    if request is None:
        raise HTTPException(404, f"run {run_id} has no request for a person at step {step_id!r}")
    if request.status != "pending":
        raise HTTPException(
            409, f"the request of run {run_id} at step {step_id!r} was already {request.status}"
        )


def _run(s: Services, row: RunRow) -> dict[str, Any]:
    return views.run_view(
        row, active=s.runs.is_active(row.run_id), server_error=s.runs.failure(row.run_id)
    )


def _definition_of(s: Services, row: RunRow) -> WorkflowDefinition | None:
    return s.catalog.definition_for(row.workflow_id, row.source)
