"""The fleet's work queue in PostgreSQL: claims with leases, fenced commits, limits.

A ready step is one `fleet_tasks` row. A worker claims rows with
`FOR UPDATE SKIP LOCKED` (workers never wait on each other's claims), taking a
lease: a fresh token and an expiry in database time, so clocks of the workers'
machines do not matter. It renews the lease while the step runs; if it dies, the
lease runs out and another worker claims the row again. Every write a worker
makes for a claimed step checks the token in the same transaction, so a worker
that was frozen past its lease cannot commit a stale result (fencing).

Completing a step is one transaction: the run row is locked (completions of one
run take turns, so a step with two upstream steps finishing at once is queued
exactly once), the outcome is written, `progress.advance` says what follows, the
released steps are queued, the task row is deleted, and workers are woken by
NOTIFY, which PostgreSQL delivers at commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.errors import PlaitError
from plait.fleet.progress import Advance
from plait.store import postgres
from plait.store.base import RunRow, RunUpdated, StepRow, StoreError, Write
from plait.types import WorkflowStatus

if TYPE_CHECKING:
    import asyncpg

    from plait.graph import Plan
    from plait.store.postgres import PostgresStore


class LeaseLostError(PlaitError):
    """The worker no longer holds this step's lease: another worker took it over."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A step this worker holds: commit with `token`, before `lease_s` passes unrenewed."""

    run_id: str
    step_id: str
    token: int
    claims: int
    """How many times the step was claimed, this one included (more than one: a takeover)."""


def channel(store: PostgresStore) -> str:
    """The NOTIFY channel of this store (one per schema, so tests do not wake each other)."""
    return f"plait_fleet_{store.schema}" if store.schema else "plait_fleet"


def limit_scopes(plan: Plan) -> dict[str, int]:
    """Fleet-wide limits a workflow declares: per agent, and for all its runs together."""
    scopes = {f"agent:{agent}": n for agent, n in plan.agent_limits.items()}
    if plan.max_concurrency is not None:
        scopes[f"workflow:{plan.definition.workflow_id}"] = plan.max_concurrency
    return scopes


async def enqueue_run(store: PostgresStore, run: RunRow, plan: Plan, ready: Sequence[int]) -> None:
    """Create the run and queue its first steps, in one transaction."""
    async with store.transaction() as conn:
        await postgres.insert_run(conn, run)
        for scope, n in limit_scopes(plan).items():
            await conn.execute(
                "INSERT INTO fleet_limits (scope, max_running) VALUES ($1, $2) "
                "ON CONFLICT (scope) DO UPDATE SET max_running = excluded.max_running",
                scope,
                n,
            )
        await _queue(conn, store, run, plan, ready)


async def claim(
    store: PostgresStore, worker: str, n: int, lease_s: float
) -> tuple[list[Claim], float | None]:
    """Up to `n` steps for `worker`, and the seconds until the next lease anywhere expires."""
    async with store.transaction() as conn:
        picked = await conn.fetch(
            "SELECT run_id, step_id, workflow_id, agent FROM fleet_tasks "
            "WHERE state = 'claimed' AND lease_until < clock_timestamp() "
            "ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED",
            n,
        )
        picked += await conn.fetch(
            "SELECT run_id, step_id, workflow_id, agent FROM fleet_tasks "
            "WHERE state = 'queued' ORDER BY priority DESC, enqueued_at "
            "LIMIT $1 FOR UPDATE SKIP LOCKED",
            4 * n,  # extra candidates, in case some are held back by a limit
        )
        chosen = await _within_limits(conn, picked, n)
        claims = []
        if chosen:
            rows = await conn.fetch(
                "UPDATE fleet_tasks t SET state = 'claimed', worker = $3, claims = claims + 1, "
                "token = nextval('fleet_lease_token'), "
                "lease_until = clock_timestamp() + make_interval(secs => $4) "
                "FROM unnest($1::text[], $2::text[]) AS c (run_id, step_id) "
                "WHERE t.run_id = c.run_id AND t.step_id = c.step_id "
                "RETURNING t.run_id, t.step_id, t.token, t.claims",
                [r["run_id"] for r in chosen],
                [r["step_id"] for r in chosen],
                worker,
                lease_s,
            )
            claims = [Claim(r["run_id"], r["step_id"], r["token"], r["claims"]) for r in rows]
        next_expiry = await conn.fetchval(
            "SELECT EXTRACT(EPOCH FROM min(lease_until) - clock_timestamp())::float8 "
            "FROM fleet_tasks WHERE state = 'claimed'"
        )
    return claims, next_expiry


async def _within_limits(
    conn: asyncpg.Connection, picked: list[asyncpg.Record], n: int
) -> list[asyncpg.Record]:
    """The candidates that fit the fleet-wide limits, best first, at most `n`."""

    def scopes(r: asyncpg.Record) -> list[str]:
        out = [f"workflow:{r['workflow_id']}"]
        return [*out, f"agent:{r['agent']}"] if r["agent"] else out

    wanted = sorted({s for r in picked for s in scopes(r)})
    # Locking the limit rows makes claims in one scope take turns, so counts stay true.
    limits = {
        r["scope"]: r["max_running"]
        for r in await conn.fetch(
            "SELECT scope, max_running FROM fleet_limits WHERE scope = ANY($1::text[]) "
            "ORDER BY scope FOR UPDATE",
            wanted,
        )
    }
    room: dict[str, int] = {}
    for scope, most in limits.items():
        kind, _, name = scope.partition(":")
        column = "agent" if kind == "agent" else "workflow_id"
        running = await conn.fetchval(
            f"SELECT count(*) FROM fleet_tasks WHERE state = 'claimed' AND {column} = $1 "
            "AND lease_until >= clock_timestamp()",
            name,
        )
        room[scope] = most - running
    chosen: list[asyncpg.Record] = []
    for r in picked:
        if len(chosen) == n:
            break
        limited = [s for s in scopes(r) if s in room]
        if all(room[s] > 0 for s in limited):
            for s in limited:
                room[s] -= 1
            chosen.append(r)
    return chosen


async def renew(store: PostgresStore, claims: Sequence[Claim], lease_s: float) -> set[int]:
    """Extend the leases still held; returns the tokens that were lost."""
    if not claims:
        return set()
    tokens = [c.token for c in claims]
    async with store.transaction() as conn:
        # A row locked right now is being committed by this worker: skip it, never wait
        # (waiting here is how renewals and commits would deadlock).
        await conn.execute(
            "UPDATE fleet_tasks t SET lease_until = clock_timestamp() + make_interval(secs => $2) "
            "FROM (SELECT run_id, step_id FROM fleet_tasks WHERE token = ANY($1::bigint[]) "
            "AND state = 'claimed' FOR UPDATE SKIP LOCKED) AS h "
            "WHERE t.run_id = h.run_id AND t.step_id = h.step_id",
            tokens,
            lease_s,
        )
        held = await conn.fetch(
            "SELECT token FROM fleet_tasks WHERE token = ANY($1::bigint[])", tokens
        )
    return set(tokens) - {r["token"] for r in held}


async def release(store: PostgresStore, claims: Sequence[Claim]) -> None:
    """Give steps back unfinished (a graceful stop): queued again, no crash counted."""
    if not claims:
        return
    async with store.transaction() as conn:
        rows = await conn.fetch(
            "UPDATE fleet_tasks SET state = 'queued', token = NULL, worker = NULL, "
            "lease_until = NULL WHERE token = ANY($1::bigint[]) RETURNING run_id, step_id",
            [c.token for c in claims],
        )
        for r in rows:
            await conn.execute(
                "UPDATE steps SET status = 'pending' WHERE run_id = $1 AND step_id = $2 "
                "AND status = 'running'",
                r["run_id"],
                r["step_id"],
            )
            await conn.execute(
                "UPDATE attempts SET outcome = 'released' WHERE run_id = $1 AND step_id = $2 "
                "AND outcome = 'running'",
                r["run_id"],
                r["step_id"],
            )
        if rows:
            await conn.execute("SELECT pg_notify($1, '')", channel(store))


async def _hold(conn: asyncpg.Connection, c: Claim) -> None:
    held = await conn.fetchval(
        "SELECT 1 FROM fleet_tasks WHERE run_id = $1 AND step_id = $2 AND token = $3 "
        "AND state = 'claimed' FOR UPDATE",
        c.run_id,
        c.step_id,
        c.token,
    )
    if held is None:
        raise LeaseLostError(
            f"step {c.step_id!r} of run {c.run_id} was taken over by another worker "
            f"(lease {c.token} expired); its result is not recorded"
        )


async def apply_fenced(store: PostgresStore, c: Claim, writes: Sequence[Write]) -> None:
    """Apply writes for a claimed step only while the claim still holds its lease."""
    async with store.transaction() as conn:
        await _hold(conn, c)
        await postgres.apply_writes(conn, writes, store.url)


async def start(
    store: PostgresStore, c: Claim, crashed: bool, writes: Callable[[dict[str, int]], list[Write]]
) -> None:
    """Open the claimed step's attempt; a previous holder that died counts as a crash."""
    async with store.transaction() as conn:
        await _hold(conn, c)
        counts = await postgres.mark_crashed(conn, c.run_id, [c.step_id]) if crashed else {}
        batch = writes(counts)
        if batch:
            await postgres.apply_writes(conn, batch, store.url)


async def complete(
    store: PostgresStore,
    c: Claim,
    writes: Sequence[Write],
    plan: Plan,
    decide: Callable[[RunRow, dict[str, StepRow]], Advance],
) -> Advance | None:
    """Record a step's outcome and queue what it releases, fenced by the lease token.

    Returns what followed, or None when the run had already ended (a late step).
    """
    for attempt in range(1, TRANSIENT_TRIES + 1):
        try:
            return await _complete(store, c, writes, plan, decide)
        except StoreError as exc:
            if attempt == TRANSIENT_TRIES or not _transient(exc):
                raise
    raise AssertionError("unreachable")


async def _complete(
    store: PostgresStore,
    c: Claim,
    writes: Sequence[Write],
    plan: Plan,
    decide: Callable[[RunRow, dict[str, StepRow]], Advance],
) -> Advance | None:
    async with store.transaction() as conn:
        # NO KEY UPDATE: completions of one run take turns, while inserts of its steps
        # (which take KEY SHARE for the foreign key) are not blocked.
        run_rec = await conn.fetchrow(
            "SELECT * FROM runs WHERE run_id = $1 FOR NO KEY UPDATE", c.run_id
        )
        await _hold(conn, c)
        await postgres.apply_writes(conn, writes, store.url)
        await conn.execute(
            "DELETE FROM fleet_tasks WHERE run_id = $1 AND step_id = $2", c.run_id, c.step_id
        )
        notify = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM fleet_limits WHERE scope = ANY($1::text[]))",
            list(limit_scopes_of(plan, c.step_id)),
        )
        run = postgres.run_row(run_rec)
        advanced = None
        if not WorkflowStatus(run.status).is_terminal:
            rows = {
                r["step_id"]: postgres.step_row(r)
                for r in await conn.fetch("SELECT * FROM steps WHERE run_id = $1", c.run_id)
            }
            advanced = decide(run, rows)
            if advanced.writes:
                await postgres.apply_writes(conn, advanced.writes, store.url)
            if advanced.ended is not None:
                # Queued steps of an ended run never start; claimed ones finish as late steps.
                await conn.execute(
                    "DELETE FROM fleet_tasks WHERE run_id = $1 AND state = 'queued'", c.run_id
                )
            elif advanced.ready:
                notify = await _queue(conn, store, run, plan, advanced.ready, notify=False)
        if notify:
            await conn.execute("SELECT pg_notify($1, '')", channel(store))
    return advanced


TRANSIENT_TRIES = 5


async def fail_run(store: PostgresStore, c: Claim, error: str) -> None:
    """End a run that cannot go on (its workflow cannot be loaded): failed, queue emptied.

    Without this, the claimed step would be claimed again every lease period, forever.
    """
    async with store.transaction() as conn:
        await _hold(conn, c)
        await postgres.apply_writes(
            conn,
            [
                RunUpdated(
                    c.run_id,
                    "failed",
                    time.time(),
                    error=error,
                    failed_step=c.step_id,
                    finished=True,
                )
            ],
            store.url,
        )
        await conn.execute("DELETE FROM fleet_tasks WHERE run_id = $1", c.run_id)


def _transient(exc: StoreError) -> bool:
    """A deadlock or serialization failure: the transaction may simply be tried again."""
    return getattr(exc.__cause__, "sqlstate", None) in ("40P01", "40001")


def limit_scopes_of(plan: Plan, step_id: str) -> list[str]:
    cs = plan.steps[plan.index_of[step_id]]
    out = [f"workflow:{plan.definition.workflow_id}"]
    return [*out, f"agent:{cs.agent}"] if cs.agent else out


async def _queue(
    conn: asyncpg.Connection,
    store: PostgresStore,
    run: RunRow,
    plan: Plan,
    ready: Sequence[int],
    *,
    notify: bool = True,
) -> bool:
    """Queue steps once each (a step already queued or claimed stays as it is)."""
    if not ready:
        return False
    args: list[Any] = [
        [plan.ids[i] for i in ready],
        [plan.steps[i].agent for i in ready],
        [plan.priority[i] for i in ready],
    ]
    await conn.execute(
        "INSERT INTO fleet_tasks (run_id, step_id, workflow_id, agent, priority) "
        "SELECT $1, s, $2, a, p FROM unnest($3::text[], $4::text[], $5::int[]) AS r (s, a, p) "
        "ON CONFLICT (run_id, step_id) DO NOTHING",
        run.run_id,
        run.workflow_id,
        *args,
    )
    if notify:
        await conn.execute("SELECT pg_notify($1, '')", channel(store))
    return True
