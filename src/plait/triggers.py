"""Event and cron triggers: what turns an incoming event or a clock tick into run starts.

A workflow declares `triggers:` (`definition.Trigger`); `compile_triggers` checks
them once (cron syntax, filter names, `{{ event... }}` references), the way a plan
compiles its steps. Then:

- `EventDispatcher.receive(event)` persists the event in an `EventLog` *before*
  anything acts on it, refuses an id it has seen (returning the original runs),
  starts one run per matching trigger, and records what happened, including "no
  handler" (the guide's warning) so unhandled events are counted, not lost.
- `CronScheduler` fires `cron:` triggers from an injected `Clock`. The last fire
  time of each trigger is stored, so after downtime a missed schedule fires once,
  not once per missed tick.

Filters use the same safe language as step conditions (simpleeval; no `eval`),
over the names `type`, `data` and `id`. Input mappings use the same path syntax
as step references, rooted at `event` (`{{ event.data.customer_id }}`, or
`{{ event }}` for the whole event). Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, final

from plait import expressions
from plait.clock import Clock
from plait.definition import Trigger, WorkflowDefinition
from plait.errors import DefinitionError, ExpressionError, Location, PlaitError, Problem
from plait.store.sqlite_thread import ThreadedConnection

log = logging.getLogger("plait.triggers")

T = TypeVar("T")

EVENT_ROOT = "event"
EVENT_FIELDS = ("id", "type", "occurred_at", "data")
"""What `{{ event.FIELD }}` may read; `{{ event }}` is the whole event as a mapping."""
FILTER_NAMES = frozenset({"type", "data", "id"})
"""The names a trigger's `filter` may use."""

EventStatus = Literal["received", "handled", "unhandled", "filtered", "failed"]
"""received: stored, not yet routed (a crash in between is picked up by `recover`);
handled: at least one run started; unhandled: no workflow has a trigger for its type;
filtered: triggers exist but every filter said no; failed: a matching trigger could
not start its run (bad inputs), and none started."""


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, as posted to `POST /events`."""

    type: str
    data: Any
    id: str
    """The sender's id; an event whose id was seen before is not processed again."""
    occurred_at: str
    """ISO 8601 time the sender gives, else the time it was received (UTC)."""
    received_at: float

    def as_mapping(self) -> dict[str, Any]:
        """The event as workflows see it (`{{ event }}`): the guide's `{id, type, data}`."""
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }


def new_event(
    type: str,
    data: Any = None,
    *,
    id: str | None = None,
    occurred_at: str | None = None,
    now: float,
) -> Event:
    """An event with an id (a random one when the sender gave none) and times filled in."""
    when = occurred_at or datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    return Event(type, data, id or f"evt-{uuid.uuid4().hex}", when, now)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event as stored, with what it started."""

    event: Event
    status: EventStatus = "received"
    run_ids: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.event.as_mapping(),
            "received_at": self.event.received_at,
            "status": self.status,
            "run_ids": list(self.run_ids),
            "errors": list(self.errors),
        }


# --- compiling triggers ---------------------------------------------------------------

Resolver = Callable[[Mapping[str, Any]], Any]
"""Reads a value from the event mapping."""


@final
@dataclass(frozen=True, eq=False)
class CompiledTrigger:
    """One checked trigger of one workflow, ready to match events or fire on schedule."""

    workflow: WorkflowDefinition
    index: int
    trigger: Trigger
    matches: Callable[[Mapping[str, Any]], bool]
    """Whether the filter accepts the event (True without a filter); may raise ExpressionError."""
    build_inputs: Callable[[Mapping[str, Any]], dict[str, Any]]
    """The run inputs for an event; may raise ExpressionError."""

    @property
    def workflow_id(self) -> str:
        return self.workflow.workflow_id

    @property
    def key(self) -> str:
        """Names the trigger in stored state; a changed schedule is a new trigger."""
        what = self.trigger.cron if self.trigger.cron is not None else f"event {self.trigger.event}"
        return f"{self.workflow_id}#{self.index}:{what}"


def compile_triggers(workflow: WorkflowDefinition) -> list[CompiledTrigger]:
    """Check and compile every trigger of `workflow`.

    Raises:
        DefinitionError: every problem (bad cron, unknown filter names, bad references),
            each located at `triggers[k]`.
    """
    problems: list[Problem] = []
    compiled = []
    for k, trigger in enumerate(workflow.triggers):
        where = Location(workflow.source, None, f"triggers[{k}]")
        before = len(problems)
        if trigger.cron is not None:
            problem = cron_problem(trigger.cron)
            if problem:
                problems.append(Problem(problem, Location(where.file, None, f"{where.field}.cron")))
        matches = _compile_filter(trigger.filter, where, problems)
        build = _compile_inputs(trigger.inputs, where, problems)
        if len(problems) == before:
            compiled.append(CompiledTrigger(workflow, k, trigger, matches, build))
    if problems:
        raise DefinitionError(problems)
    return compiled


def cron_problem(expression: str) -> str | None:
    """What is wrong with a five-field cron expression, or None."""
    from croniter import croniter

    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return (
            f"invalid cron schedule {expression!r}: use five fields, minute hour "
            "day-of-month month day-of-week, e.g. '*/5 * * * *' (every five minutes, UTC)"
        )
    return None


def _compile_filter(
    text: str | None, where: Location, problems: list[Problem]
) -> Callable[[Mapping[str, Any]], bool]:
    if text is None or not text.strip():
        return lambda event: True
    field_at = Location(where.file, None, f"{where.field}.filter")
    try:
        expression = expressions.unwrap_condition(text)
        unknown = sorted(expressions.condition_names(expression) - FILTER_NAMES)
        if unknown:
            raise ExpressionError(
                f"unknown name{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
                "a trigger filter reads type, data and id",
                expression=expression,
            )
        # The very evaluator step conditions use: same language, same limits.
        evaluator = expressions._ConditionEvaluator(functions=dict(expressions.SAFE_FUNCTIONS))
        parsed = evaluator.parse(expression)
    except ExpressionError as exc:
        problems.append(Problem(str(exc), field_at))
        return lambda event: False

    def matches(event: Mapping[str, Any]) -> bool:
        import simpleeval

        evaluator.names = {name: event.get(name) for name in FILTER_NAMES}
        try:
            return bool(evaluator.eval(expression, previously_parsed=parsed))
        except ExpressionError:
            raise
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(str(exc), expression=expression) from None
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise ExpressionError(f"{type(exc).__name__}: {exc}", expression=expression) from None

    return matches


def parse_event_reference(text: str) -> tuple[str | int, ...]:
    """The path of `event...` inside `{{ }}`: `()` for the whole event.

    The path grammar is the one of step references (`.field`, `[0]`, `['key']`).
    """
    stripped = text.strip()
    rest = stripped[len(EVENT_ROOT) :]
    if not stripped.startswith(EVENT_ROOT) or (rest and rest.lstrip()[:1] not in (".", "[")):
        raise ExpressionError(
            "a trigger's inputs read the event: {{ event }}, {{ event.data.FIELD }}, "
            "{{ event.id }}, {{ event.type }} or {{ event.occurred_at }}",
            expression=text,
        )
    if not rest.strip():
        return ()
    try:
        # `inputs` is a root whose paths may start with any field: borrow its parser.
        ref = expressions.parse_reference(expressions.INPUTS_ROOT + rest)
    except ExpressionError:
        raise ExpressionError(
            "cannot read this reference: write event.data.FIELD, event.data.items[0] or "
            "event.data['key']",
            expression=text,
        ) from None
    if ref.attribute not in EVENT_FIELDS:
        raise ExpressionError(
            f"an event has no field {ref.attribute!r}; it has {', '.join(EVENT_FIELDS)}",
            expression=text,
        )
    return (ref.attribute, *ref.path)


def _reader(text: str) -> Resolver:
    path = parse_event_reference(text)

    def read(event: Mapping[str, Any]) -> Any:
        value: Any = event
        for key in path:
            if value is None:
                return None  # as step references: reading into nothing gives nothing
            try:
                if isinstance(key, str) and not isinstance(value, Mapping):
                    raise KeyError(key)
                value = value[key]
            except (KeyError, IndexError, TypeError):
                raise ExpressionError(f"the event has no {key!r} here", expression=text) from None
        return value

    return read


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _compile_value(value: Any) -> Resolver:
    if isinstance(value, str) and "{{" in value:
        found = list(expressions.TEMPLATE.finditer(value))
        if len(found) == 1 and found[0].span() == (0, len(value)):
            return _reader(found[0].group(1))  # the native value, not its text
        parts: list[str | Resolver] = []
        last = 0
        for m in found:
            parts.append(value[last : m.start()])
            parts.append(_reader(m.group(1)))
            last = m.end()
        parts.append(value[last:])
        return lambda event: "".join(p if isinstance(p, str) else _as_text(p(event)) for p in parts)
    if isinstance(value, Mapping):
        items = [(k, _compile_value(v)) for k, v in value.items()]
        return lambda event: {k: r(event) for k, r in items}
    if isinstance(value, list | tuple):
        readers = [_compile_value(v) for v in value]
        return lambda event: [r(event) for r in readers]
    return lambda event: value


def _compile_inputs(
    inputs: Mapping[str, Any], where: Location, problems: list[Problem]
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    readers: dict[str, Resolver] = {}
    for name, value in inputs.items():
        try:
            readers[name] = _compile_value(value)
        except ExpressionError as exc:
            problems.append(
                Problem(str(exc), Location(where.file, None, f"{where.field}.inputs.{name}"))
            )
    return lambda event: {name: read(event) for name, read in readers.items()}


# --- the event log --------------------------------------------------------------------


class EventLog(Protocol):
    """Durable record of events and of when each cron trigger last fired."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    async def add(self, event: Event) -> EventRecord | None:
        """Store a new event; if its id is known, store nothing and return the earlier record."""
        ...

    async def settle(
        self, event_id: str, status: EventStatus, run_ids: Sequence[str], errors: Sequence[str]
    ) -> None: ...
    async def get(self, event_id: str) -> EventRecord | None: ...
    async def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[EventRecord]: ...
    async def counts(self) -> dict[str, dict[str, int]]:
        """Events per type, then per status."""
        ...

    async def last_fired(self, key: str) -> float | None: ...
    async def set_last_fired(self, key: str, at: float) -> None: ...


@final
class MemoryEventLog:
    """Events in a dict: for `memory://` stores and tests."""

    def __init__(self) -> None:
        self._records: dict[str, EventRecord] = {}
        self._fired: dict[str, float] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def add(self, event: Event) -> EventRecord | None:
        earlier = self._records.get(event.id)
        if earlier is not None:
            return earlier
        self._records[event.id] = EventRecord(event)
        return None

    async def settle(
        self, event_id: str, status: EventStatus, run_ids: Sequence[str], errors: Sequence[str]
    ) -> None:
        record = self._records[event_id]
        self._records[event_id] = replace(
            record, status=status, run_ids=tuple(run_ids), errors=tuple(errors)
        )

    async def get(self, event_id: str) -> EventRecord | None:
        return self._records.get(event_id)

    async def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[EventRecord]:
        chosen = [
            r
            for r in self._records.values()
            if (type is None or r.event.type == type) and (status is None or r.status == status)
        ]
        chosen.sort(key=lambda r: (-r.event.received_at, r.event.id))
        return chosen[offset : offset + limit]

    async def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for r in self._records.values():
            per_type = counts.setdefault(r.event.type, {})
            per_type[r.status] = per_type.get(r.status, 0) + 1
        return counts

    async def last_fired(self, key: str) -> float | None:
        return self._fired.get(key)

    async def set_last_fired(self, key: str, at: float) -> None:
        self._fired[key] = at


SCHEMA = """
CREATE TABLE IF NOT EXISTS plait_events (
    event_id    TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    received_at REAL NOT NULL,
    status      TEXT NOT NULL DEFAULT 'received',
    run_ids     TEXT NOT NULL DEFAULT '[]',
    errors      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS plait_events_by_type ON plait_events (type, received_at);
CREATE INDEX IF NOT EXISTS plait_events_by_status ON plait_events (status, received_at);
CREATE TABLE IF NOT EXISTS plait_trigger_fires (
    trigger_key   TEXT PRIMARY KEY,
    last_fired_at REAL NOT NULL
);
"""
"""Created on open (idempotent), beside the store's own tables in the same file."""


@final
class SQLiteEventLog:
    """Events in the store's SQLite file, through a connection of its own.

    Like `SQLiteStore`, one worker thread owns the connection so the event loop
    never waits on the disk. The tables are created here (`SCHEMA`) until the
    store's migrations include them.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._side = ThreadedConnection(self.path, what="the event log")
        self._call = self._side.call

    async def open(self) -> None:
        await self._side.open(lambda conn: conn.executescript(SCHEMA))

    async def close(self) -> None:
        await self._side.close()

    def _db(self) -> sqlite3.Connection:
        return self._side.db

    async def add(self, event: Event) -> EventRecord | None:
        def work() -> EventRecord | None:
            cur = self._db().execute(
                "INSERT OR IGNORE INTO plait_events (event_id, type, data, occurred_at, "
                "received_at) VALUES (?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.type,
                    json.dumps(event.data),
                    event.occurred_at,
                    event.received_at,
                ),
            )
            if cur.rowcount == 1:
                return None
            return self._get(event.id)

        return await self._call(work)

    async def settle(
        self, event_id: str, status: EventStatus, run_ids: Sequence[str], errors: Sequence[str]
    ) -> None:
        def work() -> None:
            self._db().execute(
                "UPDATE plait_events SET status = ?, run_ids = ?, errors = ? WHERE event_id = ?",
                (status, json.dumps(list(run_ids)), json.dumps(list(errors)), event_id),
            )

        await self._call(work)

    def _get(self, event_id: str) -> EventRecord | None:
        row = (
            self._db()
            .execute(f"SELECT {_COLUMNS} FROM plait_events WHERE event_id = ?", (event_id,))
            .fetchone()
        )
        return _record(row) if row else None

    async def get(self, event_id: str) -> EventRecord | None:
        return await self._call(self._get, event_id)

    async def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[EventRecord]:
        where, params = [], []
        if type is not None:
            where.append("type = ?")
            params.append(type)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_COLUMNS} FROM plait_events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY received_at DESC, event_id LIMIT ? OFFSET ?"

        def work() -> list[EventRecord]:
            rows = self._db().execute(sql, (*params, limit, offset)).fetchall()
            return [_record(r) for r in rows]

        return await self._call(work)

    async def counts(self) -> dict[str, dict[str, int]]:
        def work() -> dict[str, dict[str, int]]:
            rows = (
                self._db()
                .execute("SELECT type, status, COUNT(*) FROM plait_events GROUP BY type, status")
                .fetchall()
            )
            counts: dict[str, dict[str, int]] = {}
            for kind, status, n in rows:
                counts.setdefault(kind, {})[status] = n
            return counts

        return await self._call(work)

    async def last_fired(self, key: str) -> float | None:
        def work() -> float | None:
            row = (
                self._db()
                .execute(
                    "SELECT last_fired_at FROM plait_trigger_fires WHERE trigger_key = ?", (key,)
                )
                .fetchone()
            )
            return float(row[0]) if row else None

        return await self._call(work)

    async def set_last_fired(self, key: str, at: float) -> None:
        def work() -> None:
            self._db().execute(
                "INSERT INTO plait_trigger_fires (trigger_key, last_fired_at) VALUES (?, ?) "
                "ON CONFLICT (trigger_key) DO UPDATE SET last_fired_at = excluded.last_fired_at",
                (key, at),
            )

        await self._call(work)


_COLUMNS = "event_id, type, data, occurred_at, received_at, status, run_ids, errors"


def _record(row: Any) -> EventRecord:
    event_id, kind, data, occurred_at, received_at, status, run_ids, errors = row
    return EventRecord(
        Event(kind, json.loads(data), event_id, occurred_at, received_at),
        status,
        tuple(json.loads(run_ids)),
        tuple(json.loads(errors)),
    )


def open_event_log(store: Any) -> EventLog:
    """The event log that goes with `store`: in its SQLite file, else in memory."""
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        return SQLiteEventLog(path)
    return MemoryEventLog()


# --- dispatching events ---------------------------------------------------------------

StartRun = Callable[[WorkflowDefinition, dict[str, Any]], Awaitable[str]]
"""Starts a run of the workflow with these inputs and returns its id once it is stored."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What `receive` did with an event."""

    record: EventRecord
    duplicate: bool = False


@dataclass
class EventDispatcher:
    """Persists each event, then starts a run for every trigger that matches it.

    Events are taken one at a time, so a duplicate posted while the original is
    still being routed is recognised and answered with the original's runs.
    """

    log: EventLog
    triggers: Callable[[], Iterable[CompiledTrigger]]
    """The event triggers of the workflows being served (looked up per event: reloads apply)."""
    start: StartRun
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def receive(self, event: Event) -> Receipt:
        async with self._lock:
            earlier = await self.log.add(event)
            if earlier is not None:
                return Receipt(earlier, duplicate=True)
            return Receipt(await self._route(EventRecord(event)))

    async def recover(self) -> int:
        """Route events that were stored but never routed (the process died in between)."""
        count = 0
        async with self._lock:
            while pending := await self.log.list(status="received", limit=100):
                for record in pending:
                    await self._route(record)
                    count += 1
        return count

    async def _route(self, record: EventRecord) -> EventRecord:
        event = record.event
        view = event.as_mapping()
        candidates = [t for t in self.triggers() if t.trigger.event == event.type]
        run_ids: list[str] = []
        errors: list[str] = []
        for trigger in candidates:
            try:
                if not trigger.matches(view):
                    continue
                inputs = trigger.build_inputs(view)
                run_ids.append(await self.start(trigger.workflow, inputs))
            except (PlaitError, ValueError, TypeError) as exc:
                # One bad trigger (or bad event for it) must not stop the others.
                errors.append(f"{trigger.workflow_id}: {exc}")
        status: EventStatus
        if run_ids:
            status = "handled"
        elif errors:
            status = "failed"
        elif candidates:
            status = "filtered"
        else:
            status = "unhandled"
            log.warning("no handler for event type %r (event %s)", event.type, event.id)
        await self.log.settle(event.id, status, run_ids, errors)
        return EventRecord(event, status, tuple(run_ids), tuple(errors))


# --- cron -----------------------------------------------------------------------------


def next_fire(expression: str, after: float) -> float:
    """The first time strictly after `after` (epoch seconds) that the schedule names."""
    from croniter import croniter

    return float(croniter(expression, after).get_next(float))


def latest_fire(expression: str, at_or_before: float) -> float:
    """The last time at or before `at_or_before` that the schedule names."""
    from croniter import croniter

    return float(croniter(expression, at_or_before + 1e-3).get_prev(float))


@dataclass
class CronScheduler:
    """Fires `cron:` triggers on time, as told by `clock`; call `run()` as a task.

    A trigger seen for the first time starts its schedule then (it does not fire
    for ticks before it existed). A trigger whose ticks were missed while nothing
    ran fires once for the latest missed tick.
    """

    log: EventLog
    triggers: Callable[[], Iterable[CompiledTrigger]]
    start: StartRun
    clock: Clock
    max_sleep: float = 60.0
    """Wake at least this often (seconds), so reloaded workflows' schedules apply."""
    on_error: Callable[[CompiledTrigger, BaseException], None] = field(
        default=lambda trigger, exc: log.error("cron trigger %s failed: %s", trigger.key, exc)
    )

    async def tick(self) -> float:
        """Fire every trigger that is due; return the seconds until the next one is.

        With no cron triggers, that is `max_sleep` (new ones may be loaded meanwhile).
        """
        now = self.clock.time()
        soonest = float("inf")
        for trigger in self.triggers():
            expression = trigger.trigger.cron
            if expression is None:
                continue
            last = await self.log.last_fired(trigger.key)
            if last is None:
                await self.log.set_last_fired(trigger.key, now)
                last = now
            due = next_fire(expression, last)
            if due <= now:
                fired_for = latest_fire(expression, now)
                # Recorded first: a crash right after loses one tick, never repeats it.
                await self.log.set_last_fired(trigger.key, fired_for)
                await self._fire(trigger, fired_for)
                due = next_fire(expression, fired_for)
            soonest = min(soonest, due)
        return self.max_sleep if soonest == float("inf") else max(0.0, soonest - now)

    async def _fire(self, trigger: CompiledTrigger, at: float) -> None:
        stamp = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
        tick = {
            "id": f"cron:{trigger.key}:{stamp}",
            "type": "cron",
            "occurred_at": stamp,
            "data": {"scheduled_at": stamp, "cron": trigger.trigger.cron},
        }
        try:
            await self.start(trigger.workflow, trigger.build_inputs(tick))
        except (PlaitError, ValueError, TypeError) as exc:
            self.on_error(trigger, exc)

    async def run(self) -> None:
        """Tick forever; a failing store is retried at the next wake-up."""
        while True:
            try:
                delay = await self.tick()
            except PlaitError as exc:
                log.error("cron scheduler: %s", exc)
                delay = self.max_sleep
            # Sleep in slices no longer than max_sleep so new schedules are noticed.
            await self.clock.sleep(min(delay, self.max_sleep))
