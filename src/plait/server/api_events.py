"""Events: `POST /events` starts the workflows whose triggers match; stored events are listed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse

from plait.server.auth import require_token, services
from plait.server.schemas import EventIn
from plait.server.services import Services
from plait.triggers import new_event

router = APIRouter(dependencies=[Depends(require_token)], tags=["events"])
ServicesDep = Annotated[Services, Depends(services)]
EVENT_STATUSES = ("received", "handled", "unhandled", "filtered", "failed")


@router.post(
    "/events",
    status_code=202,
    summary="Post an event; it is stored before it is acknowledged",
    responses={200: {"description": "An event with this id was seen before; nothing started"}},
)
async def post_event(body: EventIn, s: ServicesDep) -> JSONResponse:
    event = new_event(
        body.type, body.data, id=body.id, occurred_at=body.occurred_at, now=s.config.clock.time()
    )
    receipt = await s.dispatcher.receive(event)
    record = receipt.record
    payload: dict[str, Any] = {
        "event_id": record.event.id,
        "duplicate": receipt.duplicate,
        "status": record.status,
        "run_ids": list(record.run_ids),
        "errors": list(record.errors),
    }
    if record.status == "unhandled":
        payload["warning"] = f"no handler for event type {record.event.type!r}"
    return JSONResponse(payload, status_code=200 if receipt.duplicate else 202)


@router.get("/api/events", summary="Stored events, newest first")
async def list_events(
    s: ServicesDep,
    type: str | None = None,
    status: Annotated[str | None, Query(description=", ".join(EVENT_STATUSES))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if status is not None and status not in EVENT_STATUSES:
        raise HTTPException(
            422, f"unknown event status {status!r}: use one of {', '.join(EVENT_STATUSES)}"
        )
    records = await s.event_log.list(type=type, status=status, limit=limit + 1, offset=offset)
    more = len(records) > limit
    return {
        "events": [r.as_dict() for r in records[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get("/api/events/{event_id}", summary="One stored event and the runs it started")
async def get_event(event_id: str, s: ServicesDep) -> dict[str, Any]:
    record = await s.event_log.get(event_id)
    if record is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    return record.as_dict()
