"""`create_app(config)`: the ASGI application of `plait serve`.

One FastAPI app per server. Its lifespan opens the services (engine, store,
served workflows, event log, cron task) and closes them on shutdown. OpenAPI is
at `/openapi.json`; the interactive docs pages are off, since they would load
scripts from a CDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from plait.server import (
    api_events,
    api_monitoring,
    api_runs,
    api_streams,
    api_workflows,
    pages,
    problems,
)
from plait.server.config import ServerConfig
from plait.server.middleware import RequestGuard
from plait.server.services import Services


def create_app(config: ServerConfig) -> FastAPI:
    """The app; nothing is opened until the ASGI server runs its lifespan."""
    from plait import __version__

    services = Services(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.open()
        try:
            yield
        finally:
            await services.aclose()

    app = FastAPI(
        title="plait",
        version=__version__,
        description="Start and watch workflow runs, answer requests for people, post events.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    problems.install(app)
    app.include_router(api_monitoring.router)
    app.include_router(api_workflows.router)
    app.include_router(api_runs.router)
    app.include_router(api_events.router)
    app.include_router(api_streams.router)
    pages.install(app)
    app.add_middleware(
        RequestGuard,
        max_body_bytes=config.max_body_bytes,
        loopback_only=config.token is None,
    )
    return app
