"""`plait stream`: run a stream from a file, stdin or its broker; show its windows."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click


def _load(name: str, folder: Path) -> Any:
    from plait.errors import DefinitionError
    from plait.streams.definition import find_stream

    try:
        return find_stream(name, folder)
    except DefinitionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


_store = click.option(
    "--store",
    "store_url",
    envvar="PLAIT_STORE",
    metavar="URL",
    help="Store URL (default: $PLAIT_STORE, else sqlite:///.plait/plait.db).",
)
_streams = click.option(
    "--streams",
    "folder",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder searched for stream files when NAME is not a file.",
)


@click.group()
def stream() -> None:
    """Window event streams and run a workflow per window."""


@stream.command("run")
@click.argument("name")
@click.option(
    "--from",
    "source",
    metavar="FILE",
    help="JSON lines to ingest ('-' for stdin); without it, read the stream's broker.",
)
@click.option("--batch", "batch_size", default=500, show_default=True, type=click.IntRange(1))
@click.option("--no-flush", is_flag=True, help="At the end of the file, leave undue windows open.")
@click.option("--until-idle", is_flag=True, help="Broker: stop once no new entries arrive.")
@click.option("--json", "as_json", is_flag=True, help="Print the totals as JSON.")
@_store
@_streams
def run(
    name: str,
    source: str | None,
    batch_size: int,
    no_flush: bool,
    until_idle: bool,
    as_json: bool,
    store_url: str | None,
    folder: Path,
) -> None:
    """Ingest events into stream NAME (a stream file or a stream name) and run due windows."""
    from plait.streams.sources import feed_file, open_processor

    definition = _load(name, folder)

    async def go() -> Any:
        async with open_processor(definition, store_url) as processor:
            if source is not None:
                return await feed_file(processor, source, batch_size=batch_size, flush=not no_flush)
            if definition.source is None:
                click.echo(
                    f"error: stream {definition.name} declares no source: use --from", err=True
                )
                sys.exit(2)
            from plait.streams.broker import consume

            return await consume(
                processor, definition.source, batch_size=batch_size, until_idle=until_idle
            )

    try:
        totals = asyncio.run(go())
    except KeyboardInterrupt:
        sys.exit(130)
    summary = {"stream": definition.name, **totals.as_dict()}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"{definition.name}: {summary['accepted']} events stored, {summary['duplicates']} "
            f"duplicates, {summary['dropped_late']} too late, {summary['invalid']} invalid; "
            f"{summary['windows_run']} window runs ({summary['failed_windows']} failed)"
        )
    for problem in totals.invalid[:20]:
        click.echo(f"  invalid: {problem}", err=True)
    sys.exit(1 if summary["failed_windows"] else 0)


@stream.command("windows")
@click.argument("name")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per window.")
@_store
@_streams
def windows(name: str, limit: int, as_json: bool, store_url: str | None, folder: Path) -> None:
    """The latest windows of stream NAME with their status and output."""
    from plait.streams.sources import open_processor
    from plait.streams.views import window_view

    definition = _load(name, folder)

    async def go() -> list[dict[str, Any]]:
        async with open_processor(definition, store_url) as p:
            rows = await p.state.windows(p.name, limit=limit, newest_first=True)
            return [window_view(definition, r) for r in reversed(rows)]

    for view in asyncio.run(go()):
        if as_json:
            click.echo(json.dumps(view))
        else:
            click.echo(
                f"{view['start']} .. {view['end']}  key={view['key'] or '-'}  "
                f"events={view['events']}  v{view['version']} {view['status']}"
            )
