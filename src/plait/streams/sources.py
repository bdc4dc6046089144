"""Sources that feed a processor: JSON lines from a file or stdin, and the driver loop.

A source hands the processor a batch, waits until it is stored, and only then
moves on (a broker acknowledges at that point), runs the due windows, and repeats.
A finite source (a file, for backfills and tests) ends with a flush: every window
with events its last run did not see runs once more, due or not.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from plait.engine import WorkflowEngine
from plait.streams.definition import StreamDefinition
from plait.streams.processor import StreamProcessor, WindowResult
from plait.streams.state import StreamState

DEFAULT_BATCH = 500


@dataclass
class Totals:
    """What a source run did, added up over its batches."""

    accepted: int = 0
    duplicates: int = 0
    dropped: int = 0
    invalid: list[str] = field(default_factory=list)
    windows: list[WindowResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dropped_late": self.dropped,
            "invalid": len(self.invalid),
            "windows_run": len(self.windows),
            "failed_windows": sum(1 for r in self.windows if r.status != "succeeded"),
        }


def json_lines(handle: IO[str], invalid: list[str]) -> Iterator[Any]:
    """Parsed lines of `handle`; blank lines are skipped, unreadable ones noted in `invalid`."""
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            invalid.append(f"line {number}: not JSON: {exc}")


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def feed(
    processor: StreamProcessor,
    events: Iterable[Any],
    *,
    batch_size: int = DEFAULT_BATCH,
    flush: bool = True,
    totals: Totals | None = None,
) -> Totals:
    """Ingest `events` batch by batch, running due windows after each; flush at the end."""
    totals = totals or Totals()
    totals.windows.extend(await processor.recover())
    for batch in batches(events, batch_size):
        report = await processor.ingest(batch)
        totals.accepted += report.accepted
        totals.duplicates += report.duplicates
        totals.dropped += report.dropped
        totals.invalid.extend(report.invalid)
        totals.windows.extend(await processor.fire())
    if flush:
        totals.windows.extend(await processor.fire(flush=True))
    return totals


async def feed_file(
    processor: StreamProcessor,
    path: str | Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    flush: bool = True,
) -> Totals:
    """Feed a JSON-lines file (`-` for stdin) to the processor."""
    import sys

    totals = Totals()
    if str(path) == "-":
        return await feed(
            processor,
            json_lines(sys.stdin, totals.invalid),
            batch_size=batch_size,
            flush=flush,
            totals=totals,
        )
    with Path(path).open(encoding="utf-8") as handle:
        return await feed(
            processor,
            json_lines(handle, totals.invalid),
            batch_size=batch_size,
            flush=flush,
            totals=totals,
        )


def state_path(engine: WorkflowEngine) -> str:
    """The SQLite file the engine's store uses, else a throwaway in-memory database."""
    path = getattr(engine.store, "path", None)
    return str(path) if path is not None else ":memory:"


@asynccontextmanager
async def open_processor(
    definition: StreamDefinition,
    store_url: str | None = None,
    *,
    engine: WorkflowEngine | None = None,
) -> AsyncIterator[StreamProcessor]:
    """A processor on the store at `store_url` (or on `engine`'s store), closed on exit."""
    from plait.store.base import default_store_url

    own = engine is None
    engine = engine or WorkflowEngine(store=store_url or default_store_url())
    await engine.open()
    state = StreamState(state_path(engine))
    try:
        await state.open()
        yield StreamProcessor(definition, state=state, engine=engine, clock=engine.clock)
    finally:
        await state.close()
        if own:
            await engine.aclose()
