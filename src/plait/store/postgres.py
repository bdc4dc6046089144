"""The shared store: PostgreSQL through asyncpg's connection pool, for a fleet of workers.

Same contract as SQLite (the conformance suite runs on both). Many processes on
many machines share one database, so the schema is versioned in a
`schema_version` table, migrated under an advisory lock (workers starting
together take turns), and a database written by a newer plait is refused.

The URL is `postgresql://user@host:port/db`; a `schema=NAME` query parameter
keeps plait's tables in that schema (created if missing), which is how tests get
a fresh, isolated store each.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
from plait.store.codec import lenient_dumps, loads

if TYPE_CHECKING:
    import asyncpg

MIGRATION_LOCK = 0x706C6169  # "plai": one migrator at a time per database
POOL_MAX = 10


def migrations() -> list[tuple[int, str]]:
    """(version, SQL) for every PostgreSQL migration shipped with plait, in order."""
    folder = resources.files("plait.store") / "sql" / "postgres"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_url(url: str) -> tuple[str, str | None]:
    """The DSN for asyncpg and the `schema` query parameter (which asyncpg must not see)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresStore:
    """Runs in a PostgreSQL database; every `apply` batch is one transaction."""

    def __init__(self, url: str, *, pool_size: int = POOL_MAX) -> None:
        self.url = url
        self.dsn, self.schema = split_url(url)
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            import asyncpg
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs the asyncpg driver: pip install 'plait[postgres]'"
            ) from None
        settings = {"search_path": self.schema} if self.schema else {}
        try:
            if self.schema:
                conn = await asyncpg.connect(self.dsn)
                try:
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(self.schema)}")
                finally:
                    await conn.close()
            pool = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=self.pool_size, server_settings=settings
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"cannot open the store {self._where}: {exc}") from None
        try:
            async with pool.acquire() as conn:
                await self._migrate(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    @property
    def _where(self) -> str:
        parts = urlsplit(self.dsn)
        host = parts.hostname or "localhost"
        return f"postgresql://{host}:{parts.port or 5432}{parts.path}"

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        known = migrations()
        latest = known[-1][0]
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            current = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
            if current > latest:
                raise MigrationError(
                    f"the store {self._where} was written by a newer plait (schema version "
                    f"{current}; this plait knows up to {latest}): upgrade plait, or use "
                    "another store with --store"
                )
            for version, sql in known:
                if version > current:
                    await conn.execute(sql)
            if latest > current:
                await conn.execute("DELETE FROM schema_version")
                await conn.execute("INSERT INTO schema_version VALUES ($1)", latest)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is not open: call `await store.open()` first")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside one transaction; driver errors become `StoreError`."""
        import asyncpg

        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn
        except asyncpg.UniqueViolationError as exc:
            raise StoreError(f"{self._where}: {exc.detail or exc}") from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise StoreError(f"{self._where}: {exc}") from exc

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.transaction() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    # --- runs ------------------------------------------------------------------------

    async def create_run(self, run: RunRow) -> None:
        async with self.transaction() as conn:
            await insert_run(conn, run)

    async def get_run(self, run_id: str) -> RunRow:
        rows = await self._fetch("SELECT * FROM runs WHERE run_id = $1", run_id)
        if not rows:
            raise RunNotFoundError(f"no run {run_id!r} in {self._where}")
        return run_row(rows[0])

    async def list_runs(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RunRow]:
        where, params = _filters({"status": status, "workflow_id": workflow_id})
        n = len(params)
        rows = await self._fetch(
            f"SELECT * FROM runs{where} ORDER BY created_at DESC, run_id "
            f"LIMIT ${n + 1} OFFSET ${n + 2}",
            *params,
            limit,
            offset,
        )
        return [run_row(r) for r in rows]

    async def claim_run(self, run_id: str, *, owner: str, at: float, recovered: bool) -> None:
        async with self.transaction() as conn:
            done = await conn.execute(
                "UPDATE runs SET owner = $1, heartbeat_at = $2, updated_at = $2, "
                "status = 'running', control = NULL, recoveries = recoveries + $3 "
                "WHERE run_id = $4",
                owner,
                at,
                1 if recovered else 0,
                run_id,
            )
        if done.endswith(" 0"):
            raise RunNotFoundError(f"no run {run_id!r} in {self._where}")

    async def set_control(self, run_id: str, control: str | None) -> None:
        async with self.transaction() as conn:
            done = await conn.execute(
                "UPDATE runs SET control = $1, updated_at = $2 WHERE run_id = $3",
                control,
                time.time(),
                run_id,
            )
        if done.endswith(" 0"):
            raise RunNotFoundError(f"no run {run_id!r} in {self._where}")

    async def read_controls(self, run_ids: Sequence[str]) -> dict[str, str | None]:
        if not run_ids:
            return {}
        rows = await self._fetch(
            "SELECT run_id, control FROM runs WHERE run_id = ANY($1::text[])", list(run_ids)
        )
        return {r["run_id"]: r["control"] for r in rows}

    async def heartbeat(self, run_ids: Sequence[str], *, owner: str, at: float) -> None:
        if run_ids:
            async with self.transaction() as conn:
                await conn.execute(
                    "UPDATE runs SET heartbeat_at = $1 WHERE run_id = ANY($2::text[]) "
                    "AND owner = $3",
                    at,
                    list(run_ids),
                    owner,
                )

    # --- steps -----------------------------------------------------------------------

    async def apply(self, writes: Sequence[Write]) -> None:
        if writes:
            async with self.transaction() as conn:
                await apply_writes(conn, writes, self._where)

    async def get_steps(self, run_id: str) -> list[StepRow]:
        rows = await self._fetch(
            "SELECT * FROM steps WHERE run_id = $1 ORDER BY seq IS NULL, seq, pos", run_id
        )
        return [step_row(r) for r in rows]

    async def get_attempts(self, run_id: str) -> list[AttemptRow]:
        rows = await self._fetch(
            "SELECT * FROM attempts WHERE run_id = $1 ORDER BY started_at, step_id, attempt",
            run_id,
        )
        return [AttemptRow(**dict(r)) for r in rows]

    async def mark_crashed(self, run_id: str, step_ids: Sequence[str]) -> dict[str, int]:
        async with self.transaction() as conn:
            return await mark_crashed(conn, run_id, step_ids)

    async def copy_steps(self, from_run: str, to_run: str, step_ids: Sequence[str]) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO steps (run_id, step_id, status, attempts, result, error, "
                "error_type, inputs, started_at, finished_at, duration_s, reason, strategy, "
                "usage, agent, seq) "
                "SELECT $1, step_id, status, attempts, result, error, error_type, inputs, "
                "started_at, finished_at, duration_s, 'reused from run ' || $2, strategy, "
                "usage, agent, seq FROM steps WHERE run_id = $2 AND step_id = ANY($3::text[]) "
                "ORDER BY pos "
                "ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, "
                "attempts = excluded.attempts, result = excluded.result, "
                "error = excluded.error, error_type = excluded.error_type, "
                "inputs = excluded.inputs, started_at = excluded.started_at, "
                "finished_at = excluded.finished_at, duration_s = excluded.duration_s, "
                "reason = excluded.reason, strategy = excluded.strategy, "
                "usage = excluded.usage, agent = excluded.agent, seq = excluded.seq, crashes = 0",
                to_run,
                from_run,
                list(step_ids),
            )

    async def export(
        self, *, workflow_id: str | None = None, since: float | None = None
    ) -> tuple[list[RunRow], list[StepRow], list[AttemptRow]]:
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if workflow_id:
            params.append(workflow_id)
            where.append(f"r.workflow_id = ${len(params)}")
        if since is not None:
            params.append(since)
            where.append(f"r.created_at >= ${len(params)}")
        cond = " AND ".join(where)
        async with self.transaction() as conn:
            runs = await conn.fetch(f"SELECT * FROM runs r WHERE {cond}", *params)
            steps = await conn.fetch(
                f"SELECT s.* FROM steps s JOIN runs r USING (run_id) WHERE {cond}", *params
            )
            attempts = await conn.fetch(
                f"SELECT a.* FROM attempts a JOIN runs r USING (run_id) WHERE {cond}", *params
            )
        return (
            [run_row(r) for r in runs],
            [step_row(s) for s in steps],
            [AttemptRow(**dict(a)) for a in attempts],
        )

    # --- result cache ----------------------------------------------------------------

    async def cache_get(self, key: str) -> tuple[bool, Any, float]:
        rows = await self._fetch(
            "SELECT result, created_at, expires_at FROM cache WHERE key = $1", key
        )
        if not rows or (rows[0]["expires_at"] is not None and rows[0]["expires_at"] < time.time()):
            return False, None, 0.0
        return True, loads(rows[0]["result"]), rows[0]["created_at"]

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
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO cache (key, workflow_id, step_id, result, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET "
                "workflow_id = excluded.workflow_id, step_id = excluded.step_id, "
                "result = excluded.result, created_at = excluded.created_at, "
                "expires_at = excluded.expires_at",
                key,
                workflow_id,
                step_id,
                result_json,
                created_at,
                expires_at,
            )

    async def cache_clear(
        self, *, workflow_id: str | None = None, step_id: str | None = None
    ) -> int:
        where, params = _filters({"workflow_id": workflow_id, "step_id": step_id})
        async with self.transaction() as conn:
            done: str = await conn.execute(f"DELETE FROM cache{where}", *params)
        return int(done.rsplit(" ", 1)[1])

    # --- people ----------------------------------------------------------------------

    async def create_human_request(self, request: HumanRequest) -> None:
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO human_requests (run_id, step_id, prompt, data, assignees, status, "
                "created_at, expires_at, default_outcome) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                "ON CONFLICT (run_id, step_id) DO NOTHING",
                request.run_id,
                request.step_id,
                request.prompt,
                lenient_dumps(request.data),
                json.dumps(list(request.assignees)),
                request.status,
                request.created_at,
                request.expires_at,
                request.default_outcome,
            )

    async def get_human_request(self, run_id: str, step_id: str) -> HumanRequest | None:
        rows = await self._fetch(
            "SELECT * FROM human_requests WHERE run_id = $1 AND step_id = $2", run_id, step_id
        )
        return human_request(rows[0]) if rows else None

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
        async with self.transaction() as conn:
            row = await conn.fetchrow(
                "SELECT status FROM human_requests WHERE run_id = $1 AND step_id = $2 FOR UPDATE",
                run_id,
                step_id,
            )
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
            updated = await conn.fetchrow(
                "UPDATE human_requests SET status = $1, answer = $2, reason = $3, "
                "answered_by = $4, answered_at = $5 WHERE run_id = $6 AND step_id = $7 "
                "RETURNING *",
                status,
                lenient_dumps(answer),
                reason,
                by,
                at,
                run_id,
                step_id,
            )
        return human_request(updated)

    async def list_human_requests(self, *, status: str | None = "pending") -> list[HumanRequest]:
        where, params = _filters({"status": status})
        rows = await self._fetch(
            f"SELECT * FROM human_requests{where} ORDER BY created_at", *params
        )
        return [human_request(r) for r in rows]


# --- shared with the fleet's transactions ----------------------------------------------


async def insert_run(conn: asyncpg.Connection, run: RunRow) -> None:
    await conn.execute(
        "INSERT INTO runs (run_id, workflow_id, workflow_name, source, fingerprint, "
        "step_fingerprints, inputs, status, created_at, updated_at, owner, heartbeat_at, "
        "parent_run_id, rerun_from) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        run.run_id,
        run.workflow_id,
        run.workflow_name,
        run.source,
        run.fingerprint,
        json.dumps(dict(run.step_fingerprints)),
        lenient_dumps(run.inputs),
        run.status,
        run.created_at,
        run.updated_at,
        run.owner,
        run.heartbeat_at,
        run.parent_run_id,
        run.rerun_from,
    )


async def mark_crashed(
    conn: asyncpg.Connection, run_id: str, step_ids: Sequence[str]
) -> dict[str, int]:
    ids = list(step_ids)
    rows = await conn.fetch(
        "UPDATE steps SET crashes = crashes + 1, status = 'pending' "
        "WHERE run_id = $1 AND step_id = ANY($2::text[]) RETURNING step_id, crashes",
        run_id,
        ids,
    )
    await conn.execute(
        "UPDATE attempts SET outcome = 'crashed' WHERE run_id = $1 AND "
        "step_id = ANY($2::text[]) AND outcome = 'running'",
        run_id,
        ids,
    )
    return {r["step_id"]: r["crashes"] for r in rows}


async def apply_writes(conn: asyncpg.Connection, writes: Sequence[Write], where: str) -> None:
    """Apply a batch inside the caller's transaction; an unknown run refuses it whole."""
    run_ids = sorted({w.run_id for w in writes})
    found = await conn.fetch("SELECT run_id FROM runs WHERE run_id = ANY($1::text[])", run_ids)
    missing = set(run_ids) - {r["run_id"] for r in found}
    if missing:
        raise RunNotFoundError(f"no run {min(missing)!r} in {where}")
    for w in writes:
        if isinstance(w, AttemptStarted):
            await conn.execute(
                "INSERT INTO steps (run_id, step_id, status, attempts, inputs, started_at, "
                "agent, seq) VALUES ($1,$2,'running',$3,$4,$5,$6,$7) "
                "ON CONFLICT (run_id, step_id) DO UPDATE SET "
                "seq = COALESCE(excluded.seq, steps.seq), "
                "status = 'running', attempts = excluded.attempts, error = NULL, "
                "error_type = NULL, finished_at = NULL, duration_s = NULL, reason = '', "
                "inputs = COALESCE(excluded.inputs, steps.inputs), "
                "started_at = COALESCE(steps.started_at, excluded.started_at), "
                "agent = COALESCE(excluded.agent, steps.agent)",
                w.run_id,
                w.step_id,
                w.attempt,
                w.inputs_json,
                w.at,
                w.agent,
                w.seq,
            )
            await conn.execute(
                "INSERT INTO attempts (run_id, step_id, attempt, started_at, strategy) "
                "VALUES ($1,$2,$3,$4,$5) ON CONFLICT (run_id, step_id, attempt) DO UPDATE SET "
                "started_at = excluded.started_at, strategy = excluded.strategy, "
                "finished_at = NULL, outcome = 'running', error = NULL, error_type = NULL, "
                "retry_delay = NULL",
                w.run_id,
                w.step_id,
                w.attempt,
                w.at,
                w.strategy,
            )
        elif isinstance(w, StepSettled):
            await conn.execute(
                "INSERT INTO steps (run_id, step_id, status, attempts, result, error, "
                "error_type, finished_at, duration_s, reason, strategy) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
                "ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, "
                "attempts = excluded.attempts, result = excluded.result, "
                "error = excluded.error, error_type = excluded.error_type, "
                "finished_at = excluded.finished_at, duration_s = excluded.duration_s, "
                "reason = excluded.reason, strategy = excluded.strategy",
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
            )
            if w.attempts:
                await conn.execute(
                    "UPDATE attempts SET finished_at = $1, outcome = $2, error = $3, "
                    "error_type = $4 WHERE run_id = $5 AND step_id = $6 AND attempt = $7 "
                    "AND outcome = 'running'",
                    w.at,
                    w.status,
                    w.error,
                    w.error_type,
                    w.run_id,
                    w.step_id,
                    w.attempts,
                )
        elif isinstance(w, AttemptFailed):
            await conn.execute(
                "UPDATE attempts SET finished_at = $1, outcome = 'failed', error = $2, "
                "error_type = $3, retry_delay = $4 WHERE run_id = $5 AND step_id = $6 "
                "AND attempt = $7",
                w.at,
                w.error,
                w.error_type,
                w.delay,
                w.run_id,
                w.step_id,
                w.attempt,
            )
        elif isinstance(w, RunUpdated):
            await conn.execute(
                "UPDATE runs SET status = $1, updated_at = $2, error = COALESCE($3, error), "
                "failed_step = COALESCE($4, failed_step), output = COALESCE($5, output), "
                "duration_s = COALESCE($6, duration_s), "
                "finished_at = CASE WHEN $7 THEN $2 ELSE finished_at END, "
                "control = CASE WHEN $8 THEN NULL ELSE control END WHERE run_id = $9",
                w.status,
                w.at,
                w.error,
                w.failed_step,
                w.output_json,
                w.duration_s,
                w.finished,
                w.finished or w.status == "paused",
                w.run_id,
            )


def run_row(r: asyncpg.Record) -> RunRow:
    d = dict(r)
    d["step_fingerprints"] = json.loads(d["step_fingerprints"] or "{}")
    d["inputs"] = loads(d["inputs"]) or {}
    d["output"] = loads(d["output"])
    d["usage"] = loads(d["usage"])
    return RunRow(**d)


def step_row(r: asyncpg.Record) -> StepRow:
    d = dict(r)
    del d["pos"]
    d["result"] = loads(d["result"])
    d["inputs"] = loads(d["inputs"])
    d["usage"] = loads(d["usage"])
    return StepRow(**d)


def human_request(r: asyncpg.Record) -> HumanRequest:
    d = dict(r)
    d["data"] = loads(d["data"])
    d["assignees"] = tuple(json.loads(d["assignees"] or "[]"))
    d["answer"] = loads(d["answer"])
    return HumanRequest(**d)


def _filters(values: dict[str, Any]) -> tuple[str, list[Any]]:
    where, params = [], []
    for column, value in values.items():
        if value:
            params.append(value)
            where.append(f"{column} = ${len(params)}")
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
