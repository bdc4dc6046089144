"""`StreamHub`: the streams a server offers, each with its processor, fired in the background.

`plait serve` finds stream files under its workflows folder. An HTTP batch is stored
before the request is answered; the due windows then run in one background task per
stream, so a slow workflow never holds a client's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from plait.engine import WorkflowEngine
from plait.errors import DefinitionError
from plait.streams.definition import StreamDefinition, load_stream, stream_files
from plait.streams.processor import StreamProcessor
from plait.streams.sources import state_path
from plait.streams.state import StreamState

log = logging.getLogger("plait.streams")


class StreamHub:
    """Processors for the stream files under `folder`, sharing the server's engine."""

    def __init__(self, engine: WorkflowEngine, folder: Path | None) -> None:
        self.engine = engine
        self.folder = folder
        self.problems: dict[str, str] = {}
        self._definitions: dict[str, StreamDefinition] | None = None
        self._state: StreamState | None = None
        self._processors: dict[str, StreamProcessor] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()

    def definitions(self) -> dict[str, StreamDefinition]:
        if self._definitions is None:
            found: dict[str, StreamDefinition] = {}
            for path in stream_files(self.folder) if self.folder else []:
                try:
                    definition = load_stream(path)
                except DefinitionError as exc:
                    self.problems[str(path)] = str(exc)
                    continue
                found.setdefault(definition.name, definition)
            self._definitions = found
        return self._definitions

    async def processor(self, name: str) -> StreamProcessor | None:
        definition = self.definitions().get(name)
        if definition is None:
            return None
        if name not in self._processors:
            state = await self.state()
            processor = StreamProcessor(
                definition, state=state, engine=self.engine, clock=self.engine.clock
            )
            self._processors[name] = processor
            await processor.recover()
        return self._processors[name]

    async def state(self) -> StreamState:
        if self._state is None:
            await self.engine.open()
            state = StreamState(state_path(self.engine))
            await state.open()
            self._state = state
        return self._state

    def kick(self, name: str) -> None:
        """Run the stream's due windows soon (once more if a run is already going)."""
        self._dirty.add(name)
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.get_running_loop().create_task(
                self._fire(name), name=f"plait-stream-{name}"
            )

    async def _fire(self, name: str) -> None:
        processor = self._processors[name]
        while name in self._dirty:
            self._dirty.discard(name)
            try:
                await processor.fire()
            except Exception:
                log.exception("stream %s: running its windows failed", name)

    async def idle(self) -> None:
        """Wait until no background window runs are going (tests, shutdown)."""
        while any(not t.done() for t in self._tasks.values()):
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._state is not None:
            await self._state.close()
            self._state = None
