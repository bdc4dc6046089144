"""`plait serve`: an HTTP API, event and cron triggers, and a dashboard over one engine.

Layering: `services` owns the one `WorkflowEngine` (runs execute in this process as
asyncio tasks), the `catalog` of served workflow files, the event log and the cron
scheduler (`plait.triggers`). The `api_*` modules are thin FastAPI routers over
those services; `pages` serves the dashboard, plain HTML and JavaScript that reads
the same JSON API. `app.create_app(config)` assembles it all; `cli.serve` runs it
under uvicorn. Requires the `server` extra (FastAPI, uvicorn, croniter).
"""

from __future__ import annotations

from plait.server.app import create_app
from plait.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
