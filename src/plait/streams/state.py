"""Stream state in SQLite: events, windows, the watermark and the alert outbox.

The tables live in the store's file beside the runs, created here on open
(`CREATE TABLE IF NOT EXISTS`, like the trigger event log). Each call is one
transaction on a single worker thread, so an ingested batch (its events, the windows
they join and the new watermark) is stored entirely or not at all, and a window's
snapshot for its run is consistent with its event count. That is what makes
processing exact across crashes: events are deduplicated by id on insert, and a
window records the run id it fired before the run starts.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, final

from plait.store.sqlite_thread import ThreadedConnection
from plait.streams import windows as w

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS plait_stream_events (
    stream   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    ordinal  INTEGER,
    mark     INTEGER NOT NULL,
    dropped  INTEGER NOT NULL DEFAULT 0,
    data     TEXT NOT NULL,
    PRIMARY KEY (stream, event_id)
);
CREATE INDEX IF NOT EXISTS plait_stream_events_by_time ON plait_stream_events (stream, key, at);
CREATE TABLE IF NOT EXISTS plait_stream_windows (
    stream     TEXT NOT NULL,
    key        TEXT NOT NULL,
    start      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL,
    events     INTEGER NOT NULL DEFAULT 0,
    fired      INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'open',
    run_id     TEXT,
    run_events INTEGER,
    output     TEXT,
    error      TEXT,
    updated_at REAL,
    PRIMARY KEY (stream, key, start, "end")
);
CREATE INDEX IF NOT EXISTS plait_stream_windows_by_run ON plait_stream_windows (run_id);
CREATE TABLE IF NOT EXISTS plait_stream_state (
    stream     TEXT PRIMARY KEY,
    max_at     INTEGER,
    seq        INTEGER NOT NULL DEFAULT 0,
    dropped    INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS plait_stream_alerts (
    alert_id   TEXT PRIMARY KEY,
    stream     TEXT NOT NULL,
    key        TEXT NOT NULL,
    start      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL,
    data       TEXT NOT NULL,
    created_at REAL NOT NULL,
    pending    TEXT NOT NULL,
    delivered  TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS plait_stream_alerts_by_stream
    ON plait_stream_alerts (stream, created_at);
"""


@dataclass(frozen=True, slots=True)
class Incoming:
    """An event ready to store: its id, key, time (ms; 0 for count windows) and JSON text."""

    event_id: str
    key: str
    at: int
    data: str


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one batch did."""

    accepted: int = 0
    duplicates: int = 0
    dropped: int = 0
    """Too late: every window the event belongs to was already closed."""


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One window as stored; `output` is the latest run's output."""

    stream: str
    key: str
    start: int
    end: int
    events: int
    fired: int
    version: int
    status: str
    """open (never run), running, succeeded or failed."""
    run_id: str | None
    run_events: int | None
    output: Any
    error: str | None
    updated_at: float | None

    @property
    def span(self) -> w.Span:
        return w.Span(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a window's run gets: its events as of the snapshot, and earlier outputs."""

    window: WindowRow
    events: list[Any]
    history: list[Any]


_WINDOW_COLUMNS = (
    'stream, key, start, "end", events, fired, version, status, run_id, run_events, '
    "output, error, updated_at"
)


def _window(row: Sequence[Any]) -> WindowRow:
    values = list(row)
    values[10] = json.loads(values[10]) if values[10] is not None else None
    return WindowRow(*values)


@final
class StreamState:
    """The stream tables of one SQLite file (`:memory:` for a throwaway one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._side = ThreadedConnection(path, what="the stream tables", busy_timeout_s=10.0)
        self._call = self._side.call
        self._ordinals: dict[tuple[str, str], int] = {}

    async def open(self) -> None:
        rows = await self._side.open(self._setup)
        self._ordinals = {(s, k): int(n) + 1 for s, k, n in rows}

    @staticmethod
    def _setup(conn: sqlite3.Connection) -> list[Any]:
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SCHEMA)
        rows: list[Any] = conn.execute(
            "SELECT stream, key, MAX(ordinal) FROM plait_stream_events "
            "WHERE ordinal IS NOT NULL GROUP BY stream, key"
        ).fetchall()
        return rows

    async def close(self) -> None:
        await self._side.close()

    def _db(self) -> sqlite3.Connection:
        return self._side.db

    # --- ingest ----------------------------------------------------------------------

    async def ingest(
        self, stream: str, policy: w.WindowPolicy, batch: Sequence[Incoming]
    ) -> Ingested:
        """Store a batch in order, in one transaction; duplicates (by id) change nothing."""
        return await self._call(self._ingest, stream, policy, batch)

    def _ingest(self, stream: str, policy: w.WindowPolicy, batch: Sequence[Incoming]) -> Ingested:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT max_at, seq FROM plait_stream_state WHERE stream = ?", (stream,)
            ).fetchone()
            max_at: int | None = row[0] if row else None
            seq: int = row[1] if row else 0
            accepted = duplicates = dropped = 0
            joined: dict[tuple[str, int, int], int] = defaultdict(int)
            ordinals: dict[tuple[str, str], int] = {}
            for event in batch:
                mark = w.watermark(max_at, policy.lateness)
                ordinal: int | None = None
                if policy.kind == "count":
                    ordinal = ordinals.get(
                        (stream, event.key), self._ordinals.get((stream, event.key), 0)
                    )
                    spans = w.assign(policy, event.at, ordinal)
                else:
                    spans = [s for s in w.assign(policy, event.at) if w.is_open(s, mark)]
                cur = db.execute(
                    "INSERT OR IGNORE INTO plait_stream_events (stream, event_id, key, at, seq, "
                    "ordinal, mark, dropped, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        stream,
                        event.event_id,
                        event.key,
                        event.at,
                        seq,
                        ordinal,
                        mark,
                        0 if spans else 1,
                        event.data,
                    ),
                )
                if cur.rowcount != 1:
                    duplicates += 1
                    continue
                seq += 1
                if policy.kind != "count":
                    max_at = event.at if max_at is None else max(max_at, event.at)
                if not spans:
                    dropped += 1
                    continue
                accepted += 1
                if ordinal is not None:
                    ordinals[(stream, event.key)] = ordinal + 1
                for span in spans:
                    joined[(event.key, span.start, span.end)] += 1
            db.executemany(
                'INSERT INTO plait_stream_windows (stream, key, start, "end", events) '
                'VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream, key, start, "end") '
                "DO UPDATE SET events = events + excluded.events",
                [(stream, k, s, e, n) for (k, s, e), n in joined.items()],
            )
            db.execute(
                "INSERT INTO plait_stream_state (stream, max_at, seq, dropped, duplicates) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET max_at = "
                "excluded.max_at, seq = excluded.seq, dropped = dropped + excluded.dropped, "
                "duplicates = duplicates + excluded.duplicates",
                (stream, max_at, seq, dropped, duplicates),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._ordinals.update(ordinals)
        return Ingested(accepted, duplicates, dropped)

    # --- windows ---------------------------------------------------------------------

    async def max_at(self, stream: str) -> int | None:
        def work() -> int | None:
            row = (
                self._db()
                .execute("SELECT max_at FROM plait_stream_state WHERE stream = ?", (stream,))
                .fetchone()
            )
            return row[0] if row else None

        return await self._call(work)

    async def due(self, stream: str, policy: w.WindowPolicy, *, flush: bool) -> list[WindowRow]:
        """Windows with events their last run did not see that are due (or all, on flush)."""

        def work() -> list[WindowRow]:
            db = self._db()
            row = db.execute(
                "SELECT max_at FROM plait_stream_state WHERE stream = ?", (stream,)
            ).fetchone()
            max_at = row[0] if row else None
            rows = db.execute(
                f"SELECT {_WINDOW_COLUMNS} FROM plait_stream_windows WHERE stream = ? "
                "AND events > fired AND status != 'running' ORDER BY start, \"end\", key",
                (stream,),
            ).fetchall()
            found = [_window(r) for r in rows]
            return [x for x in found if flush or w.is_due(policy, x.span, max_at, x.events)]

        return await self._call(work)

    async def running(self, stream: str) -> list[WindowRow]:
        """Windows whose run started but whose outcome is not recorded (after a crash)."""

        def work() -> list[WindowRow]:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_WINDOW_COLUMNS} FROM plait_stream_windows "
                    "WHERE stream = ? AND status = 'running' ORDER BY start, key",
                    (stream,),
                )
                .fetchall()
            )
            return [_window(r) for r in rows]

        return await self._call(work)

    async def snapshot(
        self,
        stream: str,
        policy: w.WindowPolicy,
        window: WindowRow,
        run_id: Callable[[int], str],
        *,
        history: int,
        now: float,
    ) -> Snapshot:
        """Mark the window running under a new version's run id and read what its run gets."""

        def work() -> Snapshot:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                current = db.execute(
                    f"SELECT {_WINDOW_COLUMNS} FROM plait_stream_windows WHERE stream = ? "
                    'AND key = ? AND start = ? AND "end" = ?',
                    (stream, window.key, window.start, window.end),
                ).fetchone()
                row = _window(current)
                version = row.version + 1
                rid = run_id(version)
                db.execute(
                    "UPDATE plait_stream_windows SET fired = events, version = ?, "
                    "status = 'running', run_id = ?, updated_at = ? WHERE stream = ? AND "
                    'key = ? AND start = ? AND "end" = ?',
                    (version, rid, now, stream, row.key, row.start, row.end),
                )
                events = self._members(stream, policy, row)
                past = db.execute(
                    "SELECT output FROM plait_stream_windows WHERE stream = ? AND key = ? AND "
                    "start < ? AND output IS NOT NULL ORDER BY start DESC LIMIT ?",
                    (stream, row.key, row.start, history),
                ).fetchall()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            fresh = WindowRow(
                row.stream,
                row.key,
                row.start,
                row.end,
                row.events,
                row.events,
                version,
                "running",
                rid,
                row.run_events,
                row.output,
                row.error,
                now,
            )
            return Snapshot(fresh, events, [json.loads(p[0]) for p in reversed(past)])

        return await self._call(work)

    def _members(self, stream: str, policy: w.WindowPolicy, row: WindowRow) -> list[Any]:
        if policy.kind == "count":
            sql = (
                "SELECT data FROM plait_stream_events WHERE stream = ? AND key = ? AND "
                "ordinal >= ? AND ordinal < ? ORDER BY ordinal"
            )
            params: tuple[Any, ...] = (stream, row.key, row.start, row.end)
        else:
            # An event joined the window iff it arrived while the window was open.
            sql = (
                "SELECT data FROM plait_stream_events WHERE stream = ? AND key = ? AND "
                "at >= ? AND at < ? AND mark < ? AND dropped = 0 ORDER BY at, seq"
            )
            params = (stream, row.key, row.start, row.end, row.end)
        return [json.loads(d) for (d,) in self._db().execute(sql, params).fetchall()]

    async def events_of(self, stream: str, policy: w.WindowPolicy, window: WindowRow) -> list[Any]:
        return await self._call(self._members, stream, policy, window)

    async def reopen(self, stream: str, run_id: str) -> None:
        """Forget a run that never started, so the window fires again under a new version."""

        def work() -> None:
            self._db().execute(
                "UPDATE plait_stream_windows SET status = CASE WHEN output IS NULL "
                "THEN 'open' ELSE 'succeeded' END, fired = COALESCE(run_events, 0) "
                "WHERE stream = ? AND run_id = ?",
                (stream, run_id),
            )

        await self._call(work)

    async def finish(
        self,
        stream: str,
        run_id: str,
        *,
        status: str,
        output: Any,
        error: str | None,
        alerts: Sequence[tuple[str, Any]],
        sinks: Sequence[str],
        now: float,
    ) -> None:
        """Record a run's outcome and queue its alerts (id, data) for every sink, atomically."""

        def work() -> None:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    'SELECT key, start, "end", fired FROM plait_stream_windows '
                    "WHERE stream = ? AND run_id = ?",
                    (stream, run_id),
                ).fetchone()
                if row is None:
                    db.execute("COMMIT")
                    return
                key, start, end, fired = row
                if status == "succeeded":
                    db.execute(
                        "UPDATE plait_stream_windows SET status = ?, output = ?, error = NULL, "
                        "run_events = ?, updated_at = ? WHERE stream = ? AND run_id = ?",
                        (status, json.dumps(output), fired, now, stream, run_id),
                    )
                else:
                    db.execute(
                        "UPDATE plait_stream_windows SET status = ?, error = ?, "
                        "run_events = ?, updated_at = ? WHERE stream = ? AND run_id = ?",
                        (status, error, fired, now, stream, run_id),
                    )
                db.executemany(
                    "INSERT OR IGNORE INTO plait_stream_alerts (alert_id, stream, key, start, "
                    '"end", data, created_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                    [
                        (aid, stream, key, start, end, json.dumps(data), now, json.dumps(sinks))
                        for aid, data in alerts
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

        await self._call(work)

    # --- reading ---------------------------------------------------------------------

    async def windows(
        self, stream: str, *, limit: int = 1000, newest_first: bool = False
    ) -> list[WindowRow]:
        order = "DESC" if newest_first else "ASC"

        def work() -> list[WindowRow]:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_WINDOW_COLUMNS} FROM plait_stream_windows WHERE stream = ? "
                    f'ORDER BY start {order}, "end" {order}, key LIMIT ?',
                    (stream, limit),
                )
                .fetchall()
            )
            return [_window(r) for r in rows]

        return await self._call(work)

    async def stats(self, stream: str) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            db = self._db()
            row = db.execute(
                "SELECT max_at, seq, dropped, duplicates FROM plait_stream_state WHERE stream = ?",
                (stream,),
            ).fetchone()
            max_at, seq, dropped, duplicates = row if row else (None, 0, 0, 0)
            by_status = dict(
                db.execute(
                    "SELECT status, COUNT(*) FROM plait_stream_windows WHERE stream = ? "
                    "GROUP BY status",
                    (stream,),
                ).fetchall()
            )
            return {
                "events": seq - dropped,
                "dropped_late": dropped,
                "duplicates": duplicates,
                "max_event_time": w.format_time(max_at) if max_at is not None else None,
                "windows": by_status,
            }

        return await self._call(work)

    async def pending_alerts(self, stream: str) -> list[tuple[str, Any, list[str]]]:
        def work() -> list[tuple[str, Any, list[str]]]:
            rows = (
                self._db()
                .execute(
                    "SELECT alert_id, data, pending FROM plait_stream_alerts WHERE stream = ? "
                    "AND pending != '[]' ORDER BY created_at, alert_id",
                    (stream,),
                )
                .fetchall()
            )
            return [(a, json.loads(d), json.loads(p)) for a, d, p in rows]

        return await self._call(work)

    async def delivered(self, alert_id: str, sink: str) -> None:
        def work() -> None:
            db = self._db()
            pending, done = db.execute(
                "SELECT pending, delivered FROM plait_stream_alerts WHERE alert_id = ?",
                (alert_id,),
            ).fetchone()
            left = [s for s in json.loads(pending) if s != sink]
            db.execute(
                "UPDATE plait_stream_alerts SET pending = ?, delivered = ? WHERE alert_id = ?",
                (json.dumps(left), json.dumps([*json.loads(done), sink]), alert_id),
            )

        await self._call(work)

    async def alerts(self, stream: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            sql = (
                'SELECT alert_id, stream, key, start, "end", data, created_at, delivered '
                "FROM plait_stream_alerts"
            )
            params: tuple[Any, ...] = ()
            if stream is not None:
                sql += " WHERE stream = ?"
                params = (stream,)
            sql += " ORDER BY created_at DESC, alert_id LIMIT ?"
            rows = self._db().execute(sql, (*params, limit)).fetchall()
            return [
                {
                    "alert_id": a,
                    "stream": s,
                    "key": k,
                    "start": st,
                    "end": e,
                    "alert": json.loads(d),
                    "created_at": c,
                    "delivered": json.loads(dv),
                }
                for a, s, k, st, e, d, c, dv in rows
            ]

        return await self._call(work)
