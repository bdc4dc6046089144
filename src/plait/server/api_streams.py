"""Streams on `plait serve`: post events to a stream, read its windows and alerts, a page.

`POST /streams/NAME/events` takes one event (a JSON object) or a batch (a list); they
are stored before the answer, and the due windows run in the background.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from plait.server.auth import require_token, services
from plait.server.pages import HEADERS, STATIC
from plait.streams.hub import StreamHub
from plait.streams.views import stream_view, window_view


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    s = app.state.services
    hub = StreamHub(s.engine, s.config.workflows_dir)
    app.state.streams = hub
    try:
        yield
    finally:
        await hub.aclose()


router = APIRouter(tags=["streams"], lifespan=_lifespan)
guarded = [Depends(require_token)]


def hub_of(request: Request) -> StreamHub:
    found: StreamHub = request.app.state.streams
    return found


HubDep = Annotated[StreamHub, Depends(hub_of)]


@router.post(
    "/streams/{name}/events",
    status_code=202,
    dependencies=guarded,
    summary="Post one event or a batch to a stream; stored before it is acknowledged",
)
async def post_events(name: str, request: Request, hub: HubDep) -> JSONResponse:
    processor = await hub.processor(name)
    if processor is None:
        raise HTTPException(404, f"no stream named {name!r}")
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "the body is not JSON: send an event object or a list") from None
    batch = body if isinstance(body, list) else [body]
    report = await processor.ingest(batch)
    hub.kick(name)
    return JSONResponse({"stream": name, **report.as_dict()}, status_code=202)


@router.get("/api/streams", dependencies=guarded, summary="Streams with recent windows")
async def list_streams(
    hub: HubDep, windows: Annotated[int, Query(ge=0, le=200)] = 10
) -> dict[str, Any]:
    out = []
    for name, definition in sorted(hub.definitions().items()):
        state = await hub.state()
        rows = await state.windows(name, limit=windows, newest_first=True)
        out.append(
            {
                **stream_view(definition),
                "stats": await state.stats(name),
                "windows": [window_view(definition, r) for r in rows],
            }
        )
    return {"streams": out, "problems": hub.problems}


@router.get("/api/streams/alerts", dependencies=guarded, summary="Recent alerts of all streams")
async def list_alerts(
    hub: HubDep, stream: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    state = await hub.state()
    return {"alerts": await state.alerts(stream, limit=limit)}


@router.get("/api/streams/{name}/windows", dependencies=guarded, summary="A stream's windows")
async def list_windows(
    name: str, hub: HubDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    definition = hub.definitions().get(name)
    if definition is None:
        raise HTTPException(404, f"no stream named {name!r}")
    state = await hub.state()
    rows = await state.windows(name, limit=limit, newest_first=True)
    return {"stream": name, "windows": [window_view(definition, r) for r in rows]}


@router.get("/streams", include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse((STATIC / "streams.html").read_text(encoding="utf-8"), headers=HEADERS)


__all__ = ["router", "services"]
