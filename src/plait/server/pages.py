"""The dashboard: one HTML page and its script and styles, shipped in the package.

Every dashboard path returns the same page; its script reads the path and draws
the view from the JSON API (runs, a run's graph, inbox, health, workflows,
events), polling once a second for live state. The page holds no data, so it is
served without the token; the script asks for the token once when the API
answers 401 and keeps it in sessionStorage. No file is fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PAGES = (
    "/",
    "/runs/{run_id}",
    "/inbox",
    "/health",
    "/workflows",
    "/workflows/{workflow_id}",
    "/events",
)
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def install(app: FastAPI) -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")

    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=HEADERS)

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
