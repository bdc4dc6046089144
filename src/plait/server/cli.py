"""`plait serve`: run the API, triggers and dashboard under uvicorn.

Without `PLAIT_API_TOKEN` the server binds to loopback only, since anyone who can
reach it could start runs; with a token, every API call must carry it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from plait.server.middleware import is_loopback_host


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--store",
    "store_url",
    default=None,
    help="Store URL (default: $PLAIT_STORE, else sqlite:///.plait/plait.db).",
)
@click.option(
    "--workflows",
    "workflows_dir",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder searched recursively for *.yaml, *.yml and *.json workflows.",
)
@click.option("--reload", is_flag=True, help="Serve workflow files again when they change.")
@click.option(
    "--detach",
    is_flag=True,
    help="Enqueue runs for `plait worker`s instead of running them here (postgresql:// store).",
)
def serve(
    host: str, port: int, store_url: str | None, workflows_dir: Path, reload: bool, detach: bool
) -> None:
    """Serve the HTTP API, event and cron triggers, and the dashboard."""
    import uvicorn

    from plait.server.app import create_app
    from plait.server.config import ServerConfig
    from plait.store.base import default_store_url

    token = os.environ.get("PLAIT_API_TOKEN") or None
    if token is None and not is_loopback_host(host):
        click.echo(
            f"error: refusing to listen on {host} without PLAIT_API_TOKEN: anyone who can "
            "reach this port could run workflows. Set PLAIT_API_TOKEN to a long random "
            "secret, or keep the default --host 127.0.0.1.",
            err=True,
        )
        sys.exit(2)
    url = store_url or default_store_url()
    if detach and not url.startswith(("postgresql:", "postgres:")):
        click.echo(
            f"error: --detach needs a postgresql:// store that workers share, not {url}", err=True
        )
        sys.exit(2)
    config = ServerConfig(
        store_url=url,
        workflows_dir=workflows_dir.resolve(),
        reload=reload,
        token=token,
        detach=detach,
    )
    shown = f"[{host}]" if ":" in host else host
    if token is None:
        click.echo("no PLAIT_API_TOKEN set: listening on loopback only", err=True)
    else:
        click.echo("PLAIT_API_TOKEN set: API calls need Authorization: Bearer <token>", err=True)
    click.echo(
        f"plait dashboard: http://{shown}:{port}/  (workflows from {workflows_dir})", err=True
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", proxy_headers=False)
