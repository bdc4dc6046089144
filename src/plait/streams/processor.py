"""`StreamProcessor`: store events, then run each due window's workflow exactly once per version.

The order of work is what makes a crash harmless:

1. `ingest` stores a batch (deduplicated by event id) in one transaction; a source
   acknowledges its events only after that returns.
2. `fire` snapshots a due window (its events, a new version, the run id) in one
   transaction, runs the workflow under that run id, then records the outcome and
   queues the alerts in another.
3. `recover`, on start, settles windows whose run had begun: a run the store never
   saw fires again under a new version; a finished one is recorded; an interrupted
   one is resumed (finished steps are not repeated).
4. `deliver` sends queued alerts to the sinks and marks each one delivered per sink,
   so an alert is retried until delivered (at least once, with a stable `alert_id`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plait.clock import SYSTEM_CLOCK, Clock
from plait.engine import WorkflowEngine
from plait.errors import PlaitError
from plait.streams import windows as w
from plait.streams.definition import StreamDefinition
from plait.streams.sinks import deliver
from plait.streams.state import Incoming, StreamState, WindowRow

log = logging.getLogger("plait.streams")

WINDOW_INPUTS = ("events", "start", "end", "key", "stream", "history")
"""What a window's workflow may declare as inputs; it gets those it declares."""


class EventError(PlaitError, ValueError):
    """An event cannot be windowed (not an object, no usable time or key)."""


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What `ingest` did with a batch."""

    accepted: int = 0
    duplicates: int = 0
    dropped: int = 0
    invalid: list[str] = field(default_factory=list)
    """Why each invalid event was refused (it is not stored)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dropped_late": self.dropped,
            "invalid": list(self.invalid),
        }


@dataclass(frozen=True, slots=True)
class WindowResult:
    """One window run's outcome."""

    key: str
    start: int
    end: int
    version: int
    run_id: str
    status: str
    output: Any
    error: str | None = None


class StreamProcessor:
    """Windows one stream's events and runs its workflow per due window."""

    def __init__(
        self,
        definition: StreamDefinition,
        *,
        state: StreamState,
        engine: WorkflowEngine,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.definition = definition
        self.state = state
        self.engine = engine
        self.clock = clock
        self._lock = asyncio.Lock()
        declared = definition.workflow.compile().input_specs
        self._inputs = [name for name in WINDOW_INPUTS if name in declared]

    @property
    def name(self) -> str:
        return self.definition.name

    # --- events ----------------------------------------------------------------------

    def prepare(self, event: Any) -> Incoming:
        """Validate one event and read its id, key and time.

        Raises:
            EventError: it is not a JSON object, or its time or key is missing or unusable.
        """
        d = self.definition
        if not isinstance(event, Mapping):
            raise EventError(f"an event is a JSON object, got {type(event).__name__}")
        try:
            data = json.dumps(event, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise EventError(f"the event is not JSON: {exc}") from None
        given = _read(event, d.id_field)
        event_id = str(given) if given not in (None, "") else _content_id(data)
        key = ""
        if d.key_field is not None:
            value = _read(event, d.key_field)
            if value is None:
                raise EventError(f"event {event_id}: no key field {d.key_field!r}")
            key = value if isinstance(value, str) else json.dumps(value)
        at = 0
        if d.window.by_time:
            value = _read(event, d.time_field)
            if value is None:
                raise EventError(f"event {event_id}: no time field {d.time_field!r}")
            try:
                at = w.parse_time(value)
            except ValueError as exc:
                raise EventError(f"event {event_id}: {d.time_field}: {exc}") from None
        return Incoming(event_id, key, at, data)

    async def ingest(self, events: Iterable[Any]) -> IngestReport:
        """Store a batch (in order, deduplicated by id); it is durable when this returns."""
        ready: list[Incoming] = []
        invalid: list[str] = []
        for event in events:
            try:
                ready.append(self.prepare(event))
            except EventError as exc:
                invalid.append(str(exc))
        done = await self.state.ingest(self.name, self.definition.window, ready)
        if done.dropped:
            log.info("stream %s: %d events too late, dropped", self.name, done.dropped)
        return IngestReport(done.accepted, done.duplicates, done.dropped, invalid)

    # --- windows ---------------------------------------------------------------------

    async def recover(self) -> list[WindowResult]:
        """Settle the windows whose run began in a process that died."""
        from plait.store.base import RunNotFoundError
        from plait.types import WorkflowStatus

        results = []
        async with self._lock:
            await self.engine.open()
            for window in await self.state.running(self.name):
                assert window.run_id is not None
                store = self.engine.store
                if store is None:
                    await self.state.reopen(self.name, window.run_id)
                    continue
                try:
                    row = await store.get_run(window.run_id)
                except RunNotFoundError:
                    await self.state.reopen(self.name, window.run_id)
                    continue
                if WorkflowStatus(row.status).is_terminal:
                    summary = {"status": row.status, "output": row.output, "error": row.error}
                    summary["results"] = {}
                else:
                    summary = await self.engine.resume(window.run_id, self.definition.workflow)
                results.append(await self._record(window, summary))
        await self.deliver()
        return results

    async def fire(self, *, flush: bool = False) -> list[WindowResult]:
        """Run the workflow of every due window (every window with new events, on `flush`)."""
        results = []
        async with self._lock:
            for window in await self.state.due(self.name, self.definition.window, flush=flush):
                results.append(await self._run(window))
        if results:
            await self.deliver()
        return results

    async def _run(self, window: WindowRow) -> WindowResult:
        d = self.definition
        snap = await self.state.snapshot(
            self.name,
            d.window,
            window,
            lambda version: run_id_for(self.name, window, version),
            history=d.history,
            now=self.clock.time(),
        )
        fresh = snap.window
        values: dict[str, Any] = {
            "events": snap.events,
            "start": _bound(d.window, fresh.start),
            "end": _bound(d.window, fresh.end),
            "key": fresh.key if d.key_field is not None else None,
            "stream": self.name,
            "history": snap.history,
        }
        inputs = {name: values[name] for name in self._inputs}
        assert fresh.run_id is not None
        summary = await self.engine.execute_workflow(d.workflow, inputs, run_id=fresh.run_id)
        return await self._record(fresh, summary)

    async def _record(self, window: WindowRow, summary: Mapping[str, Any]) -> WindowResult:
        assert window.run_id is not None
        ok = summary["status"] == "completed"
        output = summary.get("output")
        if output is None and ok:
            output = summary.get("results")
        alerts = []
        if ok and isinstance(output, Mapping) and isinstance(output.get("alerts"), list):
            for alert in output["alerts"]:
                text = json.dumps([self.name, window.key, window.start, window.end, alert])
                alerts.append((hashlib.sha256(text.encode()).hexdigest()[:24], alert))
        status = "succeeded" if ok else "failed"
        error = None if ok else str(summary.get("error") or summary["status"])
        if not ok:
            log.warning("stream %s: window run %s %s", self.name, window.run_id, error)
        await self.state.finish(
            self.name,
            window.run_id,
            status=status,
            output=output if ok else None,
            error=error,
            alerts=alerts,
            sinks=[s.kind if s.url is None else f"{s.kind}:{s.url}" for s in self.definition.sinks],
            now=self.clock.time(),
        )
        return WindowResult(
            window.key,
            window.start,
            window.end,
            window.version,
            window.run_id,
            status,
            output if ok else None,
            error,
        )

    async def deliver(self) -> int:
        """Send queued alerts to their sinks; an alert a sink refused stays queued."""
        sent = 0
        for alert_id, data, pending in await self.state.pending_alerts(self.name):
            for sink in pending:
                if await deliver(sink, {"alert_id": alert_id, "stream": self.name, "alert": data}):
                    await self.state.delivered(alert_id, sink)
                    sent += 1
        return sent


def run_id_for(stream: str, window: WindowRow, version: int) -> str:
    """A stable, readable run id per window version: the same window never reruns a version."""
    key = hashlib.sha256(window.key.encode()).hexdigest()[:8] if window.key else "all"
    return f"stream-{stream}-{window.start}-{window.end}-{key}-v{version}"


def _bound(policy: w.WindowPolicy, value: int) -> Any:
    return w.format_time(value) if policy.by_time else value


def _content_id(data: str) -> str:
    return "sha256-" + hashlib.sha256(data.encode()).hexdigest()[:32]


def _read(event: Mapping[str, Any], path: str) -> Any:
    """A dotted field path (`data.host`) of an event, or None."""
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
