"""The embedded default store: one SQLite file, WAL mode, versioned migrations.

All database work happens on one dedicated thread that owns the connection, so
the event loop never blocks on disk and SQLite sees a single writer per process.
Several processes may share the file (CLI commands, a server, a running
workflow); WAL and a busy timeout let them take turns.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from plait.store.base import (
    AttemptFailed,
    AttemptRow,
    AttemptStarted,
    HumanRequest,
    MigrationError,
    RunNotFoundError,
    RunRow,
    RunUpdated,
    StepRow,
    StepSettled,
    StoreError,
    Write,
)
from plait.store.codec import loads

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) for every migration shipped with plait, in order."""
    folder = resources.files("plait.store") / "sql" / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SQLiteStore:
    """Runs in an SQLite file; `synchronous` is NORMAL in WAL (durable across process crashes)."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._fast: sqlite3.Connection | None = None
        """A second connection for the journal's writes, used on the loop's own thread
        with no busy wait: a commit takes tens of microseconds, far less than a hop to
        the worker thread, and a busy database sends the batch to the thread instead."""
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="plait-sqlite")

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        await self._call(self._open)

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {str(self.path)!r}: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._explain(exc) from None
        except MigrationError:
            conn.close()
            raise
        self._conn = conn
        fast = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        fast.execute("PRAGMA busy_timeout = 0")
        fast.execute(f"PRAGMA synchronous = {self.synchronous}")
        fast.execute("PRAGMA foreign_keys = ON")
        self._fast = fast

    def _migrate(self, conn: sqlite3.Connection) -> None:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        known = migrations()
        latest = known[-1][0]
        if current > latest:
            raise MigrationError(
                f"the store {str(self.path)!r} was written by a newer plait (schema version "
                f"{current}; this plait knows up to {latest}): upgrade plait, or use another "
                "store with --store"
            )
        for version, sql in known:
            if version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        if self._fast is not None:
            self._fast.close()
            self._fast = None
        if self._conn is not None:
            await self._call(self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        where = f"the store {str(self.path)!r}"
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{where} is locked by another process (waited "
                f"{BUSY_TIMEOUT_MS / 1000:g}s); try again, or stop that process"
            )
        if "not a database" in text or "malformed" in text:
            return StoreError(
                f"{where} is not a plait database ({text}); point --store at another file"
            )
        if "disk is full" in text or "full" in text:
            return StoreError(
                f"{where} cannot grow: the disk (or database) is full; free "
                "space, then resume the run"
            )
        if "readonly" in text or "unable to open" in text:
            return StoreError(f"{where} cannot be written ({text}); check its permissions")
        return StoreError(f"{where}: {text}")

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("the store is not open: call `await store.open()` first")
        return self._conn

    def _tx(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._db
        conn.execute("BEGIN IMMEDIATE")
        try:
            out = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return out

    # --- runs ------------------------------------------------------------------------

    async def create_run(self, run: RunRow) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO runs (run_id, workflow_id, workflow_name, source, fingerprint, "
                "step_fingerprints, inputs, status, created_at, updated_at, owner, "
                "heartbeat_at, parent_run_id, rerun_from) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run.run_id,
                    run.workflow_id,
                    run.workflow_name,
                    run.source,
                    run.fingerprint,
                    json.dumps(dict(run.step_fingerprints)),
                    _dumps(run.inputs),
                    run.status,
                    run.created_at,
                    run.updated_at,
                    run.owner,
                    run.heartbeat_at,
                    run.parent_run_id,
                    run.rerun_from,
                ),
            )

        await self._call(self._tx, work)

    async def get_run(self, run_id: str) -> RunRow:
        row = await self._call(self._fetchone, "SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if row is None:
            raise RunNotFoundError(f"no run {run_id!r} in {self.url}")
        return _run_row(row)

    async def list_runs(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RunRow]:
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if workflow_id:
            where.append("workflow_id = ?")
            params.append(workflow_id)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?"
        rows = await self._call(self._fetchall, sql, (*params, limit, offset))
        return [_run_row(r) for r in rows]

    async def claim_run(self, run_id: str, *, owner: str, at: float, recovered: bool) -> None:
        def work(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE runs SET owner = ?, heartbeat_at = ?, updated_at = ?, status = 'running',"
                " control = NULL, recoveries = recoveries + ? WHERE run_id = ?",
                (owner, at, at, 1 if recovered else 0, run_id),
            )
            if cur.rowcount == 0:
                raise RunNotFoundError(f"no run {run_id!r} in {self.url}")

        await self._call(self._tx, work)

    async def set_control(self, run_id: str, control: str | None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE runs SET control = ?, updated_at = ? WHERE run_id = ?",
                (control, time.time(), run_id),
            )
            if cur.rowcount == 0:
                raise RunNotFoundError(f"no run {run_id!r} in {self.url}")

        await self._call(self._tx, work)

    async def read_controls(self, run_ids: Sequence[str]) -> dict[str, str | None]:
        if not run_ids:
            return {}
        marks = ",".join("?" * len(run_ids))
        rows = await self._call(
            self._fetchall,
            f"SELECT run_id, control FROM runs WHERE run_id IN ({marks})",
            tuple(run_ids),
        )
        return {r["run_id"]: r["control"] for r in rows}

    async def heartbeat(self, run_ids: Sequence[str], *, owner: str, at: float) -> None:
        if not run_ids:
            return

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND owner = ?",
                [(at, r, owner) for r in run_ids],
            )

        await self._call(self._tx, work)

    # --- steps -----------------------------------------------------------------------

    async def apply(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        fast = self._fast
        if fast is not None and not fast.in_transaction:
            try:
                fast.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                pass  # another writer holds the lock: wait for it on the worker thread
            else:
                try:
                    _apply(fast, writes, self.url)
                    fast.execute("COMMIT")
                    return
                except sqlite3.Error as exc:
                    if fast.in_transaction:
                        fast.execute("ROLLBACK")
                    if not _is_busy(exc):
                        raise self._explain(exc) from exc
                except BaseException:
                    if fast.in_transaction:
                        fast.execute("ROLLBACK")
                    raise
        await self._call(self._tx, lambda conn: _apply(conn, writes, self.url))

    async def get_steps(self, run_id: str) -> list[StepRow]:
        rows = await self._call(
            self._fetchall,
            "SELECT * FROM steps WHERE run_id = ? ORDER BY seq IS NULL, seq, rowid",
            (run_id,),
        )
        return [_step_row(r) for r in rows]

    async def get_attempts(self, run_id: str) -> list[AttemptRow]:
        rows = await self._call(
            self._fetchall,
            "SELECT * FROM attempts WHERE run_id = ? ORDER BY started_at, step_id, attempt",
            (run_id,),
        )
        return [AttemptRow(**dict(r)) for r in rows]

    async def mark_crashed(self, run_id: str, step_ids: Sequence[str]) -> dict[str, int]:
        def work(conn: sqlite3.Connection) -> dict[str, int]:
            counts = {}
            for sid in step_ids:
                conn.execute(
                    "UPDATE steps SET crashes = crashes + 1, status = 'pending' "
                    "WHERE run_id = ? AND step_id = ?",
                    (run_id, sid),
                )
                conn.execute(
                    "UPDATE attempts SET outcome = 'crashed' WHERE run_id = ? AND "
                    "step_id = ? AND outcome = 'running'",
                    (run_id, sid),
                )
                row = conn.execute(
                    "SELECT crashes FROM steps WHERE run_id = ? AND step_id = ?", (run_id, sid)
                ).fetchone()
                if row is not None:
                    counts[sid] = row[0]
            return counts

        return await self._call(self._tx, work)

    async def copy_steps(self, from_run: str, to_run: str, step_ids: Sequence[str]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for sid in step_ids:
                conn.execute(
                    "INSERT OR REPLACE INTO steps (run_id, step_id, status, attempts, result, "
                    "error, error_type, inputs, started_at, finished_at, duration_s, reason) "
                    "SELECT ?, step_id, status, attempts, result, error, error_type, inputs, "
                    "started_at, finished_at, duration_s, 'reused from run ' || ? "
                    "FROM steps WHERE run_id = ? AND step_id = ?",
                    (to_run, from_run, from_run, sid),
                )

        await self._call(self._tx, work)

    async def export(
        self, *, workflow_id: str | None = None, since: float | None = None
    ) -> tuple[list[RunRow], list[StepRow], list[AttemptRow]]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if workflow_id:
            where.append("r.workflow_id = ?")
            params.append(workflow_id)
        if since is not None:
            where.append("r.created_at >= ?")
            params.append(since)
        cond = " AND ".join(where)

        def work() -> tuple[list[sqlite3.Row], list[sqlite3.Row], list[sqlite3.Row]]:
            db = self._db
            return (
                db.execute(f"SELECT * FROM runs r WHERE {cond}", params).fetchall(),
                db.execute(
                    f"SELECT s.* FROM steps s JOIN runs r USING (run_id) WHERE {cond}", params
                ).fetchall(),
                db.execute(
                    f"SELECT a.* FROM attempts a JOIN runs r USING (run_id) WHERE {cond}", params
                ).fetchall(),
            )

        runs, steps, attempts = await self._call(work)
        return (
            [_run_row(r) for r in runs],
            [_step_row(s) for s in steps],
            [AttemptRow(**dict(a)) for a in attempts],
        )

    # --- result cache ----------------------------------------------------------------

    async def cache_get(self, key: str) -> tuple[bool, Any, float]:
        row = await self._call(
            self._fetchone, "SELECT result, created_at, expires_at FROM cache WHERE key = ?", (key,)
        )
        if row is None or (row["expires_at"] is not None and row["expires_at"] < time.time()):
            return False, None, 0.0
        return True, loads(row["result"]), row["created_at"]

    async def cache_put(
        self,
        key: str,
        *,
        workflow_id: str,
        step_id: str,
        result_json: str,
        created_at: float,
        expires_at: float | None,
    ) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO cache (key, workflow_id, step_id, result, created_at, "
                "expires_at) VALUES (?,?,?,?,?,?)",
                (key, workflow_id, step_id, result_json, created_at, expires_at),
            )

        await self._call(self._tx, work)

    async def cache_clear(
        self, *, workflow_id: str | None = None, step_id: str | None = None
    ) -> int:
        def work(conn: sqlite3.Connection) -> int:
            where, params = [], []
            if workflow_id:
                where.append("workflow_id = ?")
                params.append(workflow_id)
            if step_id:
                where.append("step_id = ?")
                params.append(step_id)
            sql = "DELETE FROM cache" + (" WHERE " + " AND ".join(where) if where else "")
            return conn.execute(sql, params).rowcount

        return await self._call(self._tx, work)

    # --- people ----------------------------------------------------------------------

    async def create_human_request(self, request: HumanRequest) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO human_requests (run_id, step_id, prompt, data, assignees, "
                "status, created_at, expires_at, default_outcome) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    request.run_id,
                    request.step_id,
                    request.prompt,
                    _dumps(request.data),
                    json.dumps(list(request.assignees)),
                    request.status,
                    request.created_at,
                    request.expires_at,
                    request.default_outcome,
                ),
            )

        await self._call(self._tx, work)

    async def get_human_request(self, run_id: str, step_id: str) -> HumanRequest | None:
        row = await self._call(
            self._fetchone,
            "SELECT * FROM human_requests WHERE run_id = ? AND step_id = ?",
            (run_id, step_id),
        )
        return _human_request(row) if row is not None else None

    async def answer_human_request(
        self,
        run_id: str,
        step_id: str,
        *,
        status: str,
        answer: Any,
        reason: str | None,
        by: str | None,
        at: float,
    ) -> HumanRequest:
        def work(conn: sqlite3.Connection) -> sqlite3.Row:
            row = conn.execute(
                "SELECT * FROM human_requests WHERE run_id = ? AND step_id = ?", (run_id, step_id)
            ).fetchone()
            if row is None:
                raise StoreError(
                    f"run {run_id!r} has no request for a person at step "
                    f"{step_id!r}; see `plait inbox`"
                )
            if row["status"] != "pending":
                raise StoreError(
                    f"the request of run {run_id!r} at step {step_id!r} was "
                    f"already answered ({row['status']})"
                )
            conn.execute(
                "UPDATE human_requests SET status = ?, answer = ?, reason = ?, answered_by = ?, "
                "answered_at = ? WHERE run_id = ? AND step_id = ?",
                (status, _dumps(answer), reason, by, at, run_id, step_id),
            )
            out: sqlite3.Row = conn.execute(
                "SELECT * FROM human_requests WHERE run_id = ? AND step_id = ?", (run_id, step_id)
            ).fetchone()
            return out

        return _human_request(await self._call(self._tx, work))

    async def list_human_requests(self, *, status: str | None = "pending") -> list[HumanRequest]:
        sql = "SELECT * FROM human_requests"
        params: tuple[Any, ...] = ()
        if status:
            sql += " WHERE status = ?"
            params = (status,)
        rows = await self._call(self._fetchall, sql + " ORDER BY created_at", params)
        return [_human_request(r) for r in rows]

    # --- helpers ---------------------------------------------------------------------

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()
        return row

    def _fetchall(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        return self._db.execute(sql, params).fetchall()


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _dumps(value: Any) -> str:
    from plait.store.codec import lenient_dumps

    return lenient_dumps(value)


def _apply(conn: sqlite3.Connection, writes: Sequence[Write], url: str) -> None:
    # As in the memory store: a write for an unknown run refuses the whole batch.
    run_ids = sorted({w.run_id for w in writes})
    marks = ",".join("?" * len(run_ids))
    found = conn.execute(f"SELECT run_id FROM runs WHERE run_id IN ({marks})", run_ids)
    missing = set(run_ids) - {r[0] for r in found}
    if missing:
        raise RunNotFoundError(f"no run {min(missing)!r} in {url}")
    for w in writes:
        if isinstance(w, AttemptStarted):
            conn.execute(
                "INSERT INTO steps (run_id, step_id, status, attempts, inputs, started_at, agent, "
                "seq) VALUES (?,?,'running',?,?,?,?,?) ON CONFLICT (run_id, step_id) DO UPDATE SET "
                "seq = COALESCE(excluded.seq, steps.seq), "
                "status = 'running', attempts = excluded.attempts, error = NULL, "
                "error_type = NULL, finished_at = NULL, duration_s = NULL, reason = '', "
                "inputs = COALESCE(excluded.inputs, steps.inputs), "
                "started_at = COALESCE(steps.started_at, excluded.started_at), "
                "agent = COALESCE(excluded.agent, steps.agent)",
                (w.run_id, w.step_id, w.attempt, w.inputs_json, w.at, w.agent, w.seq),
            )
            conn.execute(
                "INSERT OR REPLACE INTO attempts (run_id, step_id, attempt, started_at, strategy) "
                "VALUES (?,?,?,?,?)",
                (w.run_id, w.step_id, w.attempt, w.at, w.strategy),
            )
        elif isinstance(w, StepSettled):
            conn.execute(
                "INSERT INTO steps (run_id, step_id, status, attempts, result, error, error_type,"
                " finished_at, duration_s, reason, strategy) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, "
                "attempts = excluded.attempts, result = excluded.result, "
                "error = excluded.error, error_type = excluded.error_type, "
                "finished_at = excluded.finished_at, duration_s = excluded.duration_s, "
                "reason = excluded.reason, strategy = excluded.strategy",
                (
                    w.run_id,
                    w.step_id,
                    w.status,
                    w.attempts,
                    w.result_json,
                    w.error,
                    w.error_type,
                    w.at,
                    w.duration_s,
                    w.reason,
                    w.strategy,
                ),
            )
            if w.attempts:
                conn.execute(
                    "UPDATE attempts SET finished_at = ?, outcome = ?, error = ?, error_type = ? "
                    "WHERE run_id = ? AND step_id = ? AND attempt = ? AND outcome = 'running'",
                    (w.at, w.status, w.error, w.error_type, w.run_id, w.step_id, w.attempts),
                )
        elif isinstance(w, AttemptFailed):
            conn.execute(
                "UPDATE attempts SET finished_at = ?, outcome = 'failed', error = ?, "
                "error_type = ?, retry_delay = ? WHERE run_id = ? AND step_id = ? AND attempt = ?",
                (w.at, w.error, w.error_type, w.delay, w.run_id, w.step_id, w.attempt),
            )
        elif isinstance(w, RunUpdated):
            conn.execute(
                "UPDATE runs SET status = ?, updated_at = ?, error = COALESCE(?, error), "
                "failed_step = COALESCE(?, failed_step), output = COALESCE(?, output), "
                "duration_s = COALESCE(?, duration_s), finished_at = CASE WHEN ? THEN ? "
                "ELSE finished_at END, control = CASE WHEN ? THEN NULL ELSE control END "
                "WHERE run_id = ?",
                (
                    w.status,
                    w.at,
                    w.error,
                    w.failed_step,
                    w.output_json,
                    w.duration_s,
                    w.finished,
                    w.at,
                    w.finished or w.status == "paused",
                    w.run_id,
                ),
            )


def _run_row(r: sqlite3.Row) -> RunRow:
    d = dict(r)
    d["step_fingerprints"] = json.loads(d["step_fingerprints"] or "{}")
    d["inputs"] = loads(d["inputs"]) or {}
    d["output"] = loads(d["output"])
    d["usage"] = loads(d.get("usage"))
    return RunRow(**d)


def _step_row(r: sqlite3.Row) -> StepRow:
    d = dict(r)
    d["result"] = loads(d["result"])
    d["inputs"] = loads(d["inputs"])
    d["usage"] = loads(d.get("usage"))
    return StepRow(**d)


def _human_request(r: sqlite3.Row) -> HumanRequest:
    d = dict(r)
    d["data"] = loads(d["data"])
    d["assignees"] = tuple(json.loads(d["assignees"] or "[]"))
    d["answer"] = loads(d["answer"])
    return HumanRequest(**d)
